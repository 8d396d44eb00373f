package integration

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The inetd-style servers: GNU inetutils ftpd and netkit ftpd (Debian's ftpd-ssl), unpacked by
// scripts/install-deps.sh under serversDir. They serve one session on the socket they are given as
// stdin, so ucspi-tcp's tcpserver listens for them and hands each connection over (socat's EXEC
// would hand over a pipe, and PASV needs the real socket). What sets them apart from the other
// kinds: they do not chroot. A user logs in to the home directory (PWD "/srv/ftpmounttest") with
// "/" the machine's root, so the test's directory is mounted by its path relative to the login
// directory (ftpServer.URLPath): ftp://host/t-inetutils-ftpd-NNN/. They list with /bin/ls
// (LIST only, modes as the server's umask makes them), and cannot set times (no MFMT).
var (
	inetutilsFtpdBin = filepath.Join(serversDir, "inetutils-ftpd/usr/sbin/ftpd")
	netkitFtpdBin    = filepath.Join(serversDir, "netkit-ftpd/usr/sbin/in.ftpd")
)

func startInetdProcess(t *testing.T, s *ftpServer) error {
	t.Helper()
	port, err := freePort()
	if err != nil {
		return err
	}
	dir := t.TempDir()
	serverLog := filepath.Join(dir, "tcpserver.log")
	out, err := openLog(serverLog)
	if err != nil {
		return err
	}
	defer out.Close()
	server := []string{inetutilsFtpdBin, "-l"}
	if baseKind(s.Kind) == "netkit-ftpd" {
		server = []string{netkitFtpdBin, "-l"}
	}
	// -v: log connections; -R, -H: no ident or DNS look-ups; -l 0: no local host name look-up.
	args := append([]string{"-v", "-R", "-H", "-l", "0", "127.0.0.1", strconv.Itoa(port)}, server...)
	cmd := exec.Command("tcpserver", args...)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = out, out
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.URLPath = filepath.Base(s.DataDir) + "/"
	s.logFiles = []string{serverLog}
	return s.launch(t, cmd, serverLog, "tcpserver -v -R -H -l 0 127.0.0.1 "+strconv.Itoa(port)+" ")
}

// TestInetdServers runs the shared suites that apply to servers that cannot set times (TestTools
// needs them: tar and rsync -a keep times) on inetutils and netkit ftpd, and checks the login
// directory (issue 11, item 1): the URL's path is relative to it, %2F makes it absolute, and what
// the mount creates lands there, not under the machine's "/".
func TestInetdServers(t *testing.T) {
	t.Parallel()
	forEachServerOf(t, inetdServerKinds, func(t *testing.T, kind string) {
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
	mp := mountSource(t, srv.ftpURL(), dirCacheFast)
	if got := sh(t, mp.Dir, "cat hello.txt; mkdir made; printf 'x' > made/f; ls"); got != "hi\nhello.txt\nmade\n" {
		t.Errorf("mounted %s: %q", srv.ftpURL(), got)
	}
	if b, err := os.ReadFile(filepath.Join(srv.DataDir, "made/f")); err != nil || string(b) != "x" {
		t.Errorf("mkdir and write through the mount: on the server %q, %v", b, err)
	}
	// %2F: an absolute path names the same directory.
	abs := strings.TrimSuffix(srv.ftpURL(), srv.URLPath) + "%2F" + strings.TrimPrefix(srv.DataDir, "/")
	mp2 := mountSource(t, abs, dirCacheFast)
	if got := sh(t, mp2.Dir, "ls"); got != "hello.txt\nmade\n" {
		t.Errorf("mounted %s: ls %q", abs, got)
	}
}
