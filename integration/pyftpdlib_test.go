package integration

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// pythonWithPyftpdlib is Debian's python, the one that can import python3-pyftpdlib (another
// python3 may come first on PATH).
const pythonWithPyftpdlib = "/usr/bin/python3"

// pyftpdlibTLSServer is what python3 -m pyftpdlib -w -D runs, with pyftpdlib's TLS_FTPHandler
// requiring TLS on control and data connections (pyftpdlib cannot do implicit TLS). It logs each
// handshake's TLS version and cipher, and whether a data connection resumed a session (pyftpdlib
// does not require it). Arguments: port, passive range low and high, directory, user, password,
// certificate, key.
const pyftpdlibTLSServer = `
import logging, sys
from OpenSSL._util import lib as ssllib
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_DTPHandler, TLS_FTPHandler
from pyftpdlib.log import config_logging, logger
from pyftpdlib.servers import FTPServer

port, lo, hi, root, user, password, cert, key = sys.argv[1:9]

def tls_log(what, conn):
    s = conn.socket
    logger.info("%s TLS established: %s %s, session reused: %s", what, s.get_protocol_version_name(),
                s.get_cipher_name(), bool(ssllib.SSL_session_reused(s._ssl)))

class DTP(TLS_DTPHandler):
    def handle_ssl_established(self):
        tls_log("data", self)

class Handler(TLS_FTPHandler):
    dtp_handler = DTP
    certfile, keyfile = cert, key
    tls_control_required = True
    tls_data_required = True
    passive_ports = range(int(lo), int(hi) + 1)
    def handle_ssl_established(self):
        tls_log("control", self)

config_logging(level=logging.DEBUG)
auth = DummyAuthorizer()
auth.add_user(user, password, root, perm="elradfmwMT")
Handler.authorizer = auth
FTPServer(("127.0.0.1", int(port)), Handler).serve_forever()
`

// startPyftpdlibProcess runs pyftpdlib 1.5.7's own server (python3 -m pyftpdlib) on fresh ports,
// as the FTP user, with that user and password and write access to the data directory, until it
// greets with 220 (see serverStarters). -D logs every command and reply.
func startPyftpdlibProcess(t *testing.T, s *ftpServer) error {
	t.Helper()
	port, err := freePort()
	if err != nil {
		return err
	}
	lo, hi, err := freePortRange(50)
	if err != nil {
		return err
	}
	dir := t.TempDir()
	serverLog := filepath.Join(dir, "server.log")
	out, err := openLog(serverLog)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(pythonWithPyftpdlib, "-m", "pyftpdlib",
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-r", fmt.Sprintf("%d-%d", lo, hi),
		"-d", s.DataDir, "-w", "-u", s.User, "-P", s.Password, "-D")
	if s.TLS {
		// python3 -m pyftpdlib has no TLS options: pyftpdlibTLSServer is the same server with
		// TLS_FTPHandler.
		cmd = exec.Command(pythonWithPyftpdlib, "-c", pyftpdlibTLSServer, strconv.Itoa(port),
			strconv.Itoa(lo), strconv.Itoa(hi), s.DataDir, s.User, s.Password, s.cert.Cert, s.cert.Key)
	}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = out, out
	// As the FTP user, so that what it creates belongs to that user as with the other servers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: s.cred.Uid, Gid: s.cred.Gid}}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.logFiles = []string{serverLog}
	return s.launch(t, cmd, serverLog, s.DataDir+"\x00")
}
