package integration

import (
	"testing"
)

// TestServerChangesVisible mounts with the default dir_cache and checks that a file another client
// creates on the server shows up within visibleWithin, though the directory was listed (and cached)
// before.
func TestServerChangesVisible(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "vsftpd")
	c := f.dir(t, "printf 'before\\n' > old.txt")
	if got := sh(t, c.Mnt, "ls"); got != "old.txt\n" {
		t.Fatalf("ls: %q, want old.txt", got)
	}
	f.srv.sh(t, c.Srv, "printf 'created later\\n' > new.txt")
	eventually(t, "new.txt, created on the server, to show through the mount", func() (bool, string) {
		r := try(cmdTimeout, c.Mnt, "ls; cat new.txt")
		return r.Err == nil && r.Stdout == "new.txt\nold.txt\ncreated later\n", r.String()
	})
}
