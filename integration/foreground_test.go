package integration

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestForegroundSignal runs ftpmount -f, writes through it, sends SIGTERM and checks that the
// process unmounts and exits 0 within the limit, with the data on the server.
func TestForegroundSignal(t *testing.T) {
	t.Parallel()
	srv := startVsftpd(t)
	dir := newMountDir(t)
	cmd := exec.Command(binary(t), srv.ftpURL(), dir, "-f", "-o", dirCacheFast)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		if isMounted(dir) {
			abortFUSE(dir)
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
		if !isMounted(dir) {
			os.Remove(dir)
		}
	})
	eventually(t, "the foreground mount to be ready", func() (bool, string) {
		return isMounted(dir), stderr.String()
	})
	sh(t, dir, "echo hello > fg.txt")
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
	if isMounted(dir) {
		t.Error("still mounted after ftpmount -f exited")
	}
	b, err := os.ReadFile(srv.DataDir + "/fg.txt")
	if err != nil || strings.TrimSpace(string(b)) != "hello" {
		t.Errorf("server side fg.txt: %q, %v", b, err)
	}
}
