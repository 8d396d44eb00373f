package harness

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// The inetd-style servers: GNU inetutils ftpd and netkit ftpd (Debian's ftpd-ssl), unpacked by
// scripts/install-deps.sh under ServersDir. They serve one session on the socket they are given
// as stdin, so ucspi-tcp's tcpserver listens for them and hands each connection over (socat's
// EXEC would hand over a pipe, and PASV needs the real socket). What sets them apart from the
// other kinds: they do not chroot. A user logs in to the home directory (PWD "/srv/ftpmounttest")
// with "/" the machine's root, so the data directory is reached by its path relative to the login
// directory (Server.URLPath): ftp://host/t-inetutils-ftpd-NNN/. They list with /bin/ls (LIST only,
// modes as the server's umask makes them), cannot set times (no MFMT), and pick their passive
// ports themselves.
var (
	inetutilsFtpdBin = filepath.Join(ServersDir, "inetutils-ftpd/usr/sbin/ftpd")
	netkitFtpdBin    = filepath.Join(ServersDir, "netkit-ftpd/usr/sbin/in.ftpd")

	inetutilsFtpd = inetdProgram(inetutilsFtpdBin)
	netkitFtpd    = inetdProgram(netkitFtpdBin)
)

// inetdProgram runs the inetd-style server bin (with -l: log sessions) under tcpserver.
func inetdProgram(bin string) *program {
	return &program{
		tools:  []string{"tcpserver", bin},
		output: "tcpserver.log",
		command: func(l *launch) (*exec.Cmd, error) {
			// -v: log connections; -R, -H: no ident or DNS look-ups; -l 0: no local host name
			// look-up.
			args := []string{"-v", "-R", "-H", "-l", "0", "127.0.0.1", strconv.Itoa(l.Port), bin, "-l"}
			cmd := exec.Command("tcpserver", args...)
			cmd.Dir = "/"
			l.URLPath = filepath.Base(l.DataDir) + "/"
			l.LogFiles = []string{filepath.Join(l.Dir, "tcpserver.log")}
			// The listener's arguments as /proc shows them (NUL-separated); the sessions are its
			// children, which Stop finds by the process tree.
			l.match = strings.Join(args[5:7], "\x00") + "\x00"
			return cmd, nil
		},
	}
}
