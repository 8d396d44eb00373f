package integration

import (
	"strings"
	"testing"
)

// TestNamespace renames, removes and makes files and directories through the mount, on each server.
func TestNamespace(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, kind string) { testNamespace(t, newFixture(t, kind, dirCacheFast)) })
}

func testNamespace(t *testing.T, f *fixture) {
	t.Run("mv_file", func(t *testing.T) {
		c := f.dir(t, "printf 'moved\\n' > a.txt")
		sh(t, c.Mnt, "mv a.txt b.txt")
		wantGone(t, c, "a.txt")
		wantBothSides(t, c, "b.txt", []byte("moved\n"))
	})

	t.Run("mv_over_existing", func(t *testing.T) {
		c := f.dir(t, "printf 'new\\n' > new.txt; printf 'old contents\\n' > old.txt")
		sh(t, c.Mnt, "cat old.txt >/dev/null; mv new.txt old.txt")
		wantGone(t, c, "new.txt")
		wantBothSides(t, c, "old.txt", []byte("new\n"))
	})

	t.Run("mv_dir", func(t *testing.T) {
		c := f.dir(t, "mkdir -p d1/inner; printf 'x\\n' > d1/x.txt; printf 'y\\n' > d1/inner/y.txt")
		sh(t, c.Mnt, "ls -R d1 >/dev/null; mv d1 d2")
		wantGone(t, c, "d1")
		wantBothSides(t, c, "d2/x.txt", []byte("x\n"))
		wantBothSides(t, c, "d2/inner/y.txt", []byte("y\n"))
	})

	t.Run("mv_across_dirs", func(t *testing.T) {
		c := f.dir(t, "mkdir src dst; printf 'f\\n' > src/f.txt; printf 'g\\n' > src/g.txt")
		sh(t, c.Mnt, "mv src/f.txt dst/f.txt; mv src/g.txt dst/")
		wantGone(t, c, "src/f.txt")
		wantGone(t, c, "src/g.txt")
		wantBothSides(t, c, "dst/f.txt", []byte("f\n"))
		wantBothSides(t, c, "dst/g.txt", []byte("g\n"))
		if got := sh(t, c.Mnt, "ls src; ls dst"); got != "f.txt\ng.txt\n" {
			t.Errorf("ls src; ls dst: %q", got)
		}
	})

	t.Run("rm", func(t *testing.T) {
		c := f.dir(t, "printf 'bye\\n' > f.txt; printf 'stays\\n' > other.txt")
		sh(t, c.Mnt, "rm f.txt")
		wantGone(t, c, "f.txt")
		wantBothSides(t, c, "other.txt", []byte("stays\n"))
	})

	t.Run("mkdir", func(t *testing.T) {
		c := f.dir(t, "")
		sh(t, c.Mnt, "mkdir newdir; mkdir -p a/b/c")
		for _, d := range []string{"newdir", "a/b/c"} {
			wantServerDir(t, c, d)
			if got := strings.TrimSpace(sh(t, c.Mnt, "stat -c %F "+q(d))); got != "directory" {
				t.Errorf("stat %s: %q", d, got)
			}
		}
		sh(t, c.Mnt, "echo inside > newdir/f.txt")
		wantBothSides(t, c, "newdir/f.txt", []byte("inside\n"))
	})

	t.Run("rmdir", func(t *testing.T) {
		c := f.dir(t, "mkdir empty")
		sh(t, c.Mnt, "rmdir empty")
		wantGone(t, c, "empty")
	})

	t.Run("rmdir_not_empty", func(t *testing.T) {
		c := f.dir(t, "mkdir full; printf 'keep\\n' > full/f.txt")
		stderr := shFails(t, c.Mnt, "rmdir full")
		if !strings.Contains(stderr, "Directory not empty") {
			t.Logf("rmdir of a non-empty directory failed, though not with ENOTEMPTY: %q", stderr)
		}
		wantBothSides(t, c, "full/f.txt", []byte("keep\n"))
	})
}
