package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestInetdServers runs the shared suites that apply to servers that cannot set times (TestTools
// needs them: tar and rsync -a keep times) on inetutils and netkit ftpd (harness/inetd.go: they do not chroot), and checks the login
// directory (issue 11, item 1): the URL's path is relative to it, %2F makes it absolute, and what
// the mount creates lands there, not under the machine's "/".
func TestInetdServers(t *testing.T) {
	t.Parallel()
	forEachServerOf(t, harness.InetdKinds, func(t *testing.T, kind string) {
		t.Run("harness", func(t *testing.T) { testHarness(t, kind) })
		t.Run("read", func(t *testing.T) { testRead(t, newFixture(t, kind, dirCacheFast)) })
		t.Run("write", func(t *testing.T) { testWrite(t, newFixture(t, kind, dirCacheFast)) })
		t.Run("namespace", func(t *testing.T) { testNamespace(t, newFixture(t, kind, dirCacheFast)) })
		t.Run("login_dir", func(t *testing.T) { testLoginDir(t, kind) })
	})
}

func testLoginDir(t *testing.T, kind string) {
	srv := startServer(t, kind)
	srv.sh(t, srv.DataDir, "printf 'hi\\n' > hello.txt")
	mp := mountSource(t, srv.URL(), dirCacheFast)
	if got := sh(t, mp.Dir, "cat hello.txt; mkdir made; printf 'x' > made/f; ls"); got != "hi\nhello.txt\nmade\n" {
		t.Errorf("mounted %s: %q", srv.URL(), got)
	}
	if b, err := os.ReadFile(filepath.Join(srv.DataDir, "made/f")); err != nil || string(b) != "x" {
		t.Errorf("mkdir and write through the mount: on the server %q, %v", b, err)
	}
	// No path: the login directory itself (harness.Home), not the machine's "/"; what the mount
	// makes there lands in the home directory.
	base := strings.TrimSuffix(srv.URL(), srv.URLPath)
	top := strings.TrimSuffix(srv.URLPath, "/")
	mp0 := mountSource(t, base, dirCacheFast)
	made := top + "-made-at-login-dir"
	if got := sh(t, mp0.Dir, "test -d "+q(top)+" && test -f "+q(top)+"/hello.txt && ! test -e etc && ! test -e proc && mkdir "+q(made)+" && echo ok"); got != "ok\n" {
		t.Errorf("mounted %s: %q, want the login directory (holding %s, not etc or proc)", base, got, top)
	}
	if st, err := os.Stat(filepath.Join(harness.Home, made)); err != nil || !st.IsDir() {
		t.Errorf("mkdir at the root of %s: not in the login directory %s: %v", base, harness.Home, err)
	}
	sh(t, mp0.Dir, "rmdir "+q(made))
	// %2F: an absolute path names the same directory.
	abs := strings.TrimSuffix(srv.URL(), srv.URLPath) + "%2F" + strings.TrimPrefix(srv.DataDir, "/")
	mp2 := mountSource(t, abs, dirCacheFast)
	if got := sh(t, mp2.Dir, "ls"); got != "hello.txt\nmade\n" {
		t.Errorf("mounted %s: ls %q", abs, got)
	}
}
