package integration

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// awkwardNames are file names that must survive the trip through FTP commands and listings.
var awkwardNames = []string{
	"with space", "two  spaces", `double"quote`, "single'quote", "hash#tag", "#leading-hash",
	"per%cent", "%41%20", "-leading-dash", "--", "é", "日本", "mixed é 日本 #%",
}

// newLoggedFixture is newFixture on vsftpd with a debug log that is shown when the test fails, and
// private spool and recovery directories.
func newLoggedFixture(t *testing.T, opts ...string) *fixture {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "ftpmount.log")
	f := newFixture(t, "vsftpd", append([]string{"dir_cache=1", "timeout=5", "debug", "logfile=" + logFile,
		"spool_dir=" + t.TempDir(), "recovery_dir=" + t.TempDir()}, opts...)...)
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("FTPMOUNT_SHOW_LOG") != "" {
			t.Logf("ftpmount debug log %s, last lines:\n%s", logFile, harness.Tail(logFile, 100))
		}
	})
	return f
}

// TestFaultNames: awkward names (issue 4) on vsftpd, through the mount: create, list, read,
// rename, delete, for files and directories; names FTP cannot carry fail with EINVAL; names too
// long fail at once.
func TestFaultNames(t *testing.T) {
	t.Parallel()
	f := newLoggedFixture(t)

	t.Run("files", func(t *testing.T) {
		c := f.dir(t, "")
		for _, name := range awkwardNames {
			content := "content of " + name + "\n"
			sh(t, c.Mnt, "printf '%s\\n' "+q("content of "+name)+" > "+q("./"+name))
			if got := string(readOrNil(c.serverPath(name))); got != content {
				t.Errorf("create %q: server side has %q", name, got)
			}
			if !slices.Contains(lsNames(t, c.Mnt), name) {
				t.Errorf("ls after creating %q: %q", name, lsNames(t, c.Mnt))
			}
			if got := sh(t, c.Mnt, "cat -- "+q(name)); got != content {
				t.Errorf("cat %q: %q", name, got)
			}
			moved := name + ".moved"
			sh(t, c.Mnt, "mv -- "+q(name)+" "+q(moved))
			if _, err := os.Lstat(c.serverPath(name)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("mv %q: the old name is still on the server (%v)", name, err)
			}
			if got := string(readOrNil(c.serverPath(moved))); got != content {
				t.Errorf("mv %q: server side %q has %q", name, moved, got)
			}
			if got := sh(t, c.Mnt, "cat -- "+q(moved)); got != content {
				t.Errorf("cat %q after mv: %q", moved, got)
			}
			sh(t, c.Mnt, "rm -- "+q(moved))
			wantGone(t, c, moved)
			wantGone(t, c, name)
		}
		if left := lsNames(t, c.Mnt); len(left) != 0 {
			t.Errorf("ls at the end: %q", left)
		}
	})

	t.Run("dirs", func(t *testing.T) {
		c := f.dir(t, "")
		for _, name := range awkwardNames {
			sh(t, c.Mnt, "mkdir -- "+q(name)+" && echo inside > "+q("./"+name+"/f"))
			wantServerDir(t, c, name)
			if got := sh(t, c.Mnt, "ls -- "+q(name)+" && cat -- "+q(name+"/f")); got != "f\ninside\n" {
				t.Errorf("ls and cat in %q: %q", name, got)
			}
			sh(t, c.Mnt, "mv -- "+q(name)+" "+q(name+".moved")+" && rm -- "+q(name+".moved/f")+" && rmdir -- "+q(name+".moved"))
			wantGone(t, c, name)
			wantGone(t, c, name+".moved")
		}
	})

	t.Run("server_side", func(t *testing.T) {
		// Made by the server's user, so that what the mount parses is vsftpd's LIST.
		var setup strings.Builder
		for _, name := range awkwardNames {
			setup.WriteString("printf '%s\\n' " + q("made on the server: "+name) + " > " + q("./"+name) + "\n")
		}
		c := f.dir(t, setup.String())
		got := lsNames(t, c.Mnt)
		want := slices.Sorted(slices.Values(awkwardNames))
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("ls: %q, want %q", got, want)
		}
		for _, name := range awkwardNames {
			if got := sh(t, c.Mnt, "cat -- "+q(name)); got != "made on the server: "+name+"\n" {
				t.Errorf("cat %q: %q", name, got)
			}
		}
	})

	t.Run("newline", func(t *testing.T) {
		c := f.dir(t, "printf x > plain")
		for _, script := range []string{
			`touch $'a\nb'`, `touch $'a\rb'`, `mkdir $'d\nx'`, `echo hi > $'e\nf'`, `mv plain $'p\nq'`,
		} {
			r := try(cmdTimeout, c.Mnt, script)
			switch {
			case r.TimedOut:
				t.Errorf("hung: %v", r)
			case r.Err == nil:
				t.Errorf("succeeded, want EINVAL: %v", r)
			case strings.HasPrefix(script, "mv ") && strings.Contains(r.Stderr, "subdirectory of itself"):
				// coreutils' mv words EINVAL from rename(2) so.
			case !strings.Contains(r.Stderr, "Invalid argument"):
				t.Errorf("stderr should say \"Invalid argument\" (EINVAL): %v", r)
			}
		}
		if got := lsNames(t, c.Mnt); !slices.Equal(got, []string{"plain"}) {
			t.Errorf("ls after the refused names: %q, want only plain", got)
		}
		if got := string(readOrNil(c.serverPath("plain"))); got != "x" {
			t.Errorf("server side plain: %q", got)
		}
	})

	t.Run("long", func(t *testing.T) {
		c := f.dir(t, "")
		long300 := strings.Repeat("x", 300)
		start := time.Now()
		r := try(10*time.Second, c.Mnt, "touch "+long300)
		switch {
		case r.TimedOut:
			t.Errorf("touch of a 300-byte name hung: %v", r)
		case r.Err == nil:
			t.Errorf("touch of a 300-byte name succeeded: %v", r)
		case !strings.Contains(r.Stderr, "File name too long"):
			t.Errorf("touch of a 300-byte name: want ENAMETOOLONG: %v", r)
		}
		t.Logf("300-byte name: %v after %v; the mount reports a name limit of %s bytes (stat -f)",
			r.Err, time.Since(start).Round(time.Millisecond), strings.TrimSpace(sh(t, c.Mnt, "stat -f -c %l .")))
		if got := lsNames(t, c.Mnt); len(got) != 0 {
			t.Errorf("after the refused 300-byte name, ls shows %q", got)
		}

		long250 := strings.Repeat("y", 250)
		r = try(cmdTimeout, c.Mnt, "echo long > "+long250)
		switch {
		case r.TimedOut:
			t.Errorf("a 250-byte name hung: %v", r)
		case r.Err != nil:
			t.Logf("a 250-byte name failed (allowed): %v", r)
			if got := lsNames(t, c.Mnt); len(got) != 0 {
				t.Errorf("after the failed create, ls shows %q", got)
			}
		default:
			if got := string(readOrNil(c.serverPath(long250))); got != "long\n" {
				t.Errorf("a 250-byte name: created, but the server has %q", got)
			}
			if got := sh(t, c.Mnt, "cat "+long250); got != "long\n" {
				t.Errorf("cat of a 250-byte name: %q", got)
			}
			sh(t, c.Mnt, "rm "+long250)
			wantGone(t, c, long250)
		}
	})
}

// lsNames lists dir through the mount (ls -A, one name per line; names with a newline would
// break this, and cannot exist there).
func lsNames(t *testing.T, dir string) []string {
	t.Helper()
	out := sh(t, dir, "ls -A")
	if out == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

// TestFaultHugeDirectory: a directory of 100,000 files made on the server side lists completely
// through the mount (vsftpd, one LIST).
func TestFaultHugeDirectory(t *testing.T) {
	t.Parallel()
	const n = 100_000
	// vsftpd stats all 100,000 files before the first line of its LIST: on a loaded machine that
	// takes longer than the fixture's 5 s timeout, which this test is not about.
	f := newLoggedFixture(t, "timeout=60")
	c := f.dir(t, "mkdir many && cd many && seq -f 'f%06g' 1 100000 | xargs touch")
	start := time.Now()
	got := strings.TrimSpace(shTimeout(t, 5*time.Minute, c.Mnt, "ls many | wc -l"))
	t.Logf("ls | wc -l of %d entries: %v", n, time.Since(start).Round(time.Millisecond))
	if got != "100000" {
		t.Errorf("ls many | wc -l: %s, want %d", got, n)
	}
	sh(t, c.Mnt, "test -f many/f000001 && test -f many/f100000 && ! test -e many/f100001")
	if ends := sh(t, c.Mnt, "ls many | sed -n '1p;$p'"); ends != "f000001\nf100000\n" {
		t.Errorf("ls many: first and last %q", ends)
	}
}
