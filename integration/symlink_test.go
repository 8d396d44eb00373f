package integration

import (
	"strings"
	"testing"
)

// TestSymlinks checks that symbolic links made on the server show as symlinks (vsftpd reports them
// in LIST as "l" lines) and that readlink gives their target.
func TestSymlinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "vsftpd", dirCacheFast)
	c := f.dir(t, "printf 'data\\n' > target.txt; ln -s target.txt link")
	got := strings.TrimSpace(sh(t, c.Mnt, "stat -c %F link; readlink link; cat link"))
	want := "symbolic link\ntarget.txt\ndata"
	if got != want {
		t.Fatalf("through the mount: %q, want %q", got, want)
	}
}
