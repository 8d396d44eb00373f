package ftpconn

import (
	"context"
	"strings"
)

// The login directory. Servers that do not chroot (GNU inetutils ftpd,
// netkit ftpd, most Unix hosts) start a session in the user's home
// directory, not in "/". RFC 1738 §3.2.2 (and curl, lftp) read the path of
// ftp://host/path relative to that directory; so ftpmount asks for it
// (PWD) right after the first login and resolves the URL's path against it.

// LoginDir returns the directory the server put the first session in
// (PWD after login), as an absolute path; "/" when the server did not say
// or gave something other than a "/"-rooted path.
func LoginDir(c Client) string {
	switch x := c.(type) {
	case *client:
		return x.loginDir
	case *codecClient:
		inner := LoginDir(x.Client)
		if u, ok := x.fromServer(inner); ok {
			return u
		}
		return "/"
	}
	return "/"
}

// askLoginDir sends PWD on a fresh connection. err is a failure of the
// connection itself (the directory is then "/").
func (cn *conn) askLoginDir(ctx context.Context) (string, error) {
	code, msg, err := cn.Cmd(ctx, "PWD")
	if err != nil || code != 257 {
		cn.debugf("ftp[%d] PWD gave no directory (%d %s %v): taking / as the login directory", cn.id, code, msg, err)
		return "/", err
	}
	dir, ok := parsePWD(msg)
	if !ok || !strings.HasPrefix(dir, "/") {
		cn.debugf("ftp[%d] PWD %q is not a /-rooted path: taking / as the login directory", cn.id, msg)
		return "/", nil
	}
	return dir, nil
}

// parsePWD reads the directory of a 257 reply (RFC 959 §7, "MKD"/"PWD"):
// `"/home/u" is the current directory`, with a '"' in the name doubled.
// Some servers leave out the quotes: then the first word is taken.
func parsePWD(msg string) (string, bool) {
	i := strings.IndexByte(msg, '"')
	if i < 0 {
		f := strings.Fields(msg)
		if len(f) == 0 {
			return "", false
		}
		return f[0], true
	}
	var b strings.Builder
	for j := i + 1; j < len(msg); j++ {
		if msg[j] == '"' {
			if j+1 < len(msg) && msg[j+1] == '"' {
				b.WriteByte('"')
				j++
				continue
			}
			return b.String(), true
		}
		b.WriteByte(msg[j])
	}
	return "", false
}
