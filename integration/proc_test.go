package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// process is a running process found by its command line.
type process struct {
	pid     int
	cmdline string
}

// processesMatching lists the processes (other than this test binary) with an argument containing
// substr, by scanning /proc: mount points and config paths are unique per test, so this finds exactly
// the ftpmount or vsftpd processes a test started, daemonized or not.
func processesMatching(substr string) []process {
	var found []process
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte(substr)) {
			continue
		}
		found = append(found, process{pid, strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))})
	}
	return found
}

// killMatching sends SIGKILL to every process processesMatching(substr) finds.
func killMatching(substr string) {
	for _, p := range processesMatching(substr) {
		syscall.Kill(p.pid, syscall.SIGKILL)
	}
}
