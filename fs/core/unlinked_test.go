package core

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/ftpconn/ftpfake"
)

// Files unlinked, or renamed over, while open (unlinked.go), against the
// fake server.

// treePath is a file's place in the inode tree as package fs reports it:
// its path until the kernel has dropped the name (unlinked).
type treePath struct {
	mu   sync.Mutex
	p    string
	gone bool
}

func (tp *treePath) path() (string, bool) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.p, !tp.gone
}

func (tp *treePath) drop() {
	tp.mu.Lock()
	tp.gone = true
	tp.mu.Unlock()
}

// readAll reads the whole file as an open read handle does: from the
// spool when there is one, else from where the server has its bytes.
func readAll(t *testing.T, c *Core, f *File, size int) string {
	t.Helper()
	ctx := context.Background()
	buf := make([]byte, size+10)
	if n, ok, err := f.ReadAt(ctx, buf, 0); ok {
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	r := c.OpenReader(f.Source(), int64(size))
	defer r.Close()
	n, err := r.ReadAt(ctx, buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("read from %q: %v", f.Source(), err)
	}
	return string(buf[:n])
}

// serverFiles is the names in dir on the fake, temporary names included.
func serverFiles(t *testing.T, fake *ftpfake.Client, dir string) []string {
	t.Helper()
	ents, err := fake.List(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name)
	}
	return names
}

func TestUnlinkedOpenFileIsReadUntilItsLastRelease(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/d/f", []byte("the old file"))
	c := newCore(t, fake, ReplaceSafe)
	tp := &treePath{p: "/d/f"}
	f := c.File(tp.path)
	f.Opened() // a reader
	f.Opened() // and another
	if err := c.Unlink(ctx, "/d", "f", f); err != nil {
		t.Fatal(err)
	}
	tp.drop()
	if _, err := c.Lookup(ctx, "/d", "f"); !errors.Is(err, ftpconn.ErrNotFound) {
		t.Fatalf("lookup of the unlinked name = %v, want ErrNotFound", err)
	}
	if _, ok := fake.ReadFile("/d/f"); ok {
		t.Fatal("the unlinked name is still on the server")
	}
	if src := f.Source(); !strings.HasPrefix(filepath.Base(src), ".f.ftpmount-") {
		t.Fatalf("the open file reads from %q, want a temporary name beside it", src)
	}
	// A new file under the old name is another file.
	g, err := c.Create("/d/f", at("/d/f"))
	if err != nil {
		t.Fatal(err)
	}
	g.Write(ctx, []byte("a new file"), 0)
	if err := g.Close(ctx); err != nil {
		t.Fatal(err)
	}
	g.Release()
	if got := readAll(t, c, f, 12); got != "the old file" {
		t.Fatalf("the open, unlinked file reads %q", got)
	}
	f.Closed()
	if got := readAll(t, c, f, 12); got != "the old file" {
		t.Fatalf("with one handle left, the file reads %q", got)
	}
	f.Closed()
	serverHas(t, fake, "/d/f", "a new file")
	if names := serverFiles(t, fake, "/d"); len(names) != 1 {
		t.Fatalf("after the last release the server holds %q, want only f", names)
	}
}

func TestUnlinkOfAFileNobodyHasOpenDeletesIt(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("x"))
	c := newCore(t, fake, ReplaceSafe)
	f := c.File(at("/f"))
	f.Opened()
	f.Closed()
	if err := c.Unlink(ctx, "/", "f", f); err != nil {
		t.Fatal(err)
	}
	if fake.Calls("Rename") != 0 || len(serverFiles(t, fake, "/")) != 0 {
		t.Fatalf("renames %d, server holds %q: want a plain DELE", fake.Calls("Rename"), serverFiles(t, fake, "/"))
	}
}

// refusingAllRenames is a server without RNFR/RNTO.
type refusingAllRenames struct{ *ftpfake.Client }

func (r refusingAllRenames) Rename(ctx context.Context, from, to string) error {
	return &ftpconn.ReplyError{Op: "RNFR", Path: from, Code: 502, Msg: "not implemented", Kind: ftpconn.ErrNotSupported}
}

func TestUnlinkWhereTheServerRefusesTheRenameDeletes(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("x"))
	c := newCore(t, refusingAllRenames{fake}, ReplaceSafe)
	f := c.File(at("/f"))
	f.Opened()
	if err := c.Unlink(ctx, "/", "f", f); err != nil {
		t.Fatal(err)
	}
	if names := serverFiles(t, fake, "/"); len(names) != 0 {
		t.Fatalf("server holds %q after the unlink, want nothing", names)
	}
	f.Closed()
}

// The temp-file pattern: open(O_CREAT|O_RDWR), unlink, write, read back,
// close. Nothing reaches the server, and nothing is left to recover.
func TestTempFilePattern(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	c := newCore(t, fake, ReplaceSafe)
	tp := &treePath{p: "/tmpfile"}
	f, err := c.Create("/tmpfile", tp.path)
	if err != nil {
		t.Fatal(err)
	}
	f.Opened()
	c.Created("/", ftpconn.Entry{Name: "tmpfile", Type: ftpconn.TypeFile})
	if err := c.Unlink(ctx, "/", "tmpfile", f); err != nil {
		t.Fatal(err)
	}
	tp.drop()
	if err := f.Write(ctx, []byte("scratch data"), 0); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c, f, 12); got != "scratch data" {
		t.Fatalf("read back %q", got)
	}
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	f.Release()
	f.Closed()
	if n := fake.Calls("Upload"); n != 0 || len(serverFiles(t, fake, "/")) != 0 {
		t.Fatalf("%d uploads, server holds %q: want nothing", n, serverFiles(t, fake, "/"))
	}
	emptyDir(t, c.cfg.SpoolDir)
	emptyDir(t, c.cfg.RecoverDir)
}

// An existing file opened for writing, unlinked, written inside its old
// bytes: they are fetched from where the file was kept.
func TestWriteIntoAnUnlinkedFile(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("0123456789"))
	c := newCore(t, fake, ReplaceSafe)
	tp := &treePath{p: "/f"}
	f := c.File(tp.path)
	if err := f.OpenWrite(ctx, false); err != nil {
		t.Fatal(err)
	}
	f.Opened()
	if err := c.Unlink(ctx, "/", "f", f); err != nil {
		t.Fatal(err)
	}
	tp.drop()
	if err := f.Write(ctx, []byte("ab"), 4); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c, f, 10); got != "0123ab6789" {
		t.Fatalf("read back %q", got)
	}
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	f.Release()
	f.Closed()
	if names := serverFiles(t, fake, "/"); len(names) != 0 || fake.Calls("Upload") != 0 {
		t.Fatalf("server holds %q after %d uploads, want nothing", names, fake.Calls("Upload"))
	}
	emptyDir(t, c.cfg.SpoolDir)
}

// A daemon that dies while an unlinked file is open leaves nothing that
// the next mount uploads under the old name or keeps as lost data.
func TestRecoverDropsAnUnlinkedFile(t *testing.T) {
	ctx := context.Background()
	for _, existing := range []bool{false, true} {
		fake := ftpfake.New()
		spool := t.TempDir()
		c := newCoreIn(t, fake, ReplaceSafe, spool)
		tp := &treePath{p: "/f"}
		var f *File
		if existing {
			fake.WriteFile("/f", []byte("old"))
			f = c.File(tp.path)
			f.OpenWrite(ctx, false)
		} else {
			f, _ = c.Create("/f", tp.path)
			c.Created("/", ftpconn.Entry{Name: "f", Type: ftpconn.TypeFile})
		}
		f.Opened()
		if err := c.Unlink(ctx, "/", "f", f); err != nil {
			t.Fatal(err)
		}
		tp.drop()
		f.Write(ctx, []byte("written after the unlink"), 0)
		if err := f.Close(ctx); err != nil { // a close, then the crash before the release
			t.Fatal(err)
		}
		crash(f)
		report := newCoreIn(t, fake, ReplaceSafe, spool).Recover(ctx)
		if len(report) != 0 {
			t.Fatalf("existing %v: report %q, want nothing", existing, report)
		}
		if names := serverFiles(t, fake, "/"); len(names) != 0 {
			t.Fatalf("existing %v: server holds %q, want nothing", existing, names)
		}
		emptyDir(t, spool)
		emptyDir(t, filepath.Join(filepath.Dir(spool), "recovered"))
	}
}

// A file open only for reading has no spool: its temporary name is
// still removed by the next mount after a crash, and while it lives a
// live daemon's Recover leaves it alone.
func TestRecoverRemovesTheTemporaryNameOfAReader(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("old"))
	spool := t.TempDir()
	c := newCoreIn(t, fake, ReplaceSafe, spool)
	tp := &treePath{p: "/f"}
	f := c.File(tp.path)
	f.Opened()
	if err := c.Unlink(ctx, "/", "f", f); err != nil {
		t.Fatal(err)
	}
	tp.drop()
	newCoreIn(t, fake, ReplaceSafe, spool).Recover(ctx) // another daemon, while this one lives
	if got := readAll(t, c, f, 3); got != "old" {
		t.Fatalf("after a live daemon's Recover the open file reads %q", got)
	}
	crash(f)
	if report := newCoreIn(t, fake, ReplaceSafe, spool).Recover(ctx); len(report) != 0 {
		t.Fatalf("report %q, want nothing", report)
	}
	if names := serverFiles(t, fake, "/"); len(names) != 0 {
		t.Fatalf("server holds %q after the crash's recovery, want nothing", names)
	}
	emptyDir(t, spool)
}

// A rename over a file that is open keeps the open file readable, and the
// target's pending upload never lands over the renamed file.
func TestRenameOverAnOpenFile(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/a", []byte("the new one"))
	fake.WriteFile("/b", []byte("old content"))
	c := newCore(t, fake, ReplaceSafe)
	src := c.File(at("/a"))
	tp := &treePath{p: "/b"}
	dst := c.File(tp.path)
	dst.Opened()
	if err := dst.OpenWrite(ctx, false); err != nil {
		t.Fatal(err)
	}
	dst.Opened()
	if err := c.Rename(ctx, "/", "a", "/", "b", false, src, dst); err != nil {
		t.Fatal(err)
	}
	tp.drop()
	serverHas(t, fake, "/b", "the new one")
	if err := dst.Write(ctx, []byte("OLD"), 0); err != nil { // a writer of the target: dropped at close
		t.Fatal(err)
	}
	if got := readAll(t, c, dst, 11); got != "OLD content" {
		t.Fatalf("the replaced file, still open, reads %q", got)
	}
	if err := dst.Close(ctx); err != nil {
		t.Fatal(err)
	}
	dst.Release()
	dst.Closed()
	dst.Closed()
	serverHas(t, fake, "/b", "the new one")
	if names := serverFiles(t, fake, "/"); len(names) != 1 {
		t.Fatalf("server holds %q, want only b", names)
	}
	emptyDir(t, c.cfg.SpoolDir)
	emptyDir(t, c.cfg.RecoverDir)
}

// failingRename refuses the rename of one source name.
type failingRename struct {
	*ftpfake.Client
	from string
}

func (r failingRename) Rename(ctx context.Context, from, to string) error {
	if from == r.from {
		return &ftpconn.ReplyError{Op: "RNTO", Path: to, Code: 553, Msg: "no", Kind: ftpconn.ErrPermission}
	}
	return r.Client.Rename(ctx, from, to)
}

// A rename over an open file that fails puts the target back.
func TestFailedRenameOverAnOpenFileKeepsTheTarget(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/a", []byte("a"))
	fake.WriteFile("/b", []byte("b"))
	c := newCore(t, failingRename{fake, "/a"}, ReplaceSafe)
	dst := c.File(at("/b"))
	dst.Opened()
	if err := c.Rename(ctx, "/", "a", "/", "b", false, nil, dst); err == nil {
		t.Fatal("the refused rename succeeded")
	}
	serverHas(t, fake, "/a", "a")
	serverHas(t, fake, "/b", "b")
	if src := dst.Source(); src != "/b" {
		t.Fatalf("the target reads from %q, want /b", src)
	}
	dst.Closed()
	serverHas(t, fake, "/b", "b")
}

// ftruncate(2) on a writer's handle is that writer's change: the server
// keeps the content of the last fsync until the next close.
func TestTruncateThroughAHandleWaitsForTheClose(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	c := newCore(t, fake, ReplaceSafe)
	f, _ := c.Create("/f", at("/f"))
	c.Created("/", ftpconn.Entry{Name: "f", Type: ftpconn.TypeFile})
	f.Write(ctx, []byte("first version"), 0)
	if err := f.Flush(ctx); err != nil { // fsync
		t.Fatal(err)
	}
	if err := f.TruncateHandle(ctx, 0); err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "first version")
	if size, _, _ := f.Writing(); size != 0 {
		t.Fatalf("the writer sees %d bytes after ftruncate, want 0", size)
	}
	f.Write(ctx, []byte("second"), 0)
	serverHas(t, fake, "/f", "first version")
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "second")
	f.Release()
	// Without a writer it is truncate(2): at once.
	if err := f.TruncateHandle(ctx, 3); err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "sec")
}

// A server that refuses to rename over a file gets the target moved
// aside, not deleted: when the rename fails for another reason too, the
// target is still there.
func TestRefusedRenameOverKeepsTheTarget(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/a", []byte("a"))
	fake.WriteFile("/b", []byte("b"))
	fake.WriteFile("/c", []byte("c"))
	c := newCore(t, failingRename{fake, "/a"}, ReplaceSafe)
	if err := c.Rename(ctx, "/", "a", "/", "b", false, nil, nil); err == nil {
		t.Fatal("the refused rename succeeded")
	}
	serverHas(t, fake, "/b", "b")
	c = newCore(t, refusingRename{fake}, ReplaceSafe)
	if err := c.Rename(ctx, "/", "c", "/", "b", false, nil, nil); err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/b", "c")
	noTempNames(t, fake, "/")
}

// newHidingCore is newCore with listings that leave out temporary names,
// as a mount's (NewCached).
func newHidingCore(t *testing.T, fake *ftpfake.Client) *Core {
	t.Helper()
	spool := t.TempDir()
	c, err := NewCached(fake, time.Minute, Config{
		Server: server, SpoolDir: spool, RecoverDir: filepath.Join(filepath.Dir(spool), "recovered"),
		Logf: t.Logf, Debugf: t.Logf, Now: time.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rm -r of a directory holding a file that is open: the directory goes
// (RMD would refuse it with the hidden file in it), and the hidden file
// with it.
func TestRemoveADirectoryHoldingAnOpenUnlinkedFile(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/d/f", []byte("x"))
	c := newHidingCore(t, fake)
	tp := &treePath{p: "/d/f"}
	f := c.File(tp.path)
	f.Opened()
	if err := c.Unlink(ctx, "/d", "f", f); err != nil {
		t.Fatal(err)
	}
	tp.drop()
	if err := c.Rmdir(ctx, "/", "d"); err != nil {
		t.Fatalf("rmdir of a directory holding only an open, unlinked file: %v", err)
	}
	f.Closed()
	if names := serverFiles(t, fake, "/"); len(names) != 0 {
		t.Fatalf("server holds %q, want nothing", names)
	}
	// A directory with a file left in it is still refused.
	fake.WriteFile("/e/g", []byte("y"))
	fake.WriteFile("/e/h", []byte("z"))
	g := c.File(at("/e/g"))
	g.Opened()
	if err := c.Unlink(ctx, "/e", "g", g); err != nil {
		t.Fatal(err)
	}
	if err := c.Rmdir(ctx, "/", "e"); !errors.Is(err, ftpconn.ErrNotEmpty) {
		t.Fatalf("rmdir of a directory holding a file: %v, want ErrNotEmpty", err)
	}
	if got := readAll(t, c, g, 1); got != "y" {
		t.Fatalf("the open, unlinked file reads %q", got)
	}
	g.Closed()
}

// A directory renamed while a file in it is open and unlinked: the file
// is read from its new place, and deleted there at its last release.
func TestDirectoryRenameMovesAHiddenFile(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/d/f", []byte("content"))
	c := newHidingCore(t, fake)
	tp := &treePath{p: "/d/f"}
	f := c.File(tp.path)
	f.Opened()
	if err := c.Unlink(ctx, "/d", "f", f); err != nil {
		t.Fatal(err)
	}
	tp.drop()
	if err := c.Rename(ctx, "/", "d", "/", "e", false, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c, f, 7); got != "content" {
		t.Fatalf("after the directory's rename the file reads %q (from %s)", got, f.Source())
	}
	f.Closed()
	if names := serverFiles(t, fake, "/e"); len(names) != 0 {
		t.Fatalf("/e holds %q after the last release, want nothing", names)
	}
}

// A file held open and unlinked for longer than a day keeps its
// temporary name: this mount's listings do not take it for the leftover
// of a crash.
func TestAHiddenFileHeldForDaysIsNotStale(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/d/f", []byte("long lived"))
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	spool := t.TempDir()
	c, err := NewCached(fake, time.Nanosecond, Config{Server: server, SpoolDir: spool, Logf: t.Logf, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	tp := &treePath{p: "/d/f"}
	f := c.File(tp.path)
	f.Opened()
	if err := c.Unlink(ctx, "/d", "f", f); err != nil {
		t.Fatal(err)
	}
	tp.drop()
	mu.Lock()
	now = now.Add(3 * 24 * time.Hour)
	mu.Unlock()
	if _, err := c.Snapshot(ctx, "/d"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // a stale name is removed in the background
	if got := readAll(t, c, f, 10); got != "long lived" {
		t.Fatalf("after three days the open file reads %q", got)
	}
	f.Closed()
	if names := serverFiles(t, fake, "/d"); len(names) != 0 {
		t.Fatalf("server holds %q after the last release, want nothing", names)
	}
}

// An upload in flight (here a close-on-exec copy of the descriptor,
// closed in a forked child) while the writer truncates its descriptor:
// the upload sends what it started with, whole, and the truncate lands
// after it.
func TestTruncateWaitsForTheUploadInFlight(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	slow := &blockingUpload{Client: fake, started: make(chan struct{}), release: make(chan struct{})}
	c := newCore(t, slow, ReplaceSafe)
	f, _ := c.Create("/f", at("/f"))
	c.Created("/", ftpconn.Entry{Name: "f", Type: ftpconn.TypeFile})
	f.Write(ctx, []byte("0123456789"), 0)
	flushed := make(chan error)
	go func() { flushed <- f.Flush(ctx) }()
	<-slow.started
	truncated := make(chan error)
	go func() { truncated <- f.TruncateHandle(ctx, 4) }()
	select {
	case err := <-truncated:
		t.Fatalf("the truncate did not wait for the upload in flight (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(slow.release)
	if err := <-flushed; err != nil {
		t.Fatalf("the upload in flight: %v", err)
	}
	if err := <-truncated; err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "0123456789")
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "0123")
	f.Release()
}
