package fs

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hanwen/go-fuse/v2/posixtest"

	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
)

// posixSubset is the part of go-fuse's POSIX suite that FTP can honour.
// Left out, with the reason:
//   - Link, LinkUnlinkRename, NlinkZero: FTP has no hard links.
//   - SymlinkReadlink, SetattrSymlink, OpenSymlinkRace: FTP cannot create symlinks.
//   - XAttr, XAttrLarge: no extended attributes.
//   - Fallocate, LseekHoleSeeksToEOF: no preallocation or holes.
//   - FcntlFlockLocksFile, FcntlFlockSetLk: no locks across FTP clients.
//   - FstatDeleted: an unlinked file is gone from the server; its data is
//     not kept for descriptors still open.
//   - RenameOpenDir, OpenAt: rely on the above.
var posixSubset = []string{
	"FileBasic", "FileLarge", "MkdirRmdir", "ReadDirBasic", "ReadDirConsistency", "DirSeek",
	"AppendWrite", "TruncateFile", "TruncateNoFile", "RenameOverwriteDestNoExist",
	"RenameOverwriteDestExist", "FdLeak", "ParallelFileOpen", "DirectIO", "LseekEnxioCheck",
}

// mountServer mounts a real FTP server (in process) and returns the mount
// point and the server.
func mountServer(t *testing.T) (string, *ftptest.Server) {
	t.Helper()
	requireFuse(t)
	s := ftptest.Start(t, ftptest.Options{})
	client, err := ftpconn.Dial(t.Context(), ftpconn.Config{Addr: s.Addr, User: s.User, Password: s.Password, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() }) // runs after the unmount, registered later
	return mountClient(t, client, Options{DirTTL: 2 * time.Second, KernelTTL: time.Second}), s
}

func TestPosixSubset(t *testing.T) {
	mnt, _ := mountServer(t)
	for _, name := range posixSubset {
		fn, ok := posixtest.All[name]
		if !ok {
			t.Fatalf("posixtest has no %s", name)
		}
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(mnt, name)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			fn(t, dir)
		})
	}
}

func TestFSTestOnRealMount(t *testing.T) {
	mnt, s := mountServer(t)
	files := map[string]string{"a.txt": "alpha", "dir/b.txt": "beta", "dir/sub/c.bin": "\x00\x01\x02"}
	for name, data := range files {
		p := filepath.Join(s.Dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(data), 0o644)
	}
	if err := fstest.TestFS(os.DirFS(mnt), "a.txt", "dir/b.txt", "dir/sub/c.bin"); err != nil {
		t.Fatal(err)
	}
}
