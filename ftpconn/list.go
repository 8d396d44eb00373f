package ftpconn

import (
	"path"
	"strings"
)

// globChars are characters that some servers (vsftpd among them) expand in
// the argument of LIST. Directories with such names are listed from inside
// (CWD, then a bare LIST) so the name is never taken as a pattern.
const globChars = "*?[]{}~\\"

// list returns the entries of dir on this connection.
func (cn *conn) list(dir string) ([]Entry, error) {
	arg := dir
	cwd := strings.ContainsAny(dir, globChars) || strings.ContainsAny(dir, " \t")
	if cwd {
		if err := cn.sc.ChangeDir(dir); err != nil {
			return nil, cn.missingDir(dir, err)
		}
		arg = ""
	}
	raw, err := cn.sc.List(arg)
	if err != nil {
		if replyCode(err) == 0 {
			return nil, err
		}
		return nil, cn.missingDir(dir, err)
	}
	out := make([]Entry, 0, len(raw))
	for _, e := range raw {
		if ent, ok := fromLibrary(e); ok {
			out = append(out, ent)
		}
	}
	// vsftpd answers LIST of a missing directory with 226 and no lines:
	// an empty answer is only believed once CWD confirms the directory.
	if len(out) == 0 && !cwd {
		if err := cn.sc.ChangeDir(dir); err != nil {
			return nil, cn.missingDir(dir, err)
		}
	}
	return out, nil
}

// missingDir classifies the failure of listing or entering dir.
func (cn *conn) missingDir(dir string, err error) error {
	if replyCode(err) == 0 {
		return err
	}
	switch replyCode(err) {
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
