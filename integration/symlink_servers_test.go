package integration

import (
	"strings"
	"testing"
)

// TestSymlinksMLSD (issue 11, item 6): symbolic links made on MLSD servers. Debian's pure-ftpd
// 1.0.50 lists them as "type=OS.unix=slink:;size=7" (the target left out, the size the link
// text's), proftpd as "type=OS.unix=symlink". Neither names the target, so through the mount a link
// to a file reads as the file (all its bytes: before, cp copied 7), a link to a directory lists as
// the directory. (Servers that name the target show symlinks: TestQuirkMLSDSymlinks.)
func TestSymlinksMLSD(t *testing.T) {
	t.Parallel()
	forEachServerOf(t, []string{"pure-ftpd", "proftpd"}, func(t *testing.T, kind string) {
		f := newFixture(t, kind, dirCacheFast)
		c := f.dir(t, "head -c 1048576 /dev/urandom > big.bin; mkdir sub; echo inner > sub/inner.txt; ln -s big.bin link; ln -s sub dirlink")
		got := sh(t, c.Mnt, "cat link | wc -c; ls dirlink/; cmp link big.bin && echo same")
		if got != "1048576\ninner.txt\nsame\n" {
			t.Errorf("through the mount: %q", got)
		}
		if got := strings.TrimSpace(sh(t, c.Mnt, "stat -c '%F %s' link")); got != "regular file 1048576" {
			t.Errorf("stat of the link: %q, want a regular file of 1048576 bytes", got)
		}
	})
}
