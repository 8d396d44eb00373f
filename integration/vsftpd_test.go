package integration

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The local account vsftpd authenticates through PAM, and the other servers' virtual user maps to;
// scripts/install-deps.sh creates it.
const (
	ftpUser     = "ftpmounttest"
	ftpPassword = "ftpmounttest-pw"
	ftpHome     = "/srv/ftpmounttest"
	// ftpPassword's SHA-512 crypt (openssl passwd -6 -salt ftpmounttestsalt ftpmounttest-pw), for
	// the servers' own user files; install-deps.sh puts the same in /etc/shadow.
	ftpPasswordHash = "$6$ftpmounttestsalt$ELiBG2NE2XA/kNIwDD1fjJvnVDHv9yc7QbVgi2JqdwKBI6jUR7xAgREsti/jC1aEOplLsqGZAiK81IZT/H6Ew1"
)

// ftpURL is the SOURCE argument that reaches srv: ftps:// for the TLS kinds (which mount also
// gives -o cafile, and -o implicit_tls for the implicit ones: see mountOptions).
func (s *ftpServer) ftpURL() string {
	u := ftpURL(s.User, s.Password, s.Addr) + s.URLPath
	if s.TLS {
		u = "ftps" + strings.TrimPrefix(u, "ftp")
	}
	return u
}

// ftpURL is the SOURCE argument for user and password at addr (host:port).
func ftpURL(user, password, addr string) string {
	u := url.URL{Scheme: "ftp", User: url.UserPassword(user, password), Host: addr, Path: "/"}
	return u.String()
}

// vsftpdConfig follows /work/shared/NOTES-servers.md. isolate=NO and isolate_network=NO spare the
// pre-login process new namespaces, which some containers do not grant.
const vsftpdConfig = `listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={{PORT}}
background=NO
pasv_enable=YES
pasv_address=127.0.0.1
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
xferlog_enable=YES
log_ftp_protocol=YES
vsftpd_log_file={{LOG}}
`

// vsftpdTLSConfig is added for the TLS kinds: FTPS required for the login and for data connections,
// and data connections must resume the control connection's TLS session (require_ssl_reuse).
// debug_ssl logs each TLS connection's version and cipher, and whether its session was reused.
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

// startVsftpdProcess writes a vsftpd config with fresh ports and runs vsftpd until it greets with
// 220 (see serverStarters).
func startVsftpdProcess(t *testing.T, s *ftpServer) error {
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
	logFile := filepath.Join(dir, "vsftpd.log")
	conf := filepath.Join(dir, "vsftpd.conf")
	text := vsftpdConfig
	if s.TLS {
		implicit := "NO"
		if s.Implicit {
			implicit = "YES"
		}
		text += strings.NewReplacer("{{CERT}}", s.cert.Cert, "{{KEY}}", s.cert.Key,
			"{{IMPLICIT}}", implicit).Replace(vsftpdTLSConfig)
	}
	text += s.extraConf
	text = strings.NewReplacer("{{PORT}}", strconv.Itoa(port), "{{PASV_LO}}", strconv.Itoa(lo),
		"{{PASV_HI}}", strconv.Itoa(hi), "{{DATA}}", s.DataDir, "{{LOG}}", logFile).Replace(text)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return err
	}
	// vsftpd writes its "500 OOPS" start-up errors to fd 0: give it a file there to read them from.
	errPath := filepath.Join(dir, "vsftpd.stdin")
	errFile, err := openLog(errPath)
	if err != nil {
		return err
	}
	defer errFile.Close()
	bin, err := findTool("vsftpd")
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, conf)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = errFile, errFile, errFile
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.logFiles = []string{logFile}
	// Session processes are forks of the listener (same command line); some leave its group.
	return s.launch(t, cmd, errPath, conf)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freePortRange returns n consecutive ports within 40000-60000 that could all be bound a moment ago.
func freePortRange(n int) (lo, hi int, err error) {
	for range 100 {
		lo = 40000 + rand.IntN(20000-n)
		if portsFree(lo, lo+n-1) {
			return lo, lo + n - 1, nil
		}
	}
	return 0, 0, fmt.Errorf("no %d free consecutive ports in 40000-60000", n)
}

func portsFree(lo, hi int) bool {
	for p := lo; p <= hi; p++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}
