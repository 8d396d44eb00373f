package harness

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

// PythonWithPyftpdlib is Debian's python, the one that can import python3-pyftpdlib (another
// python3 may come first on PATH).
const PythonWithPyftpdlib = "/usr/bin/python3"

// pyftpdlib 1.5.7's own server (python3 -m pyftpdlib, Debian's python3-pyftpdlib): MLSD, MFMT,
// REST+STOR. It runs as the FTP user, so that what it creates belongs to that user as with the
// other servers. -D logs every command and reply.
var pyftpdlib = &program{
	tools:   []string{PythonWithPyftpdlib},
	passive: true,
	output:  "server.log",
	command: pyftpdlibCommand,
}

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

func pyftpdlibCommand(l *launch) (*exec.Cmd, error) {
	cmd := exec.Command(PythonWithPyftpdlib, "-m", "pyftpdlib",
		"-i", "127.0.0.1", "-p", strconv.Itoa(l.Port), "-r", fmt.Sprintf("%d-%d", l.PasvLo, l.PasvHi),
		"-d", l.DataDir, "-w", "-u", l.User, "-P", l.Password, "-D")
	if l.TLS {
		// python3 -m pyftpdlib has no TLS options: pyftpdlibTLSServer is the same server with
		// TLS_FTPHandler.
		cmd = exec.Command(PythonWithPyftpdlib, "-c", pyftpdlibTLSServer, strconv.Itoa(l.Port),
			strconv.Itoa(l.PasvLo), strconv.Itoa(l.PasvHi), l.DataDir, l.User, l.Password, l.cert.Cert, l.cert.Key)
	}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: l.Cred.Uid, Gid: l.Cred.Gid}}
	l.LogFiles = []string{filepath.Join(l.Dir, "server.log")}
	l.match = l.DataDir + "\x00"
	return cmd, nil
}
