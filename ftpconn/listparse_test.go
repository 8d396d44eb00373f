package ftpconn

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var testClock = listClock{now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC), loc: time.UTC}

func utc(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, time.UTC)
}

type lineCase struct {
	line  string
	class lineClass
	want  Entry
}

func checkLines(t *testing.T, parse func(string) (Entry, lineClass), cases []lineCase) {
	t.Helper()
	for _, tc := range cases {
		got, class := parse(tc.line)
		if class != tc.class {
			t.Errorf("%q: class %d, want %d (entry %+v)", tc.line, class, tc.class, got)
			continue
		}
		if class != lineEntry {
			continue
		}
		if !got.ModTime.Equal(tc.want.ModTime) {
			t.Errorf("%q: time %v, want %v", tc.line, got.ModTime, tc.want.ModTime)
		}
		got.ModTime, tc.want.ModTime = time.Time{}, time.Time{}
		if got != tc.want {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.line, got, tc.want)
		}
	}
}

func TestParseUnix(t *testing.T) {
	parse := func(l string) (Entry, lineClass) { return parseListLine(l, testClock) }
	checkLines(t, parse, []lineCase{
		// vsftpd, proftpd, pure-ftpd, GNU inetutils: the usual nine columns.
		{"-rw-r--r--    1 1000     1000        70962 Apr 11  2007 report.pdf", lineEntry,
			Entry{Name: "report.pdf", Size: 70962, ModTime: utc(2007, 4, 11, 0, 0, 0), Mode: 0o644, Owner: "1000", Group: "1000"}},
		{"drwxr-xr-x    2 ftp      ftp          4096 Nov 20 09:15 incoming", lineEntry,
			Entry{Name: "incoming", Type: TypeDir, ModTime: utc(2026, 11, 20, 9, 15, 0), Mode: 0o755, Owner: "ftp", Group: "ftp"}},
		// No group column (some embedded servers, issue 11 item 2).
		{"-rw-r--r--    1 owner     70962 Apr 11  2007 name", lineEntry,
			Entry{Name: "name", Size: 70962, ModTime: utc(2007, 4, 11, 0, 0, 0), Mode: 0o644, Owner: "owner"}},
		// No link count (owner and group only).
		{"-rw-r--r-- owner group 12 Apr 11  2007 x", lineEntry,
			Entry{Name: "x", Size: 12, ModTime: utc(2007, 4, 11, 0, 0, 0), Mode: 0o644, Owner: "owner", Group: "group"}},
		// Neither links, owner nor group (some routers).
		{"-rw-r--r--   12 Apr 11  2007 bare", lineEntry,
			Entry{Name: "bare", Size: 12, ModTime: utc(2007, 4, 11, 0, 0, 0), Mode: 0o644}},
		// ACL and SELinux marks after the permissions.
		{"drwxrwxr-x+  3 u g 4096 Jan  2  2020 acl", lineEntry,
			Entry{Name: "acl", Type: TypeDir, ModTime: utc(2020, 1, 2, 0, 0, 0), Mode: 0o775, Owner: "u", Group: "g"}},
		{"-rw-r-----.  1 u g 1 Jan  2  2020 selinux", lineEntry,
			Entry{Name: "selinux", Size: 1, ModTime: utc(2020, 1, 2, 0, 0, 0), Mode: 0o640, Owner: "u", Group: "g"}},
		// setuid, setgid, sticky, with and without x.
		{"-rwsr-sr-t   1 u g 1 Jan  2  2020 special", lineEntry,
			Entry{Name: "special", Size: 1, ModTime: utc(2020, 1, 2, 0, 0, 0), Mode: 0o7755, Owner: "u", Group: "g"}},
		{"drwxrwxrwT   1 u g 1 Jan  2  2020 tmp", lineEntry,
			Entry{Name: "tmp", Type: TypeDir, ModTime: utc(2020, 1, 2, 0, 0, 0), Mode: 0o1776, Owner: "u", Group: "g"}},
		// Symlinks with targets; a name with " -> " stays a name for files.
		{"lrwxrwxrwx    1 u  g   11 Mar  3 10:00 latest -> releases/v2", lineEntry,
			Entry{Name: "latest", Type: TypeSymlink, Size: 11, Target: "releases/v2", ModTime: utc(2026, 3, 3, 10, 0, 0), Mode: 0o777, Owner: "u", Group: "g"}},
		{"-rw-r--r--    1 u  g   11 Mar  3 10:00 a -> b", lineEntry,
			Entry{Name: "a -> b", Size: 11, ModTime: utc(2026, 3, 3, 10, 0, 0), Mode: 0o644, Owner: "u", Group: "g"}},
		// Names with leading and several spaces.
		{"-rw-r--r--    1 u  g   11 Mar  3 10:00   two  spaces ", lineEntry,
			Entry{Name: "  two  spaces ", Size: 11, ModTime: utc(2026, 3, 3, 10, 0, 0), Mode: 0o644, Owner: "u", Group: "g"}},
		{"-rw-r--r--    1 u  g   11 Mar  3  2001  lead", lineEntry,
			Entry{Name: " lead", Size: 11, ModTime: utc(2001, 3, 3, 0, 0, 0), Mode: 0o644, Owner: "u", Group: "g"}},
		// A year-less date is never in the future: 10 Dec is last year on 29 Nov;
		// one day ahead is today's clock skew, so this year.
		{"-rw-r--r--    1 u g 5 Dec 10 10:00 december", lineEntry,
			Entry{Name: "december", Size: 5, ModTime: utc(2025, 12, 10, 10, 0, 0), Mode: 0o644, Owner: "u", Group: "g"}},
		{"-rw-r--r--    1 u g 5 Nov 30 10:00 tomorrow", lineEntry,
			Entry{Name: "tomorrow", Size: 5, ModTime: utc(2026, 11, 30, 10, 0, 0), Mode: 0o644, Owner: "u", Group: "g"}},
		// Long-iso dates (ls --time-style=long-iso, some NAS).
		{"-rw-r--r--    1 u g 5 2024-02-29 23:59 iso", lineEntry,
			Entry{Name: "iso", Size: 5, ModTime: utc(2024, 2, 29, 23, 59, 0), Mode: 0o644, Owner: "u", Group: "g"}},
		// A month name as owner does not fool it.
		{"-rw-r--r--    1 dec  jan 5 Feb  1  2020 months", lineEntry,
			Entry{Name: "months", Size: 5, ModTime: utc(2020, 2, 1, 0, 0, 0), Mode: 0o644, Owner: "dec", Group: "jan"}},
		// Large files.
		{"-rw-r--r--    1 u g 5368709120 Feb  1  2020 big", lineEntry,
			Entry{Name: "big", Size: 5368709120, ModTime: utc(2020, 2, 1, 0, 0, 0), Mode: 0o644, Owner: "u", Group: "g"}},
		// Device files, pipes, sockets: read and passed over.
		{"crw-rw-rw-    1 root root 1,   3 Jan  1 12:00 null", lineSkip, Entry{}},
		{"brw-rw----    1 root disk 8,   0 Jan  1 12:00 sda", lineSkip, Entry{}},
		{"prw-r--r--    1 u g 0 Jan  1 12:00 fifo", lineSkip, Entry{}},
		{"srwxr-xr-x    1 u g 0 Jan  1 12:00 sock", lineSkip, Entry{}},
		{"total 24", lineSkip, Entry{}},
		{"", lineSkip, Entry{}},
		// Not readable.
		{"-rw-r--r--    1 u g 5 Feb  1  2020", lineBad, Entry{}},
		{"-rw-r--r--    1 u g five Feb  1  2020 x", lineBad, Entry{}},
		{"hello world", lineBad, Entry{}},
		{"-rwxrwxrwx", lineBad, Entry{}},
		{"-rw-r--r--    1 u g 5 Feb 32  2020 x", lineBad, Entry{}},
	})
}

func TestParseUnixTimeZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata:", err) // the fixed zone below covers the rule
	}
	clk := listClock{now: testClock.now, loc: berlin}
	e, _ := parseListLine("-rw-r--r-- 1 u g 5 Jul  1 12:00 summer", clk)
	if want := utc(2026, 7, 1, 10, 0, 0); !e.ModTime.Equal(want) {
		t.Errorf("12:00 in Berlin in July: %v, want %v", e.ModTime.UTC(), want)
	}
	clk.loc = time.FixedZone("-0500", -5*3600)
	e, _ = parseListLine("04-11-07  10:00PM  12 dos", clk)
	if want := utc(2007, 4, 12, 3, 0, 0); !e.ModTime.Equal(want) {
		t.Errorf("10 PM at -0500: %v, want %v", e.ModTime.UTC(), want)
	}
}

func TestParseDOS(t *testing.T) {
	parse := func(l string) (Entry, lineClass) { return parseListLine(l, testClock) }
	checkLines(t, parse, []lineCase{
		{"04-11-07  10:00AM       <DIR>          Program Files", lineEntry,
			Entry{Name: "Program Files", Type: TypeDir, ModTime: utc(2007, 4, 11, 10, 0, 0)}},
		{"04-11-07  12:05AM                 1234 midnight.txt", lineEntry,
			Entry{Name: "midnight.txt", Size: 1234, ModTime: utc(2007, 4, 11, 0, 5, 0)}},
		{"12-31-99  12:30PM                    0 noon", lineEntry,
			Entry{Name: "noon", ModTime: utc(1999, 12, 31, 12, 30, 0)}},
		{"04-11-2007  10:15PM           70,962 comma size", lineEntry,
			Entry{Name: "comma size", Size: 70962, ModTime: utc(2007, 4, 11, 22, 15, 0)}},
		{"02-29-2024  23:59                 7 24h.log", lineEntry,
			Entry{Name: "24h.log", Size: 7, ModTime: utc(2024, 2, 29, 23, 59, 0)}},
		{"04-11-07  13:00PM                 1 bad", lineBad, Entry{}},
		{"04-11-07  10:00AM                 x bad", lineBad, Entry{}},
		{"13-11-07  10:00AM                 1 bad", lineBad, Entry{}},
		{"04-11-07  10:00AM", lineBad, Entry{}},
	})
}

func TestParseEPLF(t *testing.T) {
	parse := func(l string) (Entry, lineClass) { return parseListLine(l, testClock) }
	checkLines(t, parse, []lineCase{
		{"+i8388621.48594,m825718503,r,s280,\tdjb.html", lineEntry,
			Entry{Name: "djb.html", Size: 280, ModTime: time.Unix(825718503, 0), Unique: "8388621.48594"}},
		{"+i8388621.50690,m824255907,/,\t514", lineEntry,
			Entry{Name: "514", Type: TypeDir, ModTime: time.Unix(824255907, 0), Unique: "8388621.50690"}},
		{"+m824255907,r,s5,up644,\twith mode", lineEntry,
			Entry{Name: "with mode", Size: 5, ModTime: time.Unix(824255907, 0), Mode: 0o644}},
		{"+i1,m1,\tneither", lineSkip, Entry{}},
		{"+r,s1 no tab", lineBad, Entry{}},
	})
}

func TestParseMLSD(t *testing.T) {
	checkLines(t, parseMLSDLine, []lineCase{
		// proftpd
		{"modify=20240229235958;perm=adfrw;size=70962;type=file;unique=FD00U1A2B;UNIX.group=1000;UNIX.groupname=ftp;UNIX.mode=0644;UNIX.owner=1000;UNIX.ownername=ftp; report.pdf", lineEntry,
			Entry{Name: "report.pdf", Size: 70962, ModTime: utc(2024, 2, 29, 23, 59, 58), Mode: 0o644, Owner: "ftp", Group: "ftp", Perm: "adfrw", Unique: "FD00U1A2B"}},
		{"modify=20240101000000;perm=flcdmpe;type=dir;unique=FD00U1;UNIX.mode=02775; shared dir", lineEntry,
			Entry{Name: "shared dir", Type: TypeDir, ModTime: utc(2024, 1, 1, 0, 0, 0), Mode: 0o2775, Perm: "flcdmpe", Unique: "FD00U1"}},
		{"modify=20240101000000;perm=adfr;size=1048576;type=OS.unix=symlink;unique=FD00U2;UNIX.mode=0777; link", lineEntry,
			Entry{Name: "link", Type: TypeSymlink, Size: 1048576, ModTime: utc(2024, 1, 1, 0, 0, 0), Mode: 0o777, Perm: "adfr", Unique: "FD00U2"}},
		{"type=cdir;modify=20240101000000; .", lineSkip, Entry{}},
		{"type=pdir;modify=20240101000000; ..", lineSkip, Entry{}},
		// pure-ftpd: lower-case facts, slink with the target, uid/gid.
		{"type=OS.unix=slink:/srv/data/big.iso;size=18;modify=20230102030405;UNIX.mode=0777;UNIX.uid=1000;UNIX.gid=1000;unique=803g1a2; big", lineEntry,
			Entry{Name: "big", Type: TypeSymlink, Size: int64(len("/srv/data/big.iso")), Target: "/srv/data/big.iso", ModTime: utc(2023, 1, 2, 3, 4, 5), Mode: 0o777, Owner: "1000", Group: "1000", Unique: "803g1a2"}},
		// Upper-case fact names and values, fractional seconds (RFC 3659 §2.3).
		{"Type=FILE;Size=3;Modify=20200102030405.250; f", lineEntry,
			Entry{Name: "f", Size: 3, ModTime: utc(2020, 1, 2, 3, 4, 5).Add(250 * time.Millisecond)}},
		// A name with leading spaces and semicolons.
		{"type=file;size=1;modify=20200102030405;  a;b", lineEntry,
			Entry{Name: " a;b", Size: 1, ModTime: utc(2020, 1, 2, 3, 4, 5)}},
		// The other RFC 3659 facts (create, lang, media-type, charset, sizd) and vendor ones
		// (Windows' win32.ea, x.hidden) are read past; sizd is no file size.
		{"type=file;size=5;modify=20200102030405;create=20190101000000;lang=en;media-type=text/plain;charset=UTF-8;win32.ea=0x20;x.hidden=false; facts", lineEntry,
			Entry{Name: "facts", Size: 5, ModTime: utc(2020, 1, 2, 3, 4, 5)}},
		{"type=dir;sizd=4096;modify=20200102030405;perm=el; d", lineEntry,
			Entry{Name: "d", Type: TypeDir, ModTime: utc(2020, 1, 2, 3, 4, 5), Perm: "el"}},
		// A device: passed over.
		{"type=OS.unix=chr-1/3;modify=20200102030405; null", lineSkip, Entry{}},
		{"size=1;modify=20200102030405; no type", lineBad, Entry{}},
		{"type=file;size=x; bad size", lineBad, Entry{}},
		{"type=file;modify=2020; bad time", lineBad, Entry{}},
		{"type=file;size=1;", lineBad, Entry{}},
	})
}

// FuzzParseListLine: no line makes a parser panic, and an entry always has
// a name, a size that is not negative and a mode within 0o7777.
func FuzzParseListLine(f *testing.F) {
	for _, s := range []string{
		"-rw-r--r--    1 u g 5 Dec 10 10:00 december",
		"lrwxrwxrwx    1 u  g   11 Mar  3 10:00 latest -> releases/v2",
		"04-11-07  10:00AM       <DIR>          Program Files",
		"+i8388621.48594,m825718503,r,s280,\tdjb.html",
		"type=OS.unix=slink:/x;size=18;modify=20230102030405;UNIX.mode=0777; big",
		"crw-rw-rw-    1 root root 1,   3 Jan  1 12:00 null",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, parse := range []func(string) (Entry, lineClass){
			func(l string) (Entry, lineClass) { return parseListLine(l, testClock) },
			parseMLSDLine,
		} {
			e, class := parse(line)
			if class != lineEntry {
				continue
			}
			if e.Name == "" || e.Size < 0 || e.Mode > 0o7777 {
				t.Fatalf("%q: %+v", line, e)
			}
			if utf8.ValidString(line) && !strings.Contains(line, e.Name) {
				t.Fatalf("%q: name %q is not in the line", line, e.Name)
			}
		}
	})
}

// TestParseListLineAllocs: a directory of a million entries is a million
// LIST lines; reading one must not copy it (a lowered copy of every line
// to find "total", of every month name to look it up). Before: 2
// allocations per vsftpd line.
func TestParseListLineAllocs(t *testing.T) {
	for _, line := range []string{
		"-rw-r--r--    1 1001     1001            0 Nov 30 00:11 entry-0000001.txt",
		"drwxr-xr-x    2 ftp      ftp          4096 Apr 11  2007 Some Dir",
		"total 1234",
	} {
		allocs := testing.AllocsPerRun(100, func() { parseListLine(line, testClock) })
		if allocs != 0 {
			t.Errorf("%q: %.0f allocations, want 0", line, allocs)
		}
	}
	// Month names in other cases and languages still parse.
	for _, s := range []string{"NOV", "nov.", "Mär", "DÉC", "déc."} {
		if _, ok := monthOf(s); !ok {
			t.Errorf("monthOf(%q) not recognised", s)
		}
	}
}
