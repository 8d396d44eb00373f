package integration

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestHarness checks the test servers themselves, without ftpmount: curl lists, downloads and
// uploads through each server as startServer configures it (over TLS, trusting the test CA, for
// the TLS kinds), so that a failure elsewhere is ftpmount's.
func TestHarness(t *testing.T) {
	t.Parallel()
	forEachServer(t, testHarness)
}

func testHarness(t *testing.T, kind string) {
	srv := startServer(t, kind)
	srv.sh(t, srv.DataDir, "printf 'from the server\\n' > hello.txt")

	if list := srv.client(t, "list"); !strings.Contains(list, "hello.txt") {
		t.Errorf("listing /: %q lacks hello.txt", list)
	}
	if got := srv.client(t, "get", "hello.txt"); got != "from the server\n" {
		t.Errorf("download: %q", got)
	}
	up := filepath.Join(t.TempDir(), "up.txt")
	if err := os.WriteFile(up, []byte("uploaded\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv.client(t, "put", up, "up.txt")
	got, err := os.ReadFile(filepath.Join(srv.DataDir, "up.txt"))
	if err != nil || string(got) != "uploaded\n" {
		t.Errorf("upload: server side has %q, %v", got, err)
	}
	// The servers write as the logged-in user: server-side fixtures are made as that user too.
	if fi, err := os.Stat(filepath.Join(srv.DataDir, "up.txt")); err == nil {
		if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != srv.Cred.Uid {
			t.Errorf("uploaded file owned by uid %d, want %s's %d", uid, srv.User, srv.Cred.Uid)
		}
	}
}

// client runs an FTP client other than ftpmount against s: "list" prints the names in /, "get NAME"
// prints a file of /, "put LOCAL NAME" uploads LOCAL as /NAME. It is curl, trusting the test CA on
// the TLS kinds, except on pyftpdlib-tls: curl starts a data connection's TLS handshake as soon as
// it connects, before the LIST or RETR, and pyftpdlib closes such a connection (curl then fails
// with "Bad PASV/EPSV response: 200"); Python's ftplib, which sends the command first, is used
// there.
func (s *ftpServer) client(t *testing.T, action string, args ...string) string {
	t.Helper()
	if s.Kind == "pyftpdlib-tls" {
		host, port, _ := net.SplitHostPort(s.Addr)
		argv := append([]string{harness.PythonWithPyftpdlib, "-c", ftplibClient, host, port, s.User, s.Password,
			s.CAFile, action}, args...)
		script := ""
		for _, a := range argv {
			script += q(a) + " "
		}
		return sh(t, "/", script)
	}
	opts, base := s.CurlArgs()
	curl := "curl -sS --max-time 30"
	for _, o := range opts {
		curl += " " + q(o)
	}
	switch action {
	case "list":
		return sh(t, "/", curl+" "+q(base))
	case "get":
		return sh(t, "/", curl+" "+q(base+args[0]))
	case "put":
		return sh(t, "/", curl+" -T "+q(args[0])+" "+q(base+args[1]))
	}
	t.Fatalf("client: unknown action %q", action)
	return ""
}

// ftplibClient is client's FTPS client for pyftpdlib-tls. Arguments: host, port, user, password, CA
// file, then the action and its arguments.
const ftplibClient = `
import ftplib, ssl, sys
host, port, user, password, cafile, action = sys.argv[1:7]
args = sys.argv[7:]
ftp = ftplib.FTP_TLS(context=ssl.create_default_context(cafile=cafile), timeout=30)
ftp.connect(host, int(port))
ftp.login(user, password)
ftp.prot_p()
if action == "list":
    print("\n".join(ftp.nlst()))
elif action == "get":
    ftp.retrbinary("RETR " + args[0], sys.stdout.buffer.write)
elif action == "put":
    with open(args[0], "rb") as f:
        ftp.storbinary("STOR " + args[1], f)
else:
    sys.exit("unknown action " + action)
ftp.quit()
`
