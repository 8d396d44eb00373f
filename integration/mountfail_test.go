package integration

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestMountFailures runs mounts that cannot work: each must exit non-zero within mountFailTimeout,
// explain why on stderr, and leave nothing mounted and no process behind.
func TestMountFailures(t *testing.T) {
	t.Parallel()
	requireEnv(t)

	t.Run("wrong_password", func(t *testing.T) {
		srv := startVsftpd(t)
		stderr := mountFails(t, harness.URL(srv.User, "not-"+srv.Password, srv.Addr), newMountDir(t))
		if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 {
			t.Errorf("stderr has %d lines, want one: %q", len(lines), stderr)
		}
	})

	t.Run("missing_mountpoint", func(t *testing.T) {
		srv := startVsftpd(t)
		dir := filepath.Join(t.TempDir(), "does-not-exist")
		stderr := mountFails(t, srv.URL(), dir)
		if !strings.Contains(stderr, dir) {
			t.Errorf("stderr %q does not name the missing mount point %s", stderr, dir)
		}
	})

	t.Run("nothing_listening", func(t *testing.T) {
		port, err := harness.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		stderr := mountFails(t, harness.URL(harness.User, harness.Password, addr), newMountDir(t))
		if !strings.Contains(stderr, addr) && !strings.Contains(strings.ToLower(stderr), "refused") {
			t.Errorf("stderr %q names neither %s nor the refused connection", stderr, addr)
		}
	})
}
