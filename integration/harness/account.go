package harness

import (
	"net/url"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// The local account vsftpd authenticates through PAM, and the other servers' virtual user maps
// to; scripts/install-deps.sh creates it with the same values.
const (
	User     = "ftpmounttest"
	Password = "ftpmounttest-pw"
	Home     = "/srv/ftpmounttest"
	// PasswordHash is Password's SHA-512 crypt (openssl passwd -6 -salt ftpmounttestsalt
	// ftpmounttest-pw), for the servers' own user files; install-deps.sh puts the same in
	// /etc/shadow.
	PasswordHash = "$6$ftpmounttestsalt$ELiBG2NE2XA/kNIwDD1fjJvnVDHv9yc7QbVgi2JqdwKBI6jUR7xAgREsti/jC1aEOplLsqGZAiK81IZT/H6Ew1"
)

// ServersDir is where scripts/install-deps.sh unpacks the servers that conflict with vsftpd as
// Debian packages, or that Debian no longer ships as a plain binary (proftpd, pure-ftpd, inetutils
// and netkit ftpd).
const ServersDir = "/opt/ftpmount-servers"

// Account returns User's uid and gid, to run commands as the servers' logged-in user.
func Account() (*syscall.Credential, error) {
	u, err := user.Lookup(User)
	if err != nil {
		return nil, err
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// NewDataDir makes a fresh directory under Home, named prefix followed by random digits, mode
// 0755 and owned by User: what a server serves as its FTP root. The caller removes it.
func NewDataDir(prefix string) (string, error) {
	cred, err := Account()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(Home, prefix)
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// URL is the ftp:// SOURCE argument of ftpmount for user and password at addr (host:port), with
// the root path "/".
func URL(user, password, addr string) string {
	u := url.URL{Scheme: "ftp", User: url.UserPassword(user, password), Host: addr, Path: "/"}
	return u.String()
}
