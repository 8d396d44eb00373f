package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// proftpd 1.3.8 from Debian's .debs, unpacked by scripts/install-deps.sh with the libraries it
// lacks here (it conflicts with vsftpd as a package). It runs in the foreground (-n) and writes
// its own messages (start-up errors, sessions) to stderr.
const (
	proftpdDir  = ServersDir + "/proftpd"
	proftpdBin  = proftpdDir + "/usr/sbin/proftpd"
	proftpdLibs = proftpdDir + "/usr/lib/x86_64-linux-gnu"
)

var proftpd = &program{
	tools:   []string{proftpdBin},
	passive: true,
	output:  "server.log",
	command: proftpdCommand,
}

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

func proftpdCommand(l *launch) (*exec.Cmd, error) {
	passwd := fmt.Sprintf("%s:%s:%d:%d::%s:/bin/false\n", l.User, PasswordHash, l.Cred.Uid, l.Cred.Gid, l.DataDir)
	if err := os.WriteFile(filepath.Join(l.Dir, "ftpd.passwd"), []byte(passwd), 0o600); err != nil {
		return nil, err
	}
	conf := filepath.Join(l.Dir, "proftpd.conf")
	text := proftpdConfig
	if l.TLS {
		text += strings.NewReplacer("{{CERT}}", l.cert.Cert, "{{KEY}}", l.cert.Key).Replace(proftpdTLSConfig)
		if l.Implicit {
			text += "TLSOptions UseImplicitSSL\n"
		}
	}
	text = strings.NewReplacer("{{PORT}}", strconv.Itoa(l.Port), "{{PASV_LO}}", strconv.Itoa(l.PasvLo),
		"{{PASV_HI}}", strconv.Itoa(l.PasvHi), "{{DIR}}", l.Dir).Replace(text)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(proftpdBin, "-n", "-c", conf)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+proftpdLibs)
	l.LogFiles = []string{filepath.Join(l.Dir, "protocol.log"), filepath.Join(l.Dir, "server.log")}
	if l.TLS {
		l.LogFiles = append(l.LogFiles, filepath.Join(l.Dir, "tls.log"))
	}
	l.match = conf
	return cmd, nil
}
