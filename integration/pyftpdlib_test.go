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
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = out, out
	// As the FTP user, so that what it creates belongs to that user as with the other servers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: s.cred.Uid, Gid: s.cred.Gid}}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.logFiles = []string{serverLog}
	return s.launch(t, cmd, serverLog, s.DataDir+"\x00")
}
