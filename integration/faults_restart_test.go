package integration

import (
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
)

// restartable is a private vsftpd (started by the harness) that a test can kill, listener and
// sessions alike, and start again on the same port with the same configuration and data: ftptest
// cannot come back on the same port.
type restartable struct {
	srv  *ftpServer
	conf string // vsftpd's configuration file, also what its processes are found by
	dir  string // the directory of conf and the server's logs
}

// startRestartableVsftpd starts a vsftpd with startVsftpd and finds its configuration file.
func startRestartableVsftpd(t *testing.T) *restartable {
	t.Helper()
	srv := startVsftpd(t)
	if len(srv.logFiles) == 0 {
		t.Fatal("restart: the harness records no vsftpd log, so its configuration cannot be found")
	}
	dir := filepath.Dir(srv.logFiles[0])
	conf := filepath.Join(dir, "vsftpd.conf")
	if _, err := os.Stat(conf); err != nil {
		t.Fatalf("restart: vsftpd's configuration is not beside its log any more: %v", err)
	}
	if len(processesMatching(conf)) == 0 {
		t.Fatalf("restart: no process runs vsftpd with %s", conf)
	}
	return &restartable{srv: srv, conf: conf, dir: dir}
}

// kill SIGKILLs the listener and every session process, as a crash or a reboot would, and waits
// until none is left.
func (v *restartable) kill(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := processesMatching(v.conf)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("vsftpd processes still alive 10 s after SIGKILL: %v", left)
		}
		killMatching(v.conf) // again: the listener may have forked meanwhile
		time.Sleep(20 * time.Millisecond)
	}
}

// start runs vsftpd again with the same configuration (same port, passive range and data) and
// waits for its greeting. Its stop is registered with t.Cleanup by launch.
func (v *restartable) start(t *testing.T) {
	t.Helper()
	bin, err := findTool("vsftpd")
	if err != nil {
		t.Fatal(err)
	}
	errPath := filepath.Join(v.dir, "vsftpd-restart.stdin")
	for attempt := 1; ; attempt++ {
		errFile, err := openLog(errPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, v.conf)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = errFile, errFile, errFile
		err = v.srv.launch(t, cmd, errPath, v.conf)
		errFile.Close()
		if err == nil {
			return
		}
		// The port may linger for a moment after the kill.
		if attempt == 20 || !(strings.Contains(err.Error(), "bind") || strings.Contains(err.Error(), "in use")) {
			t.Fatalf("restarting vsftpd: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// restart kills the server, leaves it down for down, and starts it again.
func (v *restartable) restart(t *testing.T, down time.Duration) {
	t.Helper()
	v.kill(t)
	time.Sleep(down)
	v.start(t)
}

// TestFaultServerRestart: vsftpd is killed (listener and sessions) in the middle of a cat of a
// 200 MiB file and comes back on the same port 1 s later. cat either gives every byte or fails
// non-zero; the mount keeps working afterwards (ls, cat).
func TestFaultServerRestart(t *testing.T) {
	t.Parallel()
	v := startRestartableVsftpd(t)
	const size = 200 << 20
	v.srv.sh(t, v.srv.DataDir, "head -c 200M /dev/urandom > big && echo small > small")
	want := fileSHA256(t, filepath.Join(v.srv.DataDir, "big"))
	logFile := filepath.Join(t.TempDir(), "ftpmount.log")
	mp := mount(t, v.srv, "timeout=5", "dir_cache=1", "debug", "logfile="+logFile,
		"spool_dir="+t.TempDir(), "recovery_dir="+t.TempDir())
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("FTPMOUNT_SHOW_LOG") != "" {
			t.Logf("ftpmount debug log %s, last lines:\n%s", logFile, tail(logFile, 100))
		}
	})

	// cat writes into a pipe that this test drains at about 50 MiB/s, so that the transfer is
	// still under way when the server goes.
	cmd := exec.Command("cat", filepath.Join(mp.Dir, "big"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr lockedBuffer
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
	v.restart(t, time.Second)
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
	if wantSuccess(t, "ls after the restart", r) && strings.Join(strings.Fields(r.stdout), " ") != "big small" {
		t.Errorf("ls after the restart: %q, want big and small", r.stdout)
	}
	if r := try(cmdTimeout, mp.Dir, "cat small"); wantSuccess(t, "cat small after the restart", r) && r.stdout != "small\n" {
		t.Errorf("cat small after the restart: %q", r.stdout)
	}
	r = try(bigFileTimeout, mp.Dir, "set -o pipefail; cat big | sha256sum")
	if wantSuccess(t, "cat big after the restart", r) {
		if got := strings.Fields(r.stdout); len(got) == 0 || got[0] != want {
			t.Errorf("cat big after the restart: sha256 %q, want %s", r.stdout, want)
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
