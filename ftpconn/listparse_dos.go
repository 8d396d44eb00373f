package ftpconn

import (
	"strconv"
	"strings"
	"time"
)

// parseDOS reads the MS-DOS style of IIS and many Windows servers:
//
//	04-11-07  10:00AM       <DIR>          name
//	04-11-2007  10:00PM              1234 name with  spaces
//	04-11-2007  22:05                1234 name          (24-hour clock)
//
// The date is month-day-year (two-digit years: 70-99 are 19xx). The name is
// the rest of the line after the size or <DIR> and the spaces that align
// it (so a name's own leading spaces cannot be told from padding).
func parseDOS(line string, clk listClock) (Entry, lineClass) {
	f := strings.Fields(line)
	if len(f) < 4 {
		return Entry{}, lineBad
	}
	date := strings.FieldsFunc(f[0], func(r rune) bool { return r == '-' || r == '/' || r == '.' })
	if len(date) != 3 {
		return Entry{}, lineBad
	}
	mon, ok1 := atoiOK(date[0])
	day, ok2 := atoiOK(date[1])
	year, ok3 := atoiOK(date[2])
	if !ok1 || !ok2 || !ok3 || mon < 1 || mon > 12 || day < 1 || day > 31 {
		return Entry{}, lineBad
	}
	switch {
	case len(date[2]) == 2 && year < 70:
		year += 2000
	case len(date[2]) == 2:
		year += 1900
	case len(date[2]) != 4:
		return Entry{}, lineBad
	}
	clock := strings.ToUpper(f[1])
	pm, am := strings.HasSuffix(clock, "PM"), strings.HasSuffix(clock, "AM")
	clock = strings.TrimSuffix(strings.TrimSuffix(clock, "PM"), "AM")
	hs, ms, ok := strings.Cut(clock, ":")
	hour, ok1 := atoiOK(hs)
	minute, ok2 := atoiOK(ms)
	if !ok || !ok1 || !ok2 || hour > 23 || minute > 59 || (am || pm) && (hour < 1 || hour > 12) {
		return Entry{}, lineBad
	}
	if pm && hour < 12 {
		hour += 12
	}
	if am && hour == 12 {
		hour = 0
	}
	e := Entry{ModTime: time.Date(int(year), time.Month(mon), int(day), int(hour), int(minute), 0, 0, clk.loc)}
	if strings.EqualFold(f[2], "<DIR>") {
		e.Type = TypeDir
	} else if n, err := strconv.ParseInt(strings.ReplaceAll(f[2], ",", ""), 10, 64); err == nil && n >= 0 {
		e.Size = n
	} else {
		return Entry{}, lineBad
	}
	// The name starts after the third field and its padding.
	rest := line
	for i := 0; i < 3; i++ {
		rest = strings.TrimLeft(rest, " \t")
		j := strings.IndexAny(rest, " \t")
		if j < 0 {
			return Entry{}, lineBad
		}
		rest = rest[j:]
	}
	e.Name = strings.TrimLeft(rest, " \t")
	if e.Name == "" {
		return Entry{}, lineBad
	}
	return e, lineEntry
}

// parseEPLF reads Easily Parsed LIST Format (D. J. Bernstein,
// cr.yp.to/ftp/list/eplf.html): '+', comma-separated facts, a tab, the
// name. Facts: '/' a directory, 'r' a file (retrievable), "s<size>",
// "m<unix seconds>", "up<octal mode>", "i<unique id>".
func parseEPLF(line string) (Entry, lineClass) {
	facts, name, ok := strings.Cut(line[1:], "\t")
	if !ok || name == "" {
		return Entry{}, lineBad
	}
	e := Entry{Name: name}
	known := false
	for _, f := range strings.Split(facts, ",") {
		switch {
		case f == "/":
			e.Type, known = TypeDir, true
		case f == "r":
			known = true
		case strings.HasPrefix(f, "s"):
			if n, ok := atoiOK(f[1:]); ok {
				e.Size = n
			}
		case strings.HasPrefix(f, "m"):
			if n, ok := atoiOK(f[1:]); ok {
				e.ModTime = time.Unix(n, 0).UTC()
			}
		case strings.HasPrefix(f, "up"):
			if m, err := strconv.ParseUint(f[2:], 8, 32); err == nil {
				e.Mode = uint32(m) & 0o7777
			}
		case strings.HasPrefix(f, "i"):
			e.Unique = f[1:]
		}
	}
	if !known {
		return Entry{}, lineSkip // neither a file nor a directory (EPLF says: ignore)
	}
	if e.Type == TypeDir {
		e.Size = 0
	}
	return e, lineEntry
}
