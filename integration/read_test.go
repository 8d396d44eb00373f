package integration

import (
	"strings"
	"testing"
)

// TestRead reads through the mount what was made on the server side, on each server.
func TestRead(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, kind string) { testRead(t, newFixture(t, kind, dirCacheFast)) })
}

func testRead(t *testing.T, f *fixture) {
	t.Run("ls_stat", func(t *testing.T) {
		c := f.dir(t, "printf 'hello\\n' > a.txt; mkdir sub; head -c 1000 /dev/urandom > sub/b.bin")
		if got := sh(t, c.Mnt, "ls"); got != "a.txt\nsub\n" {
			t.Errorf("ls: %q, want a.txt and sub", got)
		}
		if got := sh(t, c.Mnt, "ls sub"); got != "b.bin\n" {
			t.Errorf("ls sub: %q, want b.bin", got)
		}
		for _, tc := range []struct{ path, format, want string }{
			{"a.txt", "%F %s", "regular file 6"},
			{"sub", "%F", "directory"},
			{"sub/b.bin", "%F %s", "regular file 1000"},
		} {
			if got := strings.TrimSpace(sh(t, c.Mnt, "stat -c "+q(tc.format)+" "+q(tc.path))); got != tc.want {
				t.Errorf("stat %s: %q, want %q", tc.path, got, tc.want)
			}
		}
		if out := sh(t, c.Mnt, "ls -l"); !strings.Contains(out, "a.txt") || !strings.Contains(out, "sub") {
			t.Errorf("ls -l: %q", out)
		}
	})

	t.Run("cat", func(t *testing.T) {
		c := f.dir(t, "printf 'line one\\nline two\\n' > text.txt; head -c 300000 /dev/urandom > random.bin")
		wantBothSides(t, c, "text.txt", []byte("line one\nline two\n"))
		wantBothSides(t, c, "random.bin", c.serverBytes(t, "random.bin"))
	})

	t.Run("missing_file", func(t *testing.T) {
		c := f.dir(t, "")
		wantNoEntry(t, c.Mnt, "no-such-file")
		wantNoEntry(t, c.Mnt, "no-such-dir/file")
		if stderr := shFails(t, c.Mnt, "cat no-such-file"); !strings.Contains(stderr, "No such file or directory") {
			t.Errorf("cat no-such-file: stderr %q", stderr)
		}
	})
}
