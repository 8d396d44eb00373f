package integration

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestAutoUnmount kills the daemon of a mount made with -o auto_unmount: the mount must go away on
// its own instead of staying behind as a dead mount ("Transport endpoint is not connected").
func TestAutoUnmount(t *testing.T) {
	t.Parallel()
	srv := startVsftpd(t)
	m := mount(t, srv, "auto_unmount")
	sh(t, m.Dir, "ls")
	var daemon []harness.Process
	for _, p := range harness.ProcessesMatching(m.Dir) {
		if strings.Contains(p.Cmdline, "ftpmount") && !strings.Contains(p.Cmdline, "auto_unmount") {
			daemon = append(daemon, p)
		}
	}
	if len(daemon) != 1 {
		t.Fatalf("want one daemon for %s, found %v", m.Dir, daemon)
	}
	if err := syscall.Kill(daemon[0].PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the mount of the killed daemon to be removed", func() (bool, string) {
		return !harness.IsMounted(m.Dir), "still mounted"
	})
}

// startForeground runs ftpmount -f SOURCE DIR -o opts with extra environment, and returns the
// command, its stderr and a channel that gets its exit. Cleanup kills it and removes the mount.
func startForeground(t *testing.T, source, dir string, env []string, opts ...string) (*exec.Cmd, *harness.LockedBuffer, chan error) {
	t.Helper()
	cmd := exec.Command(binary(t), source, dir, "-f", "-o", strings.Join(opts, ","))
	cmd.Env = append(os.Environ(), env...)
	stderr := &harness.LockedBuffer{}
	cmd.Stderr = stderr
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
	return cmd, stderr, exited
}

// TestStopShowsUploads stops a foreground mount (SIGTERM) while an upload hangs: the command must
// say which upload it waits for and how far it is, then exit once that upload has ended (here:
// failed by the timeout).
func TestStopShowsUploads(t *testing.T) {
	t.Parallel()
	requireEnv(t)
	s := ftptest.Start(t, ftptest.Options{})
	p := ftptest.StartProxy(t, s.Addr, ftptest.TransferFaults{Upload: func(path string, _ int64) *ftptest.Cut {
		if strings.Contains(path, "big.bin") { // uploads go to a temporary name beside it
			return &ftptest.Cut{After: 1 << 20, Stall: true}
		}
		return nil
	}})
	dir := newMountDir(t)
	cmd, stderr, exited := startForeground(t, harness.URL("test", "secret", p.Addr), dir, nil,
		"timeout=8", "spool_dir="+t.TempDir(), "recovery_dir="+t.TempDir())
	eventually(t, "the foreground mount to be ready", func() (bool, string) { return harness.IsMounted(dir), stderr.String() })
	local := filepath.Join(t.TempDir(), "big.bin")
	randomFile(t, local, 3<<20)
	go try(cmdTimeout, "/", "cp "+q(local)+" "+q(filepath.Join(dir, "big.bin")))
	eventually(t, "the upload to start", func() (bool, string) {
		r := command(cmdTimeout, "/", nil, binary(t), "status", dir)
		return strings.Contains(r.Stdout, "sending /big.bin"), r.String()
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the stopping command to show the upload it waits for", func() (bool, string) {
		out := stderr.String()
		return strings.Contains(out, "waiting for 1 upload(s) before exiting: /big.bin ") && strings.Contains(out, " of 3.0 MiB"), out
	})
	select {
	case <-exited:
	case <-time.After(cmdTimeout):
		t.Fatalf("ftpmount -f did not exit after the upload ended; stderr:\n%s", stderr.String())
	}
	t.Logf("stderr:\n%s", stderr.String())
}

// TestSystemdNotify runs ftpmount -f as systemd would run a Type=notify service: it must send
// READY=1 on $NOTIFY_SOCKET once the mount answers, and STOPPING=1 on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	t.Parallel()
	srv := startVsftpd(t)
	sock := filepath.Join(t.TempDir(), "notify.sock")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 4)
	go func() {
		buf := make([]byte, 512)
		for {
			n, _, err := ln.ReadFromUnix(buf)
			if err != nil {
				return
			}
			got <- string(buf[:n])
		}
	}()
	dir := newMountDir(t)
	cmd, stderr, exited := startForeground(t, srv.URL(), dir, []string{"NOTIFY_SOCKET=" + sock}, dirCacheFast)
	select {
	case msg := <-got:
		if msg != "READY=1" {
			t.Errorf("first notification %q, want READY=1", msg)
		}
		if !harness.IsMounted(dir) {
			t.Error("READY=1 came before the mount")
		}
	case <-time.After(cmdTimeout):
		t.Fatalf("no READY=1; stderr:\n%s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case msg := <-got:
		if msg != "STOPPING=1" {
			t.Errorf("notification after SIGTERM %q, want STOPPING=1", msg)
		}
	case <-time.After(cmdTimeout):
		t.Error("no STOPPING=1 after SIGTERM")
	}
	if err := <-exited; err != nil {
		t.Errorf("ftpmount -f after SIGTERM: %v; stderr:\n%s", err, stderr.String())
	}
}

// TestDaemonEnvironment: the background process runs from / (it holds no directory busy) and its
// environment has no FTPMOUNT_PASSWORD, though the password came from there.
func TestDaemonEnvironment(t *testing.T) {
	t.Parallel()
	srv := startVsftpd(t)
	dir := newMountDir(t)
	m := &mountPoint{Dir: dir}
	t.Cleanup(func() { m.unmount(t) })
	cwd := t.TempDir()
	r := command(cmdTimeout, cwd, nil, "env", "FTPMOUNT_PASSWORD="+srv.Password, binary(t),
		"ftp://"+srv.User+"@"+srv.Addr+"/", dir)
	if r.Err != nil {
		t.Fatalf("mount: %v", r)
	}
	var found bool
	for _, p := range harness.ProcessesMatching(dir) {
		env, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.PID), "environ"))
		if err != nil || !strings.Contains(p.Cmdline, "ftpmount") {
			continue
		}
		found = true
		if strings.Contains(string(env), "FTPMOUNT_PASSWORD") || strings.Contains(string(env), srv.Password) {
			t.Errorf("the daemon's environment has the password: %q", p.Cmdline)
		}
		if wd, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(p.PID), "cwd")); wd != "/" {
			t.Errorf("the daemon runs in %q, want /", wd)
		}
	}
	if !found {
		t.Fatal("no daemon found")
	}
}

// TestPasswordPrompt: a URL with a user and no password anywhere, run on a terminal (script(1)
// gives it one), asks for the password without echoing it and mounts with it.
func TestPasswordPrompt(t *testing.T) {
	t.Parallel()
	requireEnv(t, "script")
	srv := startVsftpd(t)
	srv.sh(t, srv.DataDir, "echo x > p.txt")
	dir := newMountDir(t)
	m := &mountPoint{Dir: dir}
	t.Cleanup(func() { m.unmount(t) })
	inner := q(binary(t)) + " " + q("ftp://"+srv.User+"@"+srv.Addr+"/") + " " + q(dir) + " -o netrc=/dev/null"
	r := try(cmdTimeout, "/", "printf '%s\\n' "+q(srv.Password)+" | script -qec "+q(inner)+" /dev/null")
	if r.Err != nil {
		t.Fatalf("mount on a terminal: %v", r)
	}
	if !strings.Contains(r.Stdout, "Password for "+srv.User+"@127.0.0.1:") {
		t.Errorf("no prompt on the terminal: %q", r.Stdout)
	}
	if strings.Count(r.Stdout, srv.Password) > 1 { // script(1) shows the typed line once, as input
		t.Errorf("the password was echoed: %q", r.Stdout)
	}
	if got := sh(t, dir, "cat p.txt"); got != "x\n" {
		t.Errorf("through the mount: %q", got)
	}
}
