package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// proftpd 1.3.8 from Debian's .debs, unpacked by scripts/install-deps.sh with the libraries it
// lacks here (it conflicts with vsftpd as a package).
const (
	proftpdDir  = serversDir + "/proftpd"
	proftpdBin  = proftpdDir + "/usr/sbin/proftpd"
	proftpdLibs = proftpdDir + "/usr/lib/x86_64-linux-gnu"
)

// proftpdConfig follows /work/shared/NOTES-servers.md: one virtual user from AuthUserFile, mapped
// to the FTP user's uid and gid and jailed in the data directory; MLSD/MLST and MFMT (mod_facts,
// built in) and REST+STOR/APPE (AllowStoreRestart). The extended log records every command with
// the server's final reply.
const proftpdConfig = `ServerType standalone
ServerName "ftpmount test"
SocketBindTight on
DefaultAddress 127.0.0.1
Port {{PORT}}
PassivePorts {{PASV_LO}} {{PASV_HI}}
UseIPv6 off
User nobody
Group nogroup
PidFile {{DIR}}/proftpd.pid
ScoreboardFile {{DIR}}/proftpd.scoreboard
WtmpLog off
TransferLog NONE
UseReverseDNS off
DelayEngine off
AuthPAM off
AuthOrder mod_auth_file.c
AuthUserFile {{DIR}}/ftpd.passwd
RequireValidShell off
DefaultRoot ~
Umask 022
AllowOverwrite on
AllowStoreRestart on
ModulePath ` + proftpdDir + `/usr/lib/proftpd
LogFormat protocol "%{iso8601} [%P] %r -> %s %S"
ExtendedLog {{DIR}}/protocol.log ALL protocol
`

// proftpdTLSConfig is added for the TLS kinds: mod_tls (from proftpd-mod-crypto) with TLS required
// on control and data connections. mod_tls by default also requires data connections to resume
// the control connection's TLS session. TLSLog records each handshake's version and cipher.
const proftpdTLSConfig = `LoadModule mod_tls.c
TLSEngine on
TLSLog {{DIR}}/tls.log
TLSRSACertificateFile {{CERT}}
TLSRSACertificateKeyFile {{KEY}}
TLSRequired on
TLSVerifyClient off
`

// startProftpdProcess writes a proftpd config and user file with fresh ports and runs proftpd in
// the foreground until it greets with 220 (see serverStarters).
func startProftpdProcess(t *testing.T, s *ftpServer) error {
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
	passwd := fmt.Sprintf("%s:%s:%d:%d::%s:/bin/false\n", s.User, ftpPasswordHash, s.cred.Uid, s.cred.Gid, s.DataDir)
	if err := os.WriteFile(filepath.Join(dir, "ftpd.passwd"), []byte(passwd), 0o600); err != nil {
		return err
	}
	conf := filepath.Join(dir, "proftpd.conf")
	text := proftpdConfig
	if s.TLS {
		text += strings.NewReplacer("{{CERT}}", s.cert.Cert, "{{KEY}}", s.cert.Key).Replace(proftpdTLSConfig)
		if s.Implicit {
			text += "TLSOptions UseImplicitSSL\n"
		}
	}
	text = strings.NewReplacer("{{PORT}}", strconv.Itoa(port), "{{PASV_LO}}", strconv.Itoa(lo),
		"{{PASV_HI}}", strconv.Itoa(hi), "{{DIR}}", dir).Replace(text)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return err
	}
	// With -n, proftpd writes its own messages (start-up errors, sessions) to stderr.
	serverLog := filepath.Join(dir, "server.log")
	out, err := openLog(serverLog)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(proftpdBin, "-n", "-c", conf)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+proftpdLibs)
	cmd.Stdout, cmd.Stderr = out, out
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.logFiles = []string{filepath.Join(dir, "protocol.log"), serverLog}
	if s.TLS {
		s.logFiles = append(s.logFiles, filepath.Join(dir, "tls.log"))
	}
	return s.launch(t, cmd, serverLog, conf)
}
