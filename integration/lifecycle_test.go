package integration

import (
	"strings"
	"syscall"
	"testing"
)

// TestAutoUnmount kills the daemon of a mount made with -o auto_unmount: the mount must go away on
// its own instead of staying behind as a dead mount ("Transport endpoint is not connected").
func TestAutoUnmount(t *testing.T) {
	t.Parallel()
	srv := startVsftpd(t)
	m := mount(t, srv, "auto_unmount")
	sh(t, m.Dir, "ls")
	var daemon []process
	for _, p := range processesMatching(m.Dir) {
		if strings.Contains(p.cmdline, "ftpmount") && !strings.Contains(p.cmdline, "auto_unmount") {
			daemon = append(daemon, p)
		}
	}
	if len(daemon) != 1 {
		t.Fatalf("want one daemon for %s, found %v", m.Dir, daemon)
	}
	if err := syscall.Kill(daemon[0].pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the mount of the killed daemon to be removed", func() (bool, string) {
		return !isMounted(m.Dir), "still mounted"
	})
}
