package integration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
	"github.com/ftpmount/ftpmount/integration/harness"
)

// Servers in the wild (issue 11): each test starts the in-process server playing one behaviour
// that public bug reports of FTP clients describe (ftptest.Quirks), mounts it with the real
// binary, and checks from the shell what a user would do there.

// quirkServer starts ftptest with q (LIST only unless mlsd) and files: name → content ("/" at the
// end of a name makes a directory).
func quirkServer(t *testing.T, q *ftptest.Quirks, mlsd bool, files map[string]string, faults *ftptest.Faults) *ftptest.Server {
	t.Helper()
	s := ftptest.Start(t, ftptest.Options{NoMLSD: !mlsd, Quirks: q, Faults: faults})
	for name, content := range files {
		p := filepath.Join(s.Dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func sameLines(t *testing.T, what, got string, want ...string) {
	t.Helper()
	if g := strings.Fields(got); strings.Join(g, " ") != strings.Join(want, " ") {
		t.Errorf("%s: %q, want %q", what, g, want)
	}
}

// Item 2: unix lines without the group column are read, not dropped.
func TestQuirkListNoGroup(t *testing.T) {
	t.Parallel()
	s := quirkServer(t, &ftptest.Quirks{ListLine: ftptest.LsNoGroup}, false,
		map[string]string{"a.txt": "alpha\n", "sub/b.txt": "beta\n"}, nil)
	m := mountFaulty(t, s.Addr)
	sameLines(t, "ls", sh(t, m.Dir, "ls"), "a.txt", "sub")
	sameLines(t, "cat", sh(t, m.Dir, "cat a.txt sub/b.txt"), "alpha", "beta")
}

// Other LIST formats: MS-DOS/IIS and EPLF.
func TestQuirkListFormats(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]func(os.FileInfo, *time.Location) string{"dos": ftptest.DOSLine, "eplf": ftptest.EPLFLine} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := quirkServer(t, &ftptest.Quirks{ListLine: f}, false,
				map[string]string{"Program Files/x.txt": "x\n", "two  spaces.txt": "12345"}, nil)
			m := mountFaulty(t, s.Addr)
			got := sh(t, m.Dir, "ls -1; stat -c '%F %s' 'two  spaces.txt' 'Program Files'; cat 'Program Files/x.txt'")
			want := "Program Files\ntwo  spaces.txt\nregular file 5\ndirectory 0\nx\n"
			if got != want {
				t.Errorf("through the mount: %q, want %q", got, want)
			}
		})
	}
}

// Item 3: "LIST -a" refused (550), or taken as a pattern (226, nothing): plain LIST after that.
func TestQuirkListDashA(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"refuse", "pattern"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			s := quirkServer(t, &ftptest.Quirks{DashA: how}, false,
				map[string]string{"a.txt": "a\n", "d/b.txt": "b\n"}, nil)
			m := mountFaulty(t, s.Addr, "connections=3")
			sameLines(t, "ls", sh(t, m.Dir, "ls; ls d"), "a.txt", "d", "b.txt")
			time.Sleep(1500 * time.Millisecond) // dir_cache=1: listed again
			sameLines(t, "ls again", sh(t, m.Dir, "ls d; ls"), "b.txt", "a.txt", "d")
			// Learned once per mount: "LIST -a" was sent once, though / and d were each listed twice.
			log, _ := os.ReadFile(m.Log)
			if n := bytes.Count(log, []byte("> LIST -a")); n != 1 {
				t.Errorf("LIST -a sent %d times, want once (then plain LIST for the mount)", n)
			}
		})
	}
}

// Item 4: "550 No files found" for an empty directory is an empty directory.
func TestQuirkEmptyDir550(t *testing.T) {
	t.Parallel()
	for _, mlsd := range []bool{false, true} {
		t.Run(fmt.Sprint("mlsd=", mlsd), func(t *testing.T) {
			t.Parallel()
			s := quirkServer(t, &ftptest.Quirks{EmptyDir550: true}, mlsd, map[string]string{"empty/": "", "f": "x"}, nil)
			m := mountFaulty(t, s.Addr)
			if got := sh(t, m.Dir, "ls empty; mkdir new; ls new; ls -la new >/dev/null"); got != "" {
				t.Errorf("ls of empty directories: %q", got)
			}
			if r := try(cmdTimeout, m.Dir, "ls nope"); r.Err == nil {
				t.Errorf("ls of a missing directory succeeded: %v", r)
			}
		})
	}
}

// Item 5: a listing the server cuts short (pure-ftpd's "226 Output truncated") does not hide the
// names it left out, and the log says once what happened and what lifts it.
func TestQuirkTruncatedListing(t *testing.T) {
	t.Parallel()
	files := map[string]string{}
	for i := 0; i < 15; i++ {
		files[fmt.Sprintf("f%02d", i)] = fmt.Sprintf("file %d\n", i)
	}
	for _, mlsd := range []bool{false, true} {
		t.Run(fmt.Sprint("mlsd=", mlsd), func(t *testing.T) {
			t.Parallel()
			s := quirkServer(t, &ftptest.Quirks{ListLimit: 10}, mlsd, files, nil)
			m := mountFaulty(t, s.Addr)
			got := sh(t, m.Dir, "cat f14; stat -c %s f12; test -e f14; ! test -e f99")
			if got != "file 14\n8\n" {
				t.Errorf("a name past the cut: %q", got)
			}
			log, _ := os.ReadFile(m.Log)
			if n := bytes.Count(log, []byte("is incomplete")); n != 1 || !bytes.Contains(log, []byte("LimitRecursion")) {
				t.Errorf("the log says %d times that a listing is incomplete (want once, naming the setting)", n)
			}
		})
	}
}

// Item 6: pure-ftpd's MLSD symlinks ("type=OS.unix=slink:TARGET") are symlinks: cp copies the
// target's bytes, ls of a link to a directory lists it.
func TestQuirkMLSDSymlinks(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	s := quirkServer(t, &ftptest.Quirks{MLSDSymlinks: true}, true,
		map[string]string{"data/big.bin": big, "data/sub/inner.txt": "inner\n"}, nil)
	for link, target := range map[string]string{"big": "data/big.bin", "dirlink": "data/sub"} {
		if err := os.Symlink(target, filepath.Join(s.Dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	m := mountFaulty(t, s.Addr)
	got := sh(t, m.Dir, "stat -c %F big; readlink big; cp big /dev/stdout | wc -c; ls dirlink/")
	want := "symbolic link\ndata/big.bin\n1048576\ninner.txt\n"
	if got != want {
		t.Errorf("through the mount: %q, want %q", got, want)
	}
}

// Item 7: a server listing in its own zone, with -o timezone: the times shown are the files' own.
func TestQuirkTimeZone(t *testing.T) {
	t.Parallel()
	zone := time.FixedZone("+0500", 5*3600)
	s := quirkServer(t, &ftptest.Quirks{ListZone: zone}, false, map[string]string{"f": "x"}, nil)
	when := time.Now().Add(-48 * time.Hour).Truncate(time.Minute)
	if err := os.Chtimes(filepath.Join(s.Dir, "f"), when, when); err != nil {
		t.Fatal(err)
	}
	m := mountFaulty(t, s.Addr, "timezone=+0500")
	if got := strings.TrimSpace(sh(t, m.Dir, "stat -c %Y f")); got != fmt.Sprint(when.Unix()) {
		t.Errorf("mtime %s, want %d (the file's own; off by %s)", got, when.Unix(), offBy(got, when))
	}
}

func offBy(got string, want time.Time) time.Duration {
	var n int64
	fmt.Sscan(got, &n)
	return time.Duration(n-want.Unix()) * time.Second
}

// Item 8: modes from MLSD's UNIX.mode, chmod as SITE CHMOD; ln -s as SITE SYMLINK, EPERM without.
func TestQuirkModesAndSite(t *testing.T) {
	t.Parallel()
	s := quirkServer(t, &ftptest.Quirks{UnixMode: true, SiteChmod: true, SiteSymlink: true}, true,
		map[string]string{"secret": "s", "script": "#!/bin/sh\n"}, nil)
	os.Chmod(filepath.Join(s.Dir, "secret"), 0o600)
	m := mountFaulty(t, s.Addr)
	if got := sh(t, m.Dir, "stat -c %a secret script"); got != "600\n644\n" {
		t.Errorf("modes shown: %q, want 600 and 644", got)
	}
	sh(t, m.Dir, "chmod 750 script; ln -s script link")
	if fi, err := os.Stat(filepath.Join(s.Dir, "script")); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("after chmod 750 the server has %v, %v", fi.Mode(), err)
	}
	if target, err := os.Readlink(filepath.Join(s.Dir, "link")); err != nil || target != "script" {
		t.Errorf("after ln -s the server has %q, %v", target, err)
	}

	plain := quirkServer(t, nil, true, map[string]string{"f": "x"}, nil)
	pm := mountFaulty(t, plain.Addr)
	r := try(cmdTimeout, pm.Dir, "ln -s f link")
	if r.Err == nil || !strings.Contains(r.Stderr, "Operation not permitted") {
		t.Errorf("ln -s without SITE SYMLINK: %v, want EPERM", r)
	}
	sh(t, pm.Dir, "chmod 600 f") // kept in memory: succeeds
}

// Item 9: transfers that end with 250, and OPTS UTF8 refused while FEAT lists UTF8.
func TestQuirkReplies(t *testing.T) {
	t.Parallel()
	s := quirkServer(t, &ftptest.Quirks{Reply250: true}, false, map[string]string{"f": "from the server\n"}, &ftptest.Faults{
		Hook: func(cmd, param string) *ftptest.Action {
			if cmd == "OPTS" {
				return &ftptest.Action{Reply: "502 Command not implemented."}
			}
			return nil
		},
	})
	m := mountFaulty(t, s.Addr)
	got := sh(t, m.Dir, "cat f; printf 'up\\n' > g; ls")
	sameLines(t, "cat and ls", got, "from", "the", "server", "f", "g")
	if b, err := os.ReadFile(filepath.Join(s.Dir, "g")); err != nil || string(b) != "up\n" {
		t.Errorf("upload: %q, %v", b, err)
	}
}

// Item 10: a LIST that ignores its path (lists the working directory).
func TestQuirkListIgnoresPath(t *testing.T) {
	t.Parallel()
	s := quirkServer(t, &ftptest.Quirks{ListIgnoresPath: true}, false,
		map[string]string{"Bilder/urlaub.jpg": "jpg", "Bilder/2024/x.jpg": "x", "top.txt": "t"}, nil)
	m := mountFaulty(t, s.Addr)
	got := sh(t, m.Dir, "ls Bilder; cat Bilder/urlaub.jpg; echo; timeout 20 find . | sort")
	want := "2024\nurlaub.jpg\njpg\n.\n./Bilder\n./Bilder/2024\n./Bilder/2024/x.jpg\n./Bilder/urlaub.jpg\n./top.txt\n"
	if got != want {
		t.Errorf("through the mount: %q, want %q", got, want)
	}
}

// Item 11: a year-less date ("Dec 24 10:00") is never in the future.
func TestQuirkYearlessDates(t *testing.T) {
	t.Parallel()
	yearless := func(fi os.FileInfo, loc *time.Location) string { // always "Mon DD HH:MM", as some servers print
		return fmt.Sprintf("-rw-r--r-- 1 u g %d %s %s\r\n", fi.Size(), fi.ModTime().In(loc).Format("Jan _2 15:04"), fi.Name())
	}
	s := quirkServer(t, &ftptest.Quirks{ListLine: yearless}, false, map[string]string{"old": "x"}, nil)
	when := time.Now().AddDate(-1, 0, 25).Truncate(time.Minute) // later in the year than today, last year
	os.Chtimes(filepath.Join(s.Dir, "old"), when, when)
	m := mountFaulty(t, s.Addr)
	if got := strings.TrimSpace(sh(t, m.Dir, "stat -c %Y old")); got != fmt.Sprint(when.Unix()) {
		t.Errorf("mtime %s, want %d (off by %s)", got, when.Unix(), offBy(got, when))
	}
}

// Item 12: the time shown after a write does not jump when the listing is fetched again.
func TestQuirkTimesAfterWrite(t *testing.T) {
	t.Parallel()
	s := quirkServer(t, nil, false, nil, nil) // LIST: times to the minute
	m := mountFaulty(t, s.Addr)
	first := sh(t, m.Dir, "printf 'one\\n' > f; stat -c %.9Y f")
	time.Sleep(2500 * time.Millisecond) // dir_cache=1: listed again
	if again := sh(t, m.Dir, "stat -c %.9Y f"); again != first {
		t.Errorf("mtime after a write %s, later %s: it jumped", strings.TrimSpace(first), strings.TrimSpace(again))
	}
	// A change by someone else shows.
	later := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	os.WriteFile(filepath.Join(s.Dir, "f"), []byte("two\n"), 0o644)
	os.Chtimes(filepath.Join(s.Dir, "f"), later, later)
	time.Sleep(2500 * time.Millisecond)
	if got := strings.TrimSpace(sh(t, m.Dir, "stat -c %Y f")); got != fmt.Sprint(later.Unix()) {
		t.Errorf("after another client's change: mtime %s, want %d", got, later.Unix())
	}
}

// Item 13: a case-only rename on a case-insensitive server.
func TestQuirkCaseOnlyRename(t *testing.T) {
	t.Parallel()
	s := quirkServer(t, &ftptest.Quirks{CaseInsensitive: true}, true, map[string]string{"Report.txt": "r\n"}, nil)
	m := mountFaulty(t, s.Addr)
	sameLines(t, "ls after mv", sh(t, m.Dir, "mv Report.txt report.txt; ls; cat report.txt"), "report.txt", "r")
	if _, err := os.Stat(filepath.Join(s.Dir, "report.txt")); err != nil {
		t.Errorf("server side: %v", err)
	}
}

// Item 14: a name over 255 bytes is left out (and logged), and the rest lists.
func TestQuirkLongNames(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("n", 300)
	for _, mlsd := range []bool{false, true} {
		t.Run(fmt.Sprint("mlsd=", mlsd), func(t *testing.T) {
			t.Parallel()
			extra := "-rw-r--r-- 1 u g 3 Jan  1  2020 " + long
			if mlsd {
				extra = "type=file;size=3;modify=20200101000000; " + long
			}
			s := quirkServer(t, &ftptest.Quirks{ExtraListLines: []string{extra}}, mlsd, map[string]string{"ok.txt": "ok"}, nil)
			m := mountFaulty(t, s.Addr)
			sameLines(t, "ls -la", sh(t, m.Dir, "ls -la >/dev/null; ls -a; cp -r . "+t.TempDir()), ".", "..", "ok.txt")
			if log, _ := os.ReadFile(m.Log); !bytes.Contains(log, []byte("longer than 255 bytes")) {
				t.Error("the long name was not logged")
			}
		})
	}
}

// A line no parser reads (besides the fixes): the rest of the listing shows, and the line is logged
// with its directory at the default log level (not only with -o debug), once however often the
// directory is listed.
func TestQuirkUnreadableLine(t *testing.T) {
	t.Parallel()
	requireEnv(t)
	s := quirkServer(t, &ftptest.Quirks{ExtraListLines: []string{"?? this is no listing line ??"}}, false,
		map[string]string{"ok.txt": "ok", "sub/in.txt": "in"}, nil)
	logFile := filepath.Join(t.TempDir(), "ftpmount.log")
	m := mountAt(t, harness.URL(s.User, s.Password, s.Addr), newMountDir(t), "logfile="+logFile, "dir_cache=1",
		"spool_dir="+t.TempDir(), "recovery_dir="+t.TempDir())
	sameLines(t, "ls", sh(t, m.Dir, "ls; ls sub"), "ok.txt", "sub", "in.txt")
	time.Sleep(2 * time.Second) // dir_cache=1: listed again
	sameLines(t, "ls again", sh(t, m.Dir, "ls; ls sub"), "ok.txt", "sub", "in.txt")
	log, _ := os.ReadFile(logFile)
	for _, dir := range []string{"/", "/sub"} {
		want := "listing of " + dir + ": 1 line(s) not understood and left out, first: \"?? this is no listing line ??\""
		if n := strings.Count(string(log), want); n != 1 {
			t.Errorf("the log says %d times %q, want once; log:\n%s", n, want, harness.Clip(string(log)))
		}
	}
}

// Item 8 with LIST: the permission strings of `ls -l` lines are the modes shown, less umask; where
// the server has no SITE CHMOD, chmod is kept by the mount (shown, the server's file unchanged).
func TestQuirkListModes(t *testing.T) {
	t.Parallel()
	s := quirkServer(t, nil, false, map[string]string{"secret": "s", "script": "#!/bin/sh\n", "d/x": "x"}, nil)
	os.Chmod(filepath.Join(s.Dir, "secret"), 0o600)
	os.Chmod(filepath.Join(s.Dir, "script"), 0o755)
	os.Chmod(filepath.Join(s.Dir, "d"), 0o750)
	m := mountFaulty(t, s.Addr)
	if got := sh(t, m.Dir, "stat -c %a secret script d"); got != "600\n755\n750\n" {
		t.Errorf("modes shown: %q, want 600 755 750 (the server's)", got)
	}
	um := mountFaulty(t, s.Addr, "umask=027")
	if got := sh(t, um.Dir, "stat -c %a secret script d"); got != "600\n750\n750\n" {
		t.Errorf("modes shown with umask=027: %q, want 600 750 750", got)
	}
	if got := sh(t, m.Dir, "chmod 640 secret; stat -c %a secret"); got != "640\n" {
		t.Errorf("after chmod 640 without SITE CHMOD: %q, want 640 (kept by the mount)", got)
	}
	if fi, err := os.Stat(filepath.Join(s.Dir, "secret")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the server's file: %v, %v (no SITE CHMOD: unchanged)", fi.Mode(), err)
	}
}
