package integration

import (
	"os"
	"path/filepath"
	"testing"
)

// TestBackupTools: real backup tools from Debian keep a repository on the mount: init, back up a
// tree, check it with its data, restore it and compare with the source. restic writes packs
// through temporary names and renames; borg fsyncs files and directories and renames its
// segments and index over each other.
func TestBackupTools(t *testing.T) {
	t.Parallel()
	requireEnv(t, "restic", "borg")
	forEachServerOf(t, safetyKinds, func(t *testing.T, kind string) {
		f := newFixture(t, kind, dirCacheFast)
		src := t.TempDir()
		randomFile(t, filepath.Join(src, "big.bin"), 6<<20)
		os.MkdirAll(filepath.Join(src, "sub", "deeper"), 0o755)
		for i, name := range []string{"a.txt", "sub/b.txt", "sub/deeper/c.txt"} {
			randomFile(t, filepath.Join(src, name), 1000*(i+1))
		}
		env := "export RESTIC_PASSWORD=test-pw BORG_PASSPHRASE=test-pw BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes " +
			"BORG_RELOCATED_REPO_ACCESS_IS_OK=yes BORG_BASE_DIR=" + q(t.TempDir()) + " RESTIC_CACHE_DIR=" + q(t.TempDir()) + "\n"
		t.Run("restic", func(t *testing.T) {
			c := f.dir(t, "")
			out := t.TempDir()
			shTimeout(t, bigFileTimeout, c.Mnt, env+
				"restic init -q -r repo\n"+
				"restic backup -q -r repo "+q(src)+"\n"+
				"restic check -q -r repo --read-data\n"+
				"restic restore -q -r repo latest --target "+q(out)+"\n"+
				"diff -r "+q(src)+" "+q(filepath.Join(out, src)))
		})
		t.Run("borg", func(t *testing.T) {
			c := f.dir(t, "")
			out := t.TempDir()
			shTimeout(t, bigFileTimeout, c.Mnt, env+
				"borg init -e repokey repo\n"+
				"borg create repo::one "+q(src)+"\n"+
				"borg check --verify-data repo\n"+
				"cd "+q(out)+" && borg extract "+q(filepath.Join(c.Mnt, "repo"))+"::one\n"+
				"diff -r "+q(src)+" "+q(filepath.Join(out, src)))
		})
	})
}
