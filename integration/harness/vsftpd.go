package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// vsftpd 3.0.3, Debian's package: LIST only (no MLSD), MDTM to set times. Its configuration
// follows /work/shared/NOTES-servers.md. isolate=NO and isolate_network=NO spare the pre-login
// process new namespaces, which some containers do not grant.
var vsftpd = &program{
	tools:   []string{"vsftpd"},
	passive: true,
	tunable: true,
	// vsftpd writes its "500 OOPS" start-up errors to fd 0: it gets this file there too.
	output:  "vsftpd.stdin",
	command: vsftpdCommand,
}

const vsftpdConfig = `listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={{PORT}}
background=NO
pasv_enable=YES
pasv_address={{PASV_ADDR}}
pasv_min_port={{PASV_LO}}
pasv_max_port={{PASV_HI}}
connect_from_port_20=NO
local_enable=YES
write_enable=YES
local_umask=022
chroot_local_user=YES
allow_writeable_chroot=YES
local_root={{DATA}}
anonymous_enable=NO
pam_service_name=vsftpd
secure_chroot_dir=/var/run/vsftpd/empty
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
mdtm_write=YES
`

// vsftpdLogConfig logs every transfer, command and reply, unless Options.Quiet.
const vsftpdLogConfig = `xferlog_enable=YES
log_ftp_protocol=YES
vsftpd_log_file={{LOG}}
`

// vsftpdTLSConfig is added for the TLS kinds: FTPS required for the login and for data
// connections, and data connections must resume the control connection's TLS session
// (require_ssl_reuse). debug_ssl logs each TLS connection's version and cipher, and whether its
// session was reused.
const vsftpdTLSConfig = `ssl_enable=YES
rsa_cert_file={{CERT}}
rsa_private_key_file={{KEY}}
allow_anon_ssl=NO
force_local_logins_ssl=YES
force_local_data_ssl=YES
require_ssl_reuse=YES
ssl_request_cert=NO
debug_ssl=YES
implicit_ssl={{IMPLICIT}}
`

func vsftpdCommand(l *launch) (*exec.Cmd, error) {
	logFile := filepath.Join(l.Dir, "vsftpd.log")
	conf := filepath.Join(l.Dir, "vsftpd.conf")
	text := vsftpdConfig
	if l.opts.Quiet {
		text += "xferlog_enable=NO\n"
	} else {
		text += vsftpdLogConfig
		l.LogFiles = []string{logFile}
	}
	if l.TLS {
		implicit := "NO"
		if l.Implicit {
			implicit = "YES"
		}
		text += strings.NewReplacer("{{CERT}}", l.cert.Cert, "{{KEY}}", l.cert.Key,
			"{{IMPLICIT}}", implicit).Replace(vsftpdTLSConfig)
	}
	text += l.opts.ExtraConf
	pasvAddr := "127.0.0.1"
	if l.opts.ProxyHost != "" {
		pasvAddr = l.opts.ProxyHost
	}
	text = strings.NewReplacer("{{PORT}}", strconv.Itoa(l.Port), "{{PASV_ADDR}}", pasvAddr,
		"{{PASV_LO}}", strconv.Itoa(l.PasvLo), "{{PASV_HI}}", strconv.Itoa(l.PasvHi),
		"{{DATA}}", l.DataDir, "{{LOG}}", logFile).Replace(text)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	bin, err := FindTool("vsftpd")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, conf)
	cmd.Stdin = l.out
	if l.opts.TZ != "" {
		cmd.Env = append(os.Environ(), "TZ="+l.opts.TZ)
	}
	// Session processes are forks of the listener (same command line); some leave its group.
	l.match = conf
	return cmd, nil
}
