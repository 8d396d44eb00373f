package ftpconn

import (
	"strconv"
	"strings"
	"time"
)

// parseMLSDLine reads one line of an MLSD reply (RFC 3659 §7.2):
// "fact=value;fact=value; name". Fact names are case-insensitive (§7.1);
// the name is everything after the first space, spaces included.
//
//	type     file, dir; cdir and pdir (the directory itself and its
//	         parent: lineSkip); OS.unix=slink:TARGET (pure-ftpd: a
//	         symlink and its target), OS.unix=symlink (proftpd: a symlink,
//	         target not given; size and modify are the target's);
//	         anything else (OS.unix=blk, ...) is passed over
//	size     bytes (sizd, a directory's, is ignored)
//	modify   YYYYMMDDHHMMSS[.fff], always UTC (§2.3), whatever -o timezone says
//	perm     the RFC 3659 §7.5.5 letters, kept in Entry.Perm
//	unique   kept in Entry.Unique
//	UNIX.mode  octal permission bits ("0644", "755"); also UNIX.owner,
//	         UNIX.group (proftpd), UNIX.uid, UNIX.gid (pure-ftpd) and
//	         UNIX.ownername/UNIX.groupname
//
// Unknown facts are ignored, as §7.1 asks.
func parseMLSDLine(line string) (Entry, lineClass) {
	facts, name, ok := strings.Cut(line, " ")
	if !ok || name == "" {
		return Entry{}, lineBad
	}
	var e Entry
	e.Name = name
	typ := ""
	for _, f := range strings.Split(facts, ";") {
		if f == "" {
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return Entry{}, lineBad
		}
		switch strings.ToLower(k) {
		case "type":
			typ = v
		case "size":
			n, ok := atoiOK(v)
			if !ok {
				return Entry{}, lineBad
			}
			e.Size = n
		case "modify":
			t, ok := parseMLSDTime(v)
			if !ok {
				return Entry{}, lineBad
			}
			e.ModTime = t
		case "perm":
			e.Perm = v
		case "unique":
			e.Unique = v
		case "unix.mode":
			if m, err := strconv.ParseUint(v, 8, 32); err == nil {
				e.Mode = uint32(m) & 0o7777
			}
		case "unix.owner", "unix.uid":
			if e.Owner == "" {
				e.Owner = v
			}
		case "unix.ownername":
			e.Owner = v
		case "unix.group", "unix.gid":
			if e.Group == "" {
				e.Group = v
			}
		case "unix.groupname":
			e.Group = v
		}
	}
	lt := strings.ToLower(typ)
	switch {
	case lt == "file":
		e.Type = TypeFile
	case lt == "dir":
		e.Type, e.Size = TypeDir, 0
	case lt == "cdir" || lt == "pdir":
		return Entry{}, lineSkip
	case strings.HasPrefix(lt, "os.unix=slink"):
		e.Type = TypeSymlink
		if _, target, ok := strings.Cut(typ, ":"); ok {
			e.Target = target
		}
	case lt == "os.unix=symlink":
		// The facts are the target's, which may be a directory (proftpd
		// gives no hint): the caller finds out.
		e.Type = TypeSymlink
	case typ == "":
		return Entry{}, lineBad
	default:
		return Entry{}, lineSkip
	}
	if e.Type == TypeSymlink && e.Target != "" {
		e.Size = int64(len(e.Target))
	}
	return e, lineEntry
}

// parseMLSDTime reads RFC 3659 §2.3 time-val: YYYYMMDDHHMMSS, optionally
// with a fraction, in UTC.
func parseMLSDTime(v string) (time.Time, bool) {
	whole, frac, _ := strings.Cut(v, ".")
	if len(whole) != 14 {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation("20060102150405", whole, time.UTC)
	if err != nil {
		return time.Time{}, false
	}
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		n, ok := atoiOK(frac)
		if !ok {
			return time.Time{}, false
		}
		for i := len(frac); i < 9; i++ {
			n *= 10
		}
		t = t.Add(time.Duration(n))
	}
	return t, true
}
