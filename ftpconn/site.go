package ftpconn

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync/atomic"
)

// SITE commands (RFC 959 §4.1.3 leaves their meaning to each server):
//
//	SITE CHMOD 755 /path     proftpd (mod_site), pure-ftpd, vsftpd (chmod_enable,
//	                         on by default), IIS in unix mode, GNU inetutils ftpd,
//	                         netkit ftpd
//	SITE SYMLINK from to     proftpd's mod_site_misc (a link "to" pointing at "from")
//
// A server that does not know the command (500, 502, 504; some say 550
// "command not understood") is remembered, so it is asked only once per
// mount; the caller then keeps its own behaviour (ErrNotSupported).

// siteSupport remembers, per mount, SITE commands the server refused as
// unknown.
type siteSupport struct {
	noChmod, noSymlink atomic.Bool
}

// unknownCommand tells "I don't know that command" from other refusals.
func unknownCommand(code int, msg string) bool {
	switch code {
	case 500, 502, 504:
		return true
	case 550:
		m := strings.ToLower(msg)
		return strings.Contains(m, "not understood") || strings.Contains(m, "unknown") || strings.Contains(m, "not implemented")
	}
	return false
}

// Chmod sets the permission bits (mode & 0o7777) of p with SITE CHMOD.
func (c *client) Chmod(ctx context.Context, p string, mode uint32) error {
	if c.site.noChmod.Load() {
		return &NoReplyError{Op: "SITE CHMOD", Path: p, Msg: "server has no SITE CHMOD", Kind: ErrNotSupported}
	}
	return c.do(ctx, "SITE CHMOD", p, func(cn *conn, _ bool) error {
		code, msg, err := cn.Cmd(ctx, fmt.Sprintf("SITE CHMOD %o %s", mode&0o7777, p))
		if err != nil {
			return err
		}
		return c.siteReply(cn, "SITE CHMOD", p, code, msg, &c.site.noChmod)
	})
}

// Symlink makes p a symbolic link to target with SITE SYMLINK.
func (c *client) Symlink(ctx context.Context, target, p string) error {
	if c.site.noSymlink.Load() {
		return &NoReplyError{Op: "SITE SYMLINK", Path: p, Msg: "server has no SITE SYMLINK", Kind: ErrNotSupported}
	}
	if strings.ContainsAny(target, " \t") {
		// SITE SYMLINK splits its arguments at spaces.
		return &NoReplyError{Op: "SITE SYMLINK", Path: p, Msg: "a target with spaces cannot be sent", Kind: ErrInvalidName}
	}
	return c.do(ctx, "SITE SYMLINK", p, func(cn *conn, retry bool) error {
		code, msg, err := cn.Cmd(ctx, "SITE SYMLINK "+target+" "+p)
		if err != nil {
			return err
		}
		err = c.siteReply(cn, "SITE SYMLINK", p, code, msg, &c.site.noSymlink)
		if err != nil && !errorsIsNotSupported(err) {
			if e, found, _ := cn.lookup(p); found {
				if retry && e.Type == TypeSymlink {
					return nil
				}
				return refine(err, ErrExists)
			}
			if _, lerr := cn.list(path.Dir(p)); lerr != nil {
				return refine(err, ErrNotFound)
			}
		}
		return err
	})
}

// siteReply judges the reply to a SITE command: 2xx is done; an unknown
// command is remembered in no and is ErrNotSupported; anything else is
// the server's refusal (ErrPermission).
func (c *client) siteReply(cn *conn, op, p string, code int, msg string, no *atomic.Bool) error {
	if code >= 200 && code < 300 {
		return nil
	}
	if unknownCommand(code, msg) {
		if !no.Swap(true) {
			c.cfg.debugf("ftp[%d] server has no %s (%d %s): not asked again", cn.id, op, code, msg)
		}
		return &ReplyError{Op: op, Path: p, Code: code, Msg: msg, Kind: ErrNotSupported}
	}
	kind := classify("SITE", code, msg)
	if code == 550 || code == 553 {
		kind = ErrPermission
	}
	return &ReplyError{Op: op, Path: p, Code: code, Msg: msg, Kind: kind}
}

func errorsIsNotSupported(err error) bool {
	re, ok := err.(*ReplyError)
	return ok && re.Kind == ErrNotSupported
}
