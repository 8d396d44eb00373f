package ftpconn

import (
	"context"
	"errors"
	"path"
	"strings"
)

// globChars are characters that some servers (vsftpd among them) expand in
// the argument of LIST. Directories with such names are listed from inside
// (CWD, then a bare LIST) so the name is never taken as a pattern.
const globChars = "*?[]{}~\\"

// list returns the entries of dir on this connection (see listCtx); an
// incomplete listing is taken as it is.
func (cn *conn) list(dir string) ([]Entry, error) {
	out, err := cn.listCtx(context.Background(), dir)
	if errors.Is(err, ErrIncomplete) {
		err = nil
	}
	return out, err
}

// listCtx returns the entries of dir, read by our own parsers from MLSD
// where the server has it (FEAT lists MLST), else from LIST. What servers
// do wrong here, and what is done about it (each learned once per mount
// in listPolicy, see listpolicy.go):
//
//   - "LIST -a" (to see dot files) refused, or taken as a name pattern:
//     plain LIST from then on.
//   - LIST that ignores its path (every directory lists as the root):
//     CWD into the directory, then a bare LIST.
//   - 550/450 "No files found" for an empty directory: empty, once CWD
//     shows the directory exists.
//   - An empty 226 for a missing directory (vsftpd): believed only once
//     CWD confirms the directory.
//
// Lines that cannot be read, names over 255 bytes, and symlinks whose
// target the server did not name are handled by readListing.
func (cn *conn) listCtx(ctx context.Context, dir string) ([]Entry, error) {
	lp := cn.lp
	mlsd := cn.hasMLSD()
	inside := strings.ContainsAny(dir, globChars) || strings.ContainsAny(dir, " \t") || !mlsd && lp.listInside()
	var cut string // the final reply, when it says the listing was cut short
	verb := lp.listVerb()
	if mlsd {
		verb = "MLSD"
	}
	lines, err := cn.listOnce(ctx, dir, listing{verb: verb, inside: inside}, &cut)
	if verb == "LIST -a" && (err != nil && replyCode(err) != 0 || err == nil && len(lines) == 0) {
		// Refused, or maybe "-a" taken for a pattern: does plain LIST do better?
		plain, perr := cn.listOnce(ctx, dir, listing{verb: "LIST", inside: inside}, &cut)
		if perr == nil && (err != nil || len(plain) > 0) {
			lp.dropDashA(cn, err)
			lines, err = plain, nil
		}
	}
	if err != nil {
		if replyCode(err) == 0 {
			return nil, err
		}
		if emptyDir(err) && cn.isDir(ctx, dir) {
			return nil, nil
		}
		if cn.broken != nil {
			return nil, cn.broken // CWD failed on the wire: no answer
		}
		return nil, cn.missingDir(dir, err)
	}
	out := cn.readListing(ctx, dir, lines, mlsd)
	if cn.broken != nil {
		return nil, cn.broken // a symlink's CWD or SIZE failed on the wire
	}
	// vsftpd answers LIST of a missing directory with 226 and no lines:
	// an empty answer is only believed once CWD confirms the directory.
	if len(out) == 0 && !inside {
		if err := cn.cwd(ctx, dir); err != nil {
			return nil, cn.missingDir(dir, err)
		}
	}
	if !mlsd && !inside && dir != "/" && len(out) > 0 && lp.shouldCheckPath() {
		if fixed, ok := cn.checkListPath(ctx, dir, out); ok {
			out = fixed
		}
	}
	if cut != "" {
		return out, &ReplyError{Op: "LIST", Path: dir, Code: 226, Msg: cut, Kind: ErrIncomplete}
	}
	return out, nil
}

// listing is how one listing command is sent: verb is "MLSD", "LIST -a"
// or "LIST"; inside sends it bare after a CWD into the directory (for
// servers that ignore LIST's path, and paths LIST would take as patterns).
type listing struct {
	verb   string
	inside bool
}

// listOnce sends one listing command for dir and returns its lines. When
// the final reply says the listing was cut short, *cut is set to it.
func (cn *conn) listOnce(ctx context.Context, dir string, how listing, cut *string) ([]string, error) {
	line := how.verb + " " + dir
	if how.inside {
		if _, err := cn.Expect(ctx, "CWD "+dir); err != nil {
			return nil, err
		}
		line = how.verb
	}
	lines, code, msg, err := cn.ListRaw(ctx, line)
	if err != nil {
		return nil, err
	}
	if cn.lp.noteFinalReply(cn, dir, code, msg) {
		*cut = msg
	}
	return lines, nil
}

// hasMLSD tells whether the server lists with MLSD (RFC 3659 §7: FEAT
// lists MLST).
func (cn *conn) hasMLSD() bool {
	_, ok := cn.feat["MLST"]
	return ok
}

// isDir tells whether CWD into dir succeeds.
func (cn *conn) isDir(ctx context.Context, dir string) bool { return cn.cwd(ctx, dir) == nil }

// cwd changes into dir: the server's own answer to whether dir is a
// directory (a *textproto.Error when it is not, a plain error when the
// connection failed).
func (cn *conn) cwd(ctx context.Context, dir string) error {
	_, err := cn.Expect(ctx, "CWD "+dir)
	return err
}

// emptyDir recognises the refusals some servers send for the listing of
// an empty directory ("550 No files found", "450 No files found", "550
// No such file or directory" from Windows servers): a 450 or 550 that
// does not speak of permission. The caller still checks with CWD that
// the directory exists.
func emptyDir(err error) bool {
	code := replyCode(err)
	var re *ReplyError
	if code == 0 && errors.As(err, &re) {
		code = re.Code
	}
	if code != 550 && code != 450 {
		return false
	}
	msg := strings.ToLower(errText(err))
	for _, w := range []string{"permission", "denied", "access", "not allowed", "forbidden"} {
		if strings.Contains(msg, w) {
			return false
		}
	}
	return true
}

// missingDir classifies the failure of listing or entering dir.
func (cn *conn) missingDir(dir string, err error) error {
	code := replyCode(err)
	var re *ReplyError
	if code == 0 && errors.As(err, &re) {
		code = re.Code
	}
	if code == 0 {
		return err
	}
	switch code {
	case 550, 450, 501, 553:
		// Missing, or there but refused: the parent's listing tells.
		if e, found, _ := cn.lookup(dir); found && e.Type == TypeDir {
			return refine(wrap("LIST", dir, err), ErrPermission)
		}
		return refine(wrap("LIST", dir, err), ErrNotFound)
	}
	return wrap("LIST", dir, err)
}

// lookup finds p in its parent's listing. err is the parent's listing error
// (ErrNotFound when the parent itself is missing).
func (cn *conn) lookup(p string) (Entry, bool, error) {
	if p == "/" {
		return Entry{Name: "/", Type: TypeDir}, true, nil
	}
	entries, err := cn.list(path.Dir(p))
	if err != nil {
		return Entry{}, false, err
	}
	name := path.Base(p)
	for _, e := range entries {
		if e.Name == name {
			return e, true, nil
		}
	}
	return Entry{}, false, nil
}
