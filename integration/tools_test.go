package integration

import (
	"os"
	"strings"
	"testing"
)

// TestTools drives the mount with the tools people use on a local disk (issue 6): tar, rsync,
// git, sed -i, dd conv=notrunc, O_RDWR, truncate, touch -d, mv over a file, parallel writers.
func TestTools(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, kind string) { testTools(t, newFixture(t, kind, dirCacheFast)) })
}

func testTools(t *testing.T, f *fixture) {

	t.Run("tar_x_keeps_content_and_mtimes", func(t *testing.T) {
		c := f.dir(t, "")
		src := t.TempDir()
		sh(t, src, `mkdir -p tree/a/b && echo one > tree/one.txt && head -c 300000 /dev/urandom > tree/a/bin.dat &&
			echo deep > tree/a/b/deep.txt && touch -d '2015-03-04 05:06:07' tree/one.txt tree/a/bin.dat tree/a/b/deep.txt &&
			tar cf tree.tar tree`)
		sh(t, c.Mnt, "tar xf "+q(src+"/tree.tar"))
		want := sh(t, src, "cd tree && find . -type f | sort | xargs sha256sum")
		if got := sh(t, c.Mnt, "cd tree && find . -type f | sort | xargs sha256sum"); got != want {
			t.Errorf("content through the mount:\n%s\nwant:\n%s", got, want)
		}
		if got := sh(t, c.Srv, "cd tree && find . -type f | sort | xargs sha256sum"); got != want {
			t.Errorf("content on the server:\n%s\nwant:\n%s", got, want)
		}
		wantT := sh(t, src, "cd tree && find . -type f | sort | xargs stat -c '%n %Y'")
		if got := sh(t, c.Mnt, "cd tree && find . -type f | sort | xargs stat -c '%n %Y'"); got != wantT {
			t.Errorf("mtimes through the mount:\n%s\nwant:\n%s", got, wantT)
		}
		if got := sh(t, c.Srv, "cd tree && find . -type f | sort | xargs stat -c '%n %Y'"); got != wantT {
			t.Errorf("mtimes on the server:\n%s\nwant:\n%s", got, wantT)
		}
	})

	t.Run("rsync_twice_finds_nothing_to_do", func(t *testing.T) {
		c := f.dir(t, "")
		src := t.TempDir()
		sh(t, src, `mkdir -p s/d && for i in 1 2 3 4 5; do echo "file $i" > s/f$i; done && head -c 100000 /dev/urandom > s/d/r &&
			touch -d '2019-01-02 03:04:05' s/f1 s/d/r`)
		sh(t, "/", "rsync -a "+q(src+"/s/")+" "+q(c.Mnt+"/s/"))
		if got := sh(t, "/", "rsync -a -i "+q(src+"/s/")+" "+q(c.Mnt+"/s/")); strings.TrimSpace(got) != "" {
			t.Errorf("second rsync -a -i changed things:\n%s", got)
		}
		if got, want := sh(t, c.Srv, "cd s && find . -type f | sort | xargs sha256sum"), sh(t, src, "cd s && find . -type f | sort | xargs sha256sum"); got != want {
			t.Errorf("server side after rsync:\n%s\nwant:\n%s", got, want)
		}
	})

	t.Run("git_clone_commit_fsck", func(t *testing.T) {
		c := f.dir(t, "")
		src := t.TempDir()
		sh(t, src, `git init -q repo && cd repo && git config user.email t@example.org && git config user.name T &&
			for i in 1 2 3; do echo "line $i" > f$i.txt; git add f$i.txt; git commit -qm "commit $i"; done`)
		sh(t, c.Mnt, "git clone -q "+q(src+"/repo")+" clone")
		if got := sh(t, c.Mnt+"/clone", "git status --porcelain"); strings.TrimSpace(got) != "" {
			t.Errorf("git status after clone:\n%s", got)
		}
		sh(t, c.Mnt+"/clone", `git config user.email t@example.org && git config user.name T && echo changed >> f1.txt && git commit -qam "on the mount" && git fsck --strict`)
		if got := strings.TrimSpace(sh(t, c.Mnt+"/clone", "git log --oneline | wc -l")); got != "4" {
			t.Errorf("commits after one on the mount: %s, want 4", got)
		}
	})

	t.Run("sed_i", func(t *testing.T) {
		c := f.dir(t, "printf 'alpha\\nbeta\\ngamma\\n' > f.txt")
		sh(t, c.Mnt, "sed -i 's/beta/BETA/' f.txt")
		wantBothSides(t, c, "f.txt", []byte("alpha\nBETA\ngamma\n"))
	})

	t.Run("dd_notrunc_in_the_middle", func(t *testing.T) {
		c := f.dir(t, "head -c 3000000 /dev/urandom > big.dat")
		orig := c.serverBytes(t, "big.dat")
		sh(t, c.Mnt, "printf 'PATCHED' | dd of=big.dat bs=1 seek=1500000 conv=notrunc status=none")
		want := append([]byte(nil), orig...)
		copy(want[1500000:], "PATCHED")
		wantBothSides(t, c, "big.dat", want)
	})

	t.Run("rdwr_write_then_read_one_handle", func(t *testing.T) {
		c := f.dir(t, "printf 'abcdefghij' > f")
		got := sh(t, c.Mnt, `python3 -c '
import os
fd = os.open("f", os.O_RDWR)
os.pwrite(fd, b"XY", 4)
print(os.pread(fd, 10, 0).decode())
os.close(fd)'`)
		if got != "abcdXYghij\n" {
			t.Errorf("read on the writing handle: %q", got)
		}
		wantBothSides(t, c, "f", []byte("abcdXYghij"))
	})

	t.Run("truncate_grow_shrink_ftruncate", func(t *testing.T) {
		c := f.dir(t, "printf '0123456789' > f")
		sh(t, c.Mnt, "truncate -s 15 f")
		wantBothSides(t, c, "f", []byte("0123456789\x00\x00\x00\x00\x00"))
		sh(t, c.Mnt, "truncate -s 4 f")
		wantBothSides(t, c, "f", []byte("0123"))
		sh(t, c.Mnt, `python3 -c '
import os
fd = os.open("f", os.O_RDWR)
os.ftruncate(fd, 2)
os.pwrite(fd, b"Z", 5)
os.close(fd)'`)
		wantBothSides(t, c, "f", []byte("01\x00\x00\x00Z"))
	})

	t.Run("touch_d", func(t *testing.T) {
		c := f.dir(t, "printf 'x' > f")
		sh(t, c.Mnt, "touch -d '2001-02-03 04:05:06 UTC' f")
		if got := strings.TrimSpace(sh(t, c.Mnt, "stat -c %Y f")); got != "981173106" {
			t.Errorf("mtime through the mount: %s, want 981173106", got)
		}
		if got := strings.TrimSpace(sh(t, c.Srv, "stat -c %Y f")); got != "981173106" {
			t.Errorf("mtime on the server: %s, want 981173106", got)
		}
	})

	t.Run("mv_over_existing", func(t *testing.T) {
		c := f.dir(t, "printf 'new' > a; printf 'old' > b")
		sh(t, c.Mnt, "mv -f a b")
		wantBothSides(t, c, "b", []byte("new"))
		wantGone(t, c, "a")
	})

	t.Run("two_writers_at_once", func(t *testing.T) {
		c := f.dir(t, "")
		src := t.TempDir()
		sh(t, src, "head -c 20000000 /dev/urandom > one; head -c 20000000 /dev/urandom > two")
		sh(t, c.Mnt, "cp "+q(src+"/one")+" one & cp "+q(src+"/two")+" two & wait")
		for _, name := range []string{"one", "two"} {
			want, err := os.ReadFile(src + "/" + name)
			if err != nil {
				t.Fatal(err)
			}
			wantBothSides(t, c, name, want)
		}
	})

	t.Run("pread_past_4GiB", func(t *testing.T) {
		// A sparse 5 GiB file with a marker at 4.5 GiB, made on the server's side.
		c := f.dir(t, "truncate -s 5G big && printf 'MARK' | dd of=big bs=1 seek=4831838208 conv=notrunc status=none")
		got := sh(t, c.Mnt, `python3 -c '
import os
fd = os.open("big", os.O_RDONLY)
print(os.fstat(fd).st_size, os.pread(fd, 4, 4831838208).decode(), os.pread(fd, 4, 4831838204) == bytes(4))'`)
		if got != "5368709120 MARK True\n" {
			t.Errorf("size and pread past 4 GiB: %q, want \"5368709120 MARK True\"", got)
		}
	})
}
