package integration

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mountFailTimeout bounds how long a mount that cannot succeed may take to say so.
const mountFailTimeout = 30 * time.Second

// TestMountFailures runs mounts that cannot work: each must exit non-zero within mountFailTimeout,
// explain why on stderr, and leave nothing mounted and no process behind.
func TestMountFailures(t *testing.T) {
	t.Parallel()
	requireEnv(t)

	t.Run("wrong_password", func(t *testing.T) {
		srv := startVsftpd(t)
		stderr := mountFails(t, ftpURL(srv.User, "not-"+srv.Password, srv.Addr), newMountDir(t))
		if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 {
			t.Errorf("stderr has %d lines, want one: %q", len(lines), stderr)
		}
	})

	t.Run("missing_mountpoint", func(t *testing.T) {
		srv := startVsftpd(t)
		dir := filepath.Join(t.TempDir(), "does-not-exist")
		stderr := mountFails(t, srv.ftpURL(), dir)
		if !strings.Contains(stderr, dir) {
			t.Errorf("stderr %q does not name the missing mount point %s", stderr, dir)
		}
	})

	t.Run("nothing_listening", func(t *testing.T) {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		stderr := mountFails(t, ftpURL(ftpUser, ftpPassword, addr), newMountDir(t))
		if !strings.Contains(stderr, addr) && !strings.Contains(strings.ToLower(stderr), "refused") {
			t.Errorf("stderr %q names neither %s nor the refused connection", stderr, addr)
		}
	})
}

// newMountDir makes an empty directory to mount on; mountFails cleans it up.
func newMountDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ftpmount-mnt-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// mountFails runs ftpmount SOURCE DIR [-o opts], which must fail: non-zero exit within
// mountFailTimeout, something on stderr, nothing mounted on dir, no process left. It returns
// stderr.
func mountFails(t *testing.T, source, dir string, opts ...string) string {
	t.Helper()
	m := &mountPoint{Dir: dir}
	t.Cleanup(func() { m.unmount(t) }) // in case it mounted after all
	r := runFtpmount(t, mountFailTimeout, source, dir, opts...)
	switch {
	case r.timedOut:
		t.Fatalf("still running after %v: %v", mountFailTimeout, r)
	case r.err == nil:
		t.Fatalf("exited 0, want a failure: %v", r)
	}
	t.Logf("ftpmount failed as it should: %v; stderr: %q", r.err, r.stderr)
	if strings.TrimSpace(r.stderr) == "" {
		t.Errorf("nothing on stderr: %v", r)
	}
	if isMounted(dir) {
		t.Errorf("%s is mounted though ftpmount failed", dir)
	}
	if left := waitNoProcess(dir, exitWithin); len(left) > 0 {
		t.Errorf("ftpmount failed but left processes running: %v", left)
	}
	return r.stderr
}
