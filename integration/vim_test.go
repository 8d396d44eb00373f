package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVimWritesTwice (issue 11, item 12, as a user meets it): vim writes a file, waits past
// dir_cache (the listing is fetched again, with the server's coarser time) and writes it again.
// vim compares the file's time with the one it saw after its first write and, when they differ,
// asks "The file has been changed since reading it" (with no terminal: the write fails). The
// second write must go through, on each of the servers that list times coarser than a second.
func TestVimWritesTwice(t *testing.T) {
	t.Parallel()
	requireEnv(t, "vim")
	forEachServerOf(t, []string{"vsftpd", "proftpd", "pure-ftpd"}, func(t *testing.T, kind string) {
		f := newFixture(t, kind, dirCacheFast)
		c := f.dir(t, "")
		script := `vim -N -u NONE -i NONE -n -es -c 'call setline(1, "one")' -c 'w' -c 'sleep 4' ` +
			`-c 'call setline(1, "two")' -c 'w' -c 'qa!' notes.txt </dev/null`
		r := try(3*cmdTimeout, c.Mnt, script)
		if r.Err != nil || strings.Contains(r.Stdout+r.Stderr, "changed since reading") {
			t.Errorf("vim's second write: %v", r)
		}
		if b, err := os.ReadFile(filepath.Join(c.Srv, "notes.txt")); err != nil || string(b) != "two\n" {
			t.Errorf("server side: %q, %v", b, err)
		}
	})
}
