package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// restart kills srv, listener and sessions alike, as a crash or a reboot would, leaves it down for
// down, and starts it again on the same ports with the same configuration and data (ftptest
// cannot come back on the same port).
func restart(t *testing.T, srv *ftpServer, down time.Duration) {
	t.Helper()
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(down)
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestFaultServerRestart: vsftpd is killed (listener and sessions) in the middle of a cat of a
// 200 MiB file and comes back on the same port 1 s later. cat either gives every byte or fails
// non-zero; the mount keeps working afterwards (ls, cat).
func TestFaultServerRestart(t *testing.T) {
	t.Parallel()
	srv := startVsftpd(t)
	const size = 200 << 20
	srv.sh(t, srv.DataDir, "head -c 200M /dev/urandom > big && echo small > small")
	want := fileSHA256(t, filepath.Join(srv.DataDir, "big"))
	logFile := filepath.Join(t.TempDir(), "ftpmount.log")
	mp := mount(t, srv, "timeout=5", "dir_cache=1", "debug", "logfile="+logFile,
		"spool_dir="+t.TempDir(), "recovery_dir="+t.TempDir())
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("FTPMOUNT_SHOW_LOG") != "" {
			t.Logf("ftpmount debug log %s, last lines:\n%s", logFile, harness.Tail(logFile, 100))
		}
	})

	// cat writes into a pipe that this test drains at about 50 MiB/s, so that the transfer is
	// still under way when the server goes.
	cmd := exec.Command("cat", filepath.Join(mp.Dir, "big"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr harness.LockedBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killer := time.AfterFunc(3*time.Minute, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer killer.Stop()

	type drained struct {
		n   int64
		sum string
		err error
	}
	reached := make(chan struct{})
	result := make(chan drained, 1)
	go func() {
		h := sha256.New()
		buf := make([]byte, 1<<20)
		var n int64
		for {
			m, err := io.ReadFull(stdout, buf)
			h.Write(buf[:m])
			if n < 40<<20 && n+int64(m) >= 40<<20 {
				close(reached)
			}
			n += int64(m)
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				result <- drained{n, hex.EncodeToString(h.Sum(nil)), nil}
				return
			}
			if err != nil {
				result <- drained{n, "", err}
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	select {
	case <-reached:
	case d := <-result:
		t.Fatalf("cat ended (%d bytes, %v) before 40 MiB had been read; stderr %q", d.n, d.err, stderr.String())
	}
	t.Logf("40 MiB read through cat: killing vsftpd")
	restart(t, srv, time.Second)
	t.Logf("vsftpd is back")

	d := <-result
	waitErr := cmd.Wait()
	timedOut := !killer.Stop()
	switch {
	case timedOut:
		t.Errorf("cat still running 3 min after it started (killed): %d bytes read", d.n)
	case waitErr != nil:
		t.Logf("cat failed (allowed, with a non-zero status): %v; %d of %d bytes; stderr %q", waitErr, d.n, size, stderr.String())
	case d.err != nil:
		t.Errorf("reading cat's output: %v", d.err)
	case d.n != size || d.sum != want:
		t.Errorf("cat exited 0 with %d bytes (sha256 %s), want %d bytes (sha256 %s)", d.n, d.sum, size, want)
	default:
		t.Logf("cat completed with every byte despite the restart")
	}

	// The mount still works: a new listing and new reads.
	r := try(cmdTimeout, mp.Dir, "ls")
	if wantSuccess(t, "ls after the restart", r) && strings.Join(strings.Fields(r.Stdout), " ") != "big small" {
		t.Errorf("ls after the restart: %q, want big and small", r.Stdout)
	}
	if r := try(cmdTimeout, mp.Dir, "cat small"); wantSuccess(t, "cat small after the restart", r) && r.Stdout != "small\n" {
		t.Errorf("cat small after the restart: %q", r.Stdout)
	}
	r = try(bigFileTimeout, mp.Dir, "set -o pipefail; cat big | sha256sum")
	if wantSuccess(t, "cat big after the restart", r) {
		if got := strings.Fields(r.Stdout); len(got) == 0 || got[0] != want {
			t.Errorf("cat big after the restart: sha256 %q, want %s", r.Stdout, want)
		}
	}
}

// fileSHA256 hashes a file on local disk.
func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
