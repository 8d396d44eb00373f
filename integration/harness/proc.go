package harness

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is a running process found by its command line.
type Process struct {
	PID     int
	Cmdline string // its arguments joined by spaces
}

// ProcessesMatching lists the processes (other than this one) with substr in their command line,
// by scanning /proc. substr is matched against the raw command line, whose arguments are separated
// by NUL bytes: "a\x00b" finds the arguments a and b in a row. Mount points and configuration paths
// are unique per test, so this finds exactly the ftpmount or server processes a test started,
// daemonized or not. An empty substr finds nothing.
func ProcessesMatching(substr string) []Process {
	if substr == "" {
		return nil // would be every process
	}
	var found []Process
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
		found = append(found, Process{pid, strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))})
	}
	return found
}

// KillMatching sends SIGKILL to every process ProcessesMatching(substr) finds.
func KillMatching(substr string) {
	for _, p := range ProcessesMatching(substr) {
		syscall.Kill(p.PID, syscall.SIGKILL)
	}
}

// KillAllMatching SIGKILLs the processes matching substr until none is left (a listener may fork
// meanwhile), and fails when some are still there after limit.
func KillAllMatching(substr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		left := ProcessesMatching(substr)
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes still alive %v after SIGKILL: %v", limit, left)
		}
		KillMatching(substr)
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitNoProcess waits (up to limit) until no process has substr in its command line, and
// returns the ones still there.
func WaitNoProcess(substr string, limit time.Duration) []Process {
	deadline := time.Now().Add(limit)
	for {
		left := ProcessesMatching(substr)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// KillTree stops the process root and all its descendants, then kills them all: servers fork a
// process per session, and some of those leave the server's process group.
func KillTree(root int) {
	tree := map[int]bool{root: true}
	syscall.Kill(root, syscall.SIGSTOP)
	for grown := true; grown; {
		grown = false
		for pid, ppid := range parentPIDs() {
			if tree[ppid] && !tree[pid] {
				tree[pid] = true
				syscall.Kill(pid, syscall.SIGSTOP) // no more forks
				grown = true
			}
		}
	}
	for pid := range tree {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// parentPIDs maps each running process to its parent, from /proc/PID/stat.
func parentPIDs() map[int]int {
	parents := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if ppid, _, ok := statFields(b); ok {
			parents[pid] = ppid
		}
	}
	return parents
}

// statFields reads the parent and the state of a /proc/PID/stat line: "pid (comm) state ppid ...",
// where comm may hold spaces and parentheses.
func statFields(b []byte) (ppid int, state string, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, "", false
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 2 {
		return 0, "", false
	}
	ppid, err := strconv.Atoi(fields[1])
	return ppid, fields[0], err == nil
}

// ProcessAlive reports whether pid exists and is not a zombie.
func ProcessAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	if _, state, ok := statFields(b); ok {
		return state != "Z"
	}
	return true
}
