package integration

import (
	"strings"
	"testing"
)

// TestWhatUsersSee: details a user notices in ls and stat: the mount's root has an inode number
// and a time of this century, access times are the modification times (FTP keeps none) rather than
// 1970, and `ls -a` lists . and .. like any directory.
func TestWhatUsersSee(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "vsftpd", dirCacheFast)
	c := f.dir(t, "echo x > f.txt; touch -d 2021-06-01T12:00:00 f.txt; mkdir sub")

	root := strings.Fields(sh(t, f.mnt.Dir, "stat -c '%i %Y %X' ."))
	if len(root) != 3 || root[0] == "0" || root[1] < "1600000000" || root[2] < "1600000000" {
		t.Errorf("the root's inode, mtime, atime: %q, want a non-zero inode and times after 2020", root)
	}
	file := strings.Fields(sh(t, c.Mnt, "stat -c '%Y %X' f.txt"))
	if len(file) != 2 || file[0] != file[1] || file[0] < "1600000000" {
		t.Errorf("f.txt mtime and atime: %q, want both the server's time", file)
	}
	if got := sh(t, c.Mnt, "ls -a"); got != ".\n..\nf.txt\nsub\n" {
		t.Errorf("ls -a: %q, want . .. f.txt sub", got)
	}
	if got := sh(t, c.Mnt, "ls"); got != "f.txt\nsub\n" {
		t.Errorf("ls: %q", got)
	}
	if got := sh(t, c.Mnt, "find . | sort"); got != ".\n./f.txt\n./sub\n" {
		t.Errorf("find: %q", got)
	}
}
