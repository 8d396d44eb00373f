package ftpconn

import (
	"strings"
	"time"
)

// parseUnix reads the `ls -l` style most servers send, in its variants:
//
//	-rw-r--r--    1 owner    group     70962 Apr 11  2007 name
//	-rw-r--r--    1 owner     70962 Apr 11  2007 name       (no group)
//	-rw-r--r--      70962 Apr 11 2007 name                   (no links, owner or group)
//	drwxr-xr-x+   2 1000     1000       4096 Dec 10 10:00 dir (ACL mark, numeric ids)
//	lrwxrwxrwx    1 u        g             7 Jan  1 12:00 link -> target
//	crw-rw-rw-    1 root     root     1,   3 Jan  1 12:00 null
//	-rw-r--r--    1 u        g             5 2007-04-11 10:00 long-iso
//	-rw-r--r--    1 u        g             5 Dec 10 10:00   two leading spaces
//
// The permission string gives type and mode. The date is found as a month
// name followed by a day and a year or a time (or an ISO date and a time),
// with the size just before it: so columns before the size may be missing
// or extra. The name is everything after the year or time and the one
// space that follows it (ls right-aligns the year: "Apr 11  2007 name").
// Device files, pipes and sockets are read and passed over (lineSkip):
// nothing can be read from them over FTP.
func parseUnix(line string, clk listClock) (Entry, lineClass) {
	perms, _, _ := strings.Cut(line, " ")
	typ, mode, ok := unixPerms(perms)
	if !ok {
		return Entry{}, lineBad
	}
	// Walk the fields, remembering where each starts.
	type field struct {
		s     string
		start int
	}
	var buf [13]field
	fs := buf[:0]
	for i := 0; i < len(line); {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && line[j] != ' ' {
			j++
		}
		fs = append(fs, field{line[i:j], i})
		i = j
		if len(fs) > 12 {
			break // the date is never that far in; the name may have many spaces
		}
	}
	for k := 2; k+1 < len(fs); k++ {
		var t time.Time
		var next int // index of the field after the date
		if k+2 < len(fs) {
			if mon, ok := monthOf(fs[k].s); ok {
				if tt, ok := dayAndYearOrTime(mon, fs[k+1].s, fs[k+2].s, clk); ok {
					t, next = tt, k+3
				}
			}
		}
		if next == 0 && k+1 < len(fs) {
			if tt, ok := isoDateTime(fs[k].s, fs[k+1].s, clk); ok {
				t, next = tt, k+2
			}
		}
		if next == 0 {
			continue
		}
		size, ok := atoiOK(fs[k-1].s)
		if !ok {
			continue
		}
		if typ == 'c' || typ == 'b' || typ == 'p' || typ == 's' {
			return Entry{}, lineSkip
		}
		// The name: after the date's last field and one space.
		end := fs[next-1].start + len(fs[next-1].s)
		if end+1 >= len(line) {
			return Entry{}, lineBad
		}
		name := line[end+1:]
		e := Entry{Name: name, Size: size, ModTime: t, Mode: mode}
		switch typ {
		case 'd':
			e.Type, e.Size = TypeDir, 0
		case 'l':
			e.Type = TypeSymlink
			if n, target, ok := strings.Cut(name, " -> "); ok {
				e.Name, e.Target = n, target
			}
		}
		var names [12]string
		between := names[:0]
		for _, f := range fs[1 : k-1] {
			between = append(between, f.s)
		}
		e.Owner, e.Group = ownerGroup(between)
		return e, lineEntry
	}
	return Entry{}, lineBad
}

// ownerGroup picks owner and group out of the fields between the
// permissions and the size: links owner group, links owner, owner group,
// links, owner, or nothing. A lone number is the link count.
func ownerGroup(between []string) (owner, group string) {
	n := len(between)
	at := func(i int) string { return between[i] }
	switch {
	case n >= 3:
		return at(n - 2), at(n - 1)
	case n == 2:
		if _, links := atoiOK(at(0)); links {
			return at(1), ""
		}
		return at(0), at(1)
	case n == 1:
		if _, links := atoiOK(at(0)); !links {
			return at(0), ""
		}
	}
	return "", ""
}

// unixPerms reads "drwxr-xr-x", "-rw-r--r--+", "-rwsr-S--T.": the type
// letter and the permission bits.
func unixPerms(p string) (typ byte, mode uint32, ok bool) {
	if len(p) == 11 && strings.IndexByte("+.@", p[10]) >= 0 {
		p = p[:10]
	}
	if len(p) != 10 || strings.IndexByte("-dlcbpsD", p[0]) < 0 {
		return 0, 0, false
	}
	typ = p[0]
	if typ == 'D' { // Solaris door
		typ = 's'
	}
	bits := []struct {
		at   int
		set  byte
		bit  uint32
		spec uint32 // the special bit an 's'/'t' in this place adds
	}{
		{1, 'r', 0o400, 0}, {2, 'w', 0o200, 0}, {3, 'x', 0o100, 0o4000},
		{4, 'r', 0o040, 0}, {5, 'w', 0o020, 0}, {6, 'x', 0o010, 0o2000},
		{7, 'r', 0o004, 0}, {8, 'w', 0o002, 0}, {9, 'x', 0o001, 0o1000},
	}
	for _, b := range bits {
		c := p[b.at]
		switch {
		case c == '-':
		case c == b.set:
			mode |= b.bit
		case b.spec != 0 && (c == 's' || c == 't'):
			mode |= b.bit | b.spec
		case b.spec != 0 && (c == 'S' || c == 'T' || c == 'l' || c == 'L'):
			mode |= b.spec
		default:
			return 0, 0, false
		}
	}
	return typ, mode, true
}

var months = map[string]time.Month{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	// German and French servers (the differing ones only)
	"mär": 3, "mrz": 3, "mai": 5, "okt": 10, "dez": 12,
	"fév": 2, "avr": 4, "jui": 6, "aoû": 8, "déc": 12,
}

// monthOf reads a month name in any case, with or without a final dot.
// It allocates nothing for ASCII names: it runs for several fields of
// every LIST line.
func monthOf(s string) (time.Month, bool) {
	s = strings.TrimSuffix(s, ".")
	var buf [4]byte
	if len(s) > len(buf) {
		return 0, false // no month name is that long
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			m, ok := months[strings.ToLower(s)] // "Mär", "Déc"
			return m, ok
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	m, ok := months[string(buf[:len(s)])]
	return m, ok
}

// dayAndYearOrTime reads "11" "2007" or "10" "10:00" after a month.
func dayAndYearOrTime(mon time.Month, ds, ys string, clk listClock) (time.Time, bool) {
	day, ok := atoiOK(ds)
	if !ok || day < 1 || day > 31 {
		return time.Time{}, false
	}
	if h, m, isTime := strings.Cut(ys, ":"); isTime {
		hour, ok1 := atoiOK(h)
		minute, ok2 := atoiOK(m)
		if !ok1 || !ok2 || hour > 23 || minute > 59 {
			return time.Time{}, false
		}
		return yearless(mon, int(day), int(hour), int(minute), clk), true
	}
	year, ok := atoiOK(ys)
	if !ok || len(ys) != 4 {
		return time.Time{}, false
	}
	return time.Date(int(year), mon, int(day), 0, 0, 0, 0, clk.loc), true
}

// isoDateTime reads ls --time-style=long-iso: "2007-04-11" "10:00".
func isoDateTime(ds, ts string, clk listClock) (time.Time, bool) {
	if len(ds) != 10 || ds[4] != '-' || ds[7] != '-' {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", ds+" "+ts, clk.loc)
	return t, err == nil
}
