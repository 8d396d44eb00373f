package integration

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestForegroundSignal runs ftpmount -f, writes and reads through it, sends SIGTERM and checks
// that the process unmounts and exits 0 within the limit, with the data on the server, having
// printed nothing but the line about the signal (logs are quiet by default).
func TestForegroundSignal(t *testing.T) {
	t.Parallel()
	srv := startVsftpd(t)
	srv.sh(t, srv.DataDir, "head -c 8M /dev/urandom > big.bin")
	dir := newMountDir(t)
	cmd := exec.Command(binary(t), srv.URL(), dir, "-f", "-o", dirCacheFast)
	var stderr harness.LockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		if harness.IsMounted(dir) {
			harness.AbortFUSE(dir)
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
		if !harness.IsMounted(dir) {
			os.Remove(dir)
		}
	})
	eventually(t, "the foreground mount to be ready", func() (bool, string) {
		return harness.IsMounted(dir), stderr.String()
	})
	sh(t, dir, "echo hello > fg.txt")
	// 1 MiB reads: go-fuse once logged a failed splice attempt for every one of them.
	sh(t, dir, "dd if=big.bin of=/dev/null bs=1M status=none")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("ftpmount -f after SIGTERM: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(exitWithin):
		t.Fatalf("ftpmount -f still running %v after SIGTERM; stderr:\n%s", exitWithin, stderr.String())
	}
	if harness.IsMounted(dir) {
		t.Error("still mounted after ftpmount -f exited")
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if line != "" && !strings.Contains(line, "unmounting") {
			t.Errorf("ftpmount -f printed %q; without -o debug it should only report the signal", line)
		}
	}
	b, err := os.ReadFile(srv.DataDir + "/fg.txt")
	if err != nil || strings.TrimSpace(string(b)) != "hello" {
		t.Errorf("server side fg.txt: %q, %v", b, err)
	}
}
