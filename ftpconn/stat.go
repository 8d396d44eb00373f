package ftpconn

import (
	"context"
	"path"
	"strconv"
	"strings"
)

// Stat finds out about one name without listing its directory: for names
// a listing the server cut short (ErrIncomplete) may have left out. It asks
// MLST where the server has it (RFC 3659 §7), else SIZE and MDTM (a file)
// and CWD (a directory). ErrNotFound when none of them knows the name.
func (c *client) Stat(ctx context.Context, p string) (Entry, error) {
	var out Entry
	err := c.do(ctx, "MLST", p, func(cn *conn, _ bool) error {
		var err error
		out, err = cn.stat(ctx, p)
		return err
	})
	return out, err
}

func (cn *conn) stat(ctx context.Context, p string) (Entry, error) {
	name := path.Base(p)
	if cn.hasMLSD() {
		code, msg, err := cn.Cmd(ctx, "MLST "+p)
		if err != nil {
			return Entry{}, err
		}
		if code == 250 {
			for _, line := range strings.Split(msg, "\n")[1:] {
				if e, class := parseMLSDLine(strings.TrimLeft(line, " ")); class == lineEntry {
					e.Name = name
					return e, nil
				}
			}
		}
	}
	code, msg, err := cn.Cmd(ctx, "SIZE "+p)
	if err != nil {
		return Entry{}, err
	}
	if code == 213 {
		e := Entry{Name: name, Type: TypeFile}
		e.Size, _ = strconv.ParseInt(strings.TrimSpace(msg), 10, 64)
		code, msg, err := cn.Cmd(ctx, "MDTM "+p)
		if err != nil {
			return Entry{}, err
		}
		if code == 213 {
			e.ModTime, _ = cn.mdtmTime(msg)
		}
		return e, nil
	}
	if cn.isDir(ctx, p) {
		return Entry{Name: name, Type: TypeDir}, nil
	}
	if cn.broken != nil {
		return Entry{}, cn.broken // CWD failed on the wire: no answer
	}
	return Entry{}, &ReplyError{Op: "MLST", Path: p, Code: code, Msg: msg, Kind: ErrNotFound}
}
