package ftpconn

import (
	"strings"
	"time"
)

// Listing lines as servers really send them.
//
// jlaffaye/ftp's parsers drop what they cannot read without a word, keep
// only three MLSD facts, and read MLSD times in the wrong zone; these are
// ftpconn's own. MLSD lines (RFC 3659 §7) go to parseMLSDLine. LIST has no
// standard format (RFC 959 §4.1.3 leaves it to the server); parseListLine
// recognises, by the shape of the line:
//
//   - EPLF (a line starting with '+'): "+i8388621.48594,m825718503,r,s280,\tdjb.html"
//   - MS-DOS/IIS: "04-11-07  10:00AM       <DIR>          name",
//     "04-11-2007  22:05                 1234 name"
//   - unix ls -l and its many variants (listparse_unix.go): with or
//     without the owner or group column, numeric ids, ACL marks after the
//     permissions ('+', '.', '@'), device files, "name -> target", names
//     with leading or several spaces, "Apr 11  2007" and "Dec 10 10:00"
//     dates, long-iso dates ("2007-04-11 10:00").
//
// Each returns an Entry and what the line was: an entry, a line to pass
// over without a word ("total 12", ".", "..", device files), or a line it
// could not read, which the caller logs.

// lineClass says what a listing line turned out to be.
type lineClass int

const (
	lineEntry lineClass = iota // an entry: the Entry is filled in
	lineSkip                   // not an entry, deliberately passed over
	lineBad                    // unreadable: log it
)

// listClock is what LIST times are read against: now (year-less dates are
// never in the future) and loc, the server's time zone (-o timezone; UTC
// by default).
type listClock struct {
	now time.Time
	loc *time.Location
}

// parseListLine reads one line of a LIST reply.
func parseListLine(line string, clk listClock) (Entry, lineClass) {
	trimmed := strings.TrimSpace(line)
	switch {
	case trimmed == "":
		return Entry{}, lineSkip
	case strings.HasPrefix(line, "+"):
		return parseEPLF(line)
	case len(trimmed) >= 6 && strings.EqualFold(trimmed[:6], "total "): // no lowered copy of every line
		return Entry{}, lineSkip
	case line[0] >= '0' && line[0] <= '9':
		return parseDOS(line, clk)
	}
	return parseUnix(line, clk)
}

// yearless places a date given without a year (ls -l shows recent files
// as "Dec 10 10:00"): in the current year, unless that is more than a day
// ahead of now (clocks and zones differ), then in the year before. That is
// the most recent such date not later than now, as ls itself means it.
func yearless(month time.Month, day, hour, min int, clk listClock) time.Time {
	now := clk.now.In(clk.loc)
	t := time.Date(now.Year(), month, day, hour, min, 0, 0, clk.loc)
	if t.After(now.Add(24 * time.Hour)) {
		t = time.Date(now.Year()-1, month, day, hour, min, 0, 0, clk.loc)
	}
	return t
}

// atoiOK parses a decimal of digits only (no sign), at most 18 digits.
func atoiOK(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}
