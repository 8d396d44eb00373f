package core

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/cache"
	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/ftpconn/ftpfake"
)

// The write path, called directly against the fake server: no FUSE, no root.

const server = "ftp://tester@fake:21/"

// newCore returns a Core over client with its spool and recovery folders
// in the test's temporary directory.
func newCore(t *testing.T, client ftpconn.Client, replace Replace) *Core {
	t.Helper()
	spool := t.TempDir()
	return newCoreIn(t, client, replace, spool)
}

func newCoreIn(t *testing.T, client ftpconn.Client, replace Replace, spool string) *Core {
	t.Helper()
	dirs := cache.NewDirs(client, cache.DirsConfig{TTL: time.Minute})
	c, err := New(client, dirs, Config{
		Server: server, SpoolDir: spool, RecoverDir: filepath.Join(filepath.Dir(spool), "recovered"),
		Replace: replace, Logf: t.Logf, Debugf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func at(p string) func() (string, bool) { return func() (string, bool) { return p, true } }

func serverHas(t *testing.T, fake *ftpfake.Client, p, want string) {
	t.Helper()
	got, ok := fake.ReadFile(p)
	if !ok || string(got) != want {
		t.Fatalf("server's %s = %q (exists %v), want %q", p, got, ok, want)
	}
}

// noTempNames fails when a temporary upload name is left in dir.
func noTempNames(t *testing.T, fake *ftpfake.Client, dir string) {
	t.Helper()
	ents, err := fake.List(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if _, ok := IsTempName(e.Name); ok {
			t.Fatalf("temporary upload %s left in %s", e.Name, dir)
		}
	}
}

func TestOpenTruncDoesNotTouchTheServer(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("old content"))
	c := newCore(t, fake, ReplaceSafe)
	f := c.File(at("/f"))
	if err := f.OpenWrite(ctx, true); err != nil {
		t.Fatal(err)
	}
	// The kernel sends O_TRUNC as a truncate after the open.
	if err := f.Truncate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "old content")
	if n := fake.Calls("Upload") + fake.Calls("Read"); n != 0 {
		t.Fatalf("open(O_TRUNC) cost %d uploads and reads, want none", n)
	}
	if err := f.Write(ctx, []byte("new"), 0); err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "old content")
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f.Release()
	serverHas(t, fake, "/f", "new")
	if fake.Calls("Upload") != 1 || fake.Calls("Rename") != 1 || fake.Calls("Read") != 0 {
		t.Fatalf("uploads %d, renames %d, reads %d: want one upload renamed over, nothing read",
			fake.Calls("Upload"), fake.Calls("Rename"), fake.Calls("Read"))
	}
	noTempNames(t, fake, "/")
}

func TestTruncateWithoutAWriterUploadsAtOnce(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("0123456789"))
	c := newCore(t, fake, ReplaceSafe)
	if err := c.File(at("/f")).Truncate(ctx, 4); err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "0123")
	if fake.Calls("Rename") != 1 {
		t.Fatalf("truncate(2) renamed %d times, want once (through a temporary name)", fake.Calls("Rename"))
	}
}

func TestAppendSendsOnlyTheNewBytes(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []Replace{ReplaceSafe, ReplaceInPlace} {
		fake := ftpfake.New()
		old := bytes.Repeat([]byte("a"), 100_000)
		fake.WriteFile("/log", old)
		c := newCore(t, fake, mode)
		f := c.File(at("/log"))
		if err := f.OpenWrite(ctx, false); err != nil {
			t.Fatal(err)
		}
		if err := f.Write(ctx, []byte("tail\n"), int64(len(old))); err != nil {
			t.Fatal(err)
		}
		if err := f.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		f.Release()
		serverHas(t, fake, "/log", string(old)+"tail\n")
		if fake.Calls("Read") != 0 || fake.Calls("Upload") != 0 || fake.Calls("Append") != 1 {
			t.Fatalf("mode %d: reads %d, uploads %d, appends %d: want one append", mode,
				fake.Calls("Read"), fake.Calls("Upload"), fake.Calls("Append"))
		}
	}
}

// With ReplaceAtomic an append goes through a temporary name, and the
// bytes the spool never fetched are fetched first: the old content stays.
func TestAtomicAppendKeepsTheOldBytes(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("a\n"))
	c := newCore(t, fake, ReplaceAtomic)
	f := c.File(at("/f"))
	if err := f.OpenWrite(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := f.Write(ctx, []byte("b\n"), 2); err != nil {
		t.Fatal(err)
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f.Release()
	serverHas(t, fake, "/f", "a\nb\n")
	if fake.Calls("Append") != 0 || fake.Calls("Rename") != 1 {
		t.Fatalf("appends %d, renames %d: want the whole file renamed over", fake.Calls("Append"), fake.Calls("Rename"))
	}
}

func TestInPlaceStoresOntoTheFile(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("old"))
	c := newCore(t, fake, ReplaceInPlace)
	f := c.File(at("/f"))
	if err := f.OpenWrite(ctx, true); err != nil {
		t.Fatal(err)
	}
	f.Write(ctx, []byte("new"), 0)
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f.Release()
	serverHas(t, fake, "/f", "new")
	if fake.Calls("Rename") != 0 {
		t.Fatal("inplace renamed")
	}
}

// blockingUpload holds every Upload until release is closed, and says when
// one has started.
type blockingUpload struct {
	*ftpfake.Client
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingUpload) Upload(ctx context.Context, p string, src io.ReaderAt, size int64) error {
	b.once.Do(func() { close(b.started) })
	<-b.release
	return b.Client.Upload(ctx, p, src, size)
}

func TestWriteDuringAnUploadKeepsTheFileDirty(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	slow := &blockingUpload{Client: fake, started: make(chan struct{}), release: make(chan struct{})}
	c := newCore(t, slow, ReplaceSafe)
	f, err := c.Create("/f", at("/f"))
	if err != nil {
		t.Fatal(err)
	}
	f.Write(ctx, []byte("first"), 0)
	done := make(chan error)
	go func() { done <- f.Flush(ctx) }()
	<-slow.started
	if err := f.Write(ctx, []byte("FIRST, second"), 0); err != nil {
		t.Fatal(err)
	}
	close(slow.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The upload sent a spool that changed under it: another must follow.
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f.Release()
	serverHas(t, fake, "/f", "FIRST, second")
}

func TestFailedLastReleaseKeepsTheSpool(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	c := newCore(t, fake, ReplaceSafe)
	f, err := c.Create("/f", at("/f"))
	if err != nil {
		t.Fatal(err)
	}
	f.Write(ctx, []byte("precious"), 0)
	fake.Fail("Upload", &ftpconn.ReplyError{Op: "STOR", Code: 552, Msg: "quota", Kind: ftpconn.ErrNoSpace})
	if err := f.Flush(ctx); !errors.Is(err, ftpconn.ErrNoSpace) {
		t.Fatalf("flush = %v, want ErrNoSpace", err)
	}
	f.Release()
	kept, _ := filepath.Glob(filepath.Join(c.cfg.RecoverDir, "f.*"))
	if len(kept) != 1 {
		t.Fatalf("recovery folder holds %v", kept)
	}
	if b, _ := os.ReadFile(kept[0]); string(b) != "precious" {
		t.Fatalf("kept %q", b)
	}
	emptyDir(t, c.cfg.SpoolDir)
	noTempNames(t, fake, "/")
}

// refusingRename will not rename over an existing file (some servers).
type refusingRename struct{ *ftpfake.Client }

func (r refusingRename) Rename(ctx context.Context, from, to string) error {
	if _, ok := r.ReadFile(to); ok {
		return &ftpconn.ReplyError{Op: "RNTO", Path: to, Code: 550, Msg: "exists", Kind: ftpconn.ErrPermission}
	}
	return r.Client.Rename(ctx, from, to)
}

func TestRenameOverRefusedDeletesThenRenames(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("old"))
	c := newCore(t, refusingRename{fake}, ReplaceSafe)
	f := c.File(at("/f"))
	f.OpenWrite(ctx, true)
	f.Write(ctx, []byte("new"), 0)
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f.Release()
	serverHas(t, fake, "/f", "new")
	noTempNames(t, fake, "/")
}

// mangling stores a name ending in a space with "_" instead, as pure-ftpd
// does.
type mangling struct{ *ftpfake.Client }

func mangle(p string) string {
	if strings.HasSuffix(p, " ") {
		return strings.TrimSuffix(p, " ") + "_"
	}
	return p
}

func (m mangling) Rename(ctx context.Context, from, to string) error {
	return m.Client.Rename(ctx, from, mangle(to))
}

func (m mangling) Upload(ctx context.Context, p string, src io.ReaderAt, size int64) error {
	return m.Client.Upload(ctx, mangle(p), src, size)
}

func TestMangledNameLeavesNothingStray(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []Replace{ReplaceSafe, ReplaceInPlace} {
		fake := ftpfake.New()
		fake.WriteFile("/other", []byte("x"))
		c := newCore(t, mangling{fake}, mode)
		f, err := c.Create("/name ", at("/name "))
		if err != nil {
			t.Fatal(err)
		}
		f.Write(ctx, []byte("data"), 0)
		if err := f.Flush(ctx); !errors.Is(err, ErrMangledName) {
			t.Fatalf("mode %d: flush = %v, want ErrMangledName", mode, err)
		}
		f.Release()
		ents, _ := fake.List(ctx, "/")
		if len(ents) != 1 || ents[0].Name != "other" {
			t.Fatalf("mode %d: server holds %v, want only other", mode, ents)
		}
	}
}

// overwriting returns the write state of /f on fake (which holds "old"), in
// a core whose spools are in spool, opened with O_TRUNC and holding content.
func overwriting(t *testing.T, fake *ftpfake.Client, spool, content string) *File {
	t.Helper()
	ctx := context.Background()
	fake.WriteFile("/f", []byte("old"))
	f := newCoreIn(t, fake, ReplaceSafe, spool).File(at("/f"))
	if err := f.OpenWrite(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := f.Write(ctx, []byte(content), 0); err != nil {
		t.Fatal(err)
	}
	return f
}

// emptyDir fails when dir holds anything.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("%s still holds %v", dir, left)
	}
}

// closing writes f's journal as a close under way leaves it (state
// closing), with more changed by also when not nil.
func closing(f *File, also func(*journal)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sp.jr.State = stateClosing
	if also != nil {
		also(&f.sp.jr)
	}
	f.saveJournal()
}

// crash leaves f as a dead daemon would: the spool's lock released (the
// process is gone), spool and journal on disk.
func crash(f *File) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sp != nil {
		f.sp.f.Close()
		f.sp = nil
	}
	if f.mark != nil { // the journal of a file kept under a temporary name
		f.mark.f.Close()
		f.mark = nil
	}
}

func TestRecoverUploadsASpoolWhoseCloseWasUnderWay(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	spool := t.TempDir()
	f := overwriting(t, fake, spool, "new content")
	// The close began: the journal says so, and a temporary upload exists.
	closing(f, func(j *journal) { j.Temp = "/.f.ftpmount-abc-0000000a.part" })
	fake.WriteFile("/.f.ftpmount-abc-0000000a.part", []byte("new co"))
	crash(f)

	report := newCoreIn(t, fake, ReplaceSafe, spool).Recover(ctx)
	serverHas(t, fake, "/f", "new content")
	noTempNames(t, fake, "/")
	if len(report) != 1 || !strings.Contains(report[0], "uploaded now") {
		t.Fatalf("report %q", report)
	}
	emptyDir(t, spool)
}

func TestRecoverKeepsAnOpenSpoolAndLeavesTheServerAlone(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	spool := t.TempDir()
	f := overwriting(t, fake, spool, "half written")
	crash(f)

	c2 := newCoreIn(t, fake, ReplaceSafe, spool)
	report := c2.Recover(ctx)
	serverHas(t, fake, "/f", "old")
	kept, _ := filepath.Glob(filepath.Join(c2.cfg.RecoverDir, "f.*"))
	if len(kept) != 1 || len(report) != 1 || !strings.Contains(report[0], kept[0]) {
		t.Fatalf("kept %v, report %q", kept, report)
	}
	if b, _ := os.ReadFile(kept[0]); string(b) != "half written" {
		t.Fatalf("kept %q", b)
	}
}

func TestRecoverLeavesLiveSpoolsAndOtherServersAlone(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	spool := t.TempDir()
	f := overwriting(t, fake, spool, "being written")
	if report := newCoreIn(t, fake, ReplaceSafe, spool).Recover(ctx); len(report) != 0 {
		t.Fatalf("a live spool was recovered: %q", report)
	}
	crash(f)
	other := newCoreIn(t, fake, ReplaceSafe, spool)
	other.cfg.Server = "ftp://someone@else/"
	if report := other.Recover(ctx); len(report) != 0 {
		t.Fatalf("another server's spool was recovered: %q", report)
	}
}

// A closing spool whose server file changed since is not uploaded over it.
func TestRecoverDoesNotOverwriteAChangedFile(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	spool := t.TempDir()
	f := overwriting(t, fake, spool, "ours")
	closing(f, nil)
	crash(f)
	fake.WriteFile("/f", []byte("someone else's"))
	newCoreIn(t, fake, ReplaceSafe, spool).Recover(ctx)
	serverHas(t, fake, "/f", "someone else's")
}

func TestTempNames(t *testing.T) {
	now := time.Unix(1_790_000_000, 0)
	for _, p := range []string{"/d/file.txt", "/" + strings.Repeat("é", 200), "/.hidden", "/a b "} {
		tmp := tempName(p, now)
		base := filepath.Base(tmp)
		if len(base) > 255 {
			t.Errorf("%s: temporary name of %d bytes", p, len(base))
		}
		if filepath.Dir(tmp) != filepath.Dir(p) {
			t.Errorf("%s: temporary name %s not beside it", p, tmp)
		}
		started, ok := IsTempName(base)
		if !ok || !started.Equal(now) {
			t.Errorf("%s: IsTempName(%q) = %v, %v", p, base, started, ok)
		}
	}
	for _, name := range []string{"file.part", ".x.ftpmount-zz-1234.part", "a.ftpmount-abc-0000000a.part"} {
		if _, ok := IsTempName(name); ok {
			t.Errorf("IsTempName(%q) = true", name)
		}
	}
}

func TestListingsHideTemporaryNames(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	now := time.Unix(1_800_000_000, 0)
	young := filepath.Base(tempName("/a", now.Add(-time.Hour)))
	old := filepath.Base(tempName("/a", now.Add(-48*time.Hour)))
	fake.WriteFile("/a", []byte("a"))
	fake.WriteFile("/"+young, []byte("in progress elsewhere"))
	fake.WriteFile("/"+old, []byte("left by a crash"))
	client := HideTemp(fake, func() time.Time { return now }, t.Logf)
	ents, err := client.List(ctx, "/")
	if err != nil || len(ents) != 1 || ents[0].Name != "a" {
		t.Fatalf("listing = %v, %v; want only a", ents, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := fake.ReadFile("/" + old); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stale temporary upload was not removed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, ok := fake.ReadFile("/" + young); !ok {
		t.Fatal("a young temporary upload (another mount's, maybe) was removed")
	}
}

func TestNamespaceChangesShowInTheListing(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/a", []byte("a"))
	fake.WriteFile("/dir/x", []byte("x"))
	fake.WriteFile("/c", []byte("c"))
	c := newCore(t, fake, ReplaceSafe)
	if _, err := c.Mkdir(ctx, "/", "new"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename(ctx, "/", "a", "/new", "b", false, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename(ctx, "/", "dir", "/new", "b", false, nil, nil); !errors.Is(err, ErrNotDir) {
		t.Fatalf("directory over a file: %v, want ErrNotDir", err)
	}
	if err := c.Rename(ctx, "/", "c", "/new", "b", true, nil, nil); !errors.Is(err, ftpconn.ErrExists) {
		t.Fatalf("RENAME_NOREPLACE over a file: %v, want ErrExists", err)
	}
	lists := fake.Calls("List")
	if _, err := c.dirs.Lookup(ctx, "/new", "b"); err != nil {
		t.Fatalf("the renamed file is not in the listing: %v", err)
	}
	if _, err := c.dirs.Lookup(ctx, "/", "a"); err == nil {
		t.Fatal("the old name is still in the listing")
	}
	if n := fake.Calls("List") - lists; n != 0 {
		t.Fatalf("the listings were fetched again %d times: the changes were not recorded", n)
	}
	f, _ := c.Create("/new/pending", at("/new/pending"))
	c.Created("/new", ftpconn.Entry{Name: "pending", Type: ftpconn.TypeFile})
	if err := c.Unlink(ctx, "/new", "pending", f); err != nil {
		t.Fatalf("unlink of a file not uploaded yet: %v", err)
	}
	f.Release()
	if _, ok := fake.ReadFile("/new/pending"); ok {
		t.Fatal("an unlinked file was uploaded at its release")
	}
}

// A file replaced through a temporary name keeps the permission bits the
// server listed for it.
func TestReplaceKeepsTheMode(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("old"))
	if err := fake.Chmod(ctx, "/f", 0o640); err != nil {
		t.Fatal(err)
	}
	c := newCore(t, fake, ReplaceSafe)
	f := c.File(at("/f"))
	f.OpenWrite(ctx, true)
	f.Write(ctx, []byte("new"), 0)
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f.Release()
	ents, _ := fake.List(ctx, "/")
	if len(ents) != 1 || ents[0].Mode != 0o640 {
		t.Fatalf("after the replace the server lists %v, want /f with mode 0640", ents)
	}
	if e, err := c.dirs.Lookup(ctx, "/", "f"); err != nil || e.Mode != 0o640 {
		t.Fatalf("the cache shows %v, %v; want mode 0640", e, err)
	}
}

func TestWritebackCloseReturnsBeforeTheUpload(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	slow := &blockingUpload{Client: fake, started: make(chan struct{}), release: make(chan struct{})}
	c := newCore(t, slow, ReplaceSafe)
	c.cfg.Writeback = 2
	c.wb = make(chan struct{}, 2)
	f, err := c.Create("/f", at("/f"))
	if err != nil {
		t.Fatal(err)
	}
	f.Write(ctx, []byte("written back"), 0)
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	f.Release() // the last writer goes before the upload has run
	<-slow.started
	if _, ok := fake.ReadFile("/f"); ok {
		t.Fatal("the upload finished before it was let go")
	}
	// The journal says the close happened: a crash now is recovered.
	js, _ := filepath.Glob(filepath.Join(c.cfg.SpoolDir, "*"+journalSuffix))
	if len(js) != 1 {
		t.Fatalf("journals: %v", js)
	}
	if j, err := readJournal(js[0]); err != nil || j.State != stateClosing {
		t.Fatalf("journal %+v, %v: want state closing", j, err)
	}
	close(slow.release)
	c.WaitUploads()
	serverHas(t, fake, "/f", "written back")
	emptyDir(t, c.cfg.SpoolDir)
}

func TestWritebackFailureReachesTheNextClose(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	c := newCore(t, fake, ReplaceSafe)
	c.cfg.Writeback = 1
	c.wb = make(chan struct{}, 1)
	f, _ := c.Create("/f", at("/f"))
	f.Write(ctx, []byte("one"), 0)
	fake.Fail("Upload", &ftpconn.ReplyError{Op: "STOR", Code: 552, Msg: "quota", Kind: ftpconn.ErrNoSpace})
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c.WaitUploads()
	if q := c.Queued(); len(q) != 1 || q[0].Path != "/f" || !strings.Contains(q[0].Err, "quota") {
		t.Fatalf("queued = %+v, want /f with its failure", q)
	}
	if err := f.Close(ctx); !errors.Is(err, ftpconn.ErrNoSpace) {
		t.Fatalf("the close after a failed background upload = %v, want ErrNoSpace", err)
	}
	c.WaitUploads() // the retry the close started
	f.Release()
	serverHas(t, fake, "/f", "one")
	if q := c.Queued(); len(q) != 0 {
		t.Fatalf("queued after the upload = %+v", q)
	}
}

// A file deleted while its write-back upload runs stays deleted.
func TestUnlinkWaitsForTheUploadInFlight(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	slow := &blockingUpload{Client: fake, started: make(chan struct{}), release: make(chan struct{})}
	c := newCore(t, slow, ReplaceSafe)
	c.wb = make(chan struct{}, 1)
	f, _ := c.Create("/f", at("/f"))
	c.Created("/", ftpconn.Entry{Name: "f", Type: ftpconn.TypeFile})
	f.Write(ctx, []byte("soon gone"), 0)
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	f.Release()
	<-slow.started
	unlinked := make(chan error)
	go func() { unlinked <- c.Unlink(ctx, "/", "f", f) }()
	time.Sleep(50 * time.Millisecond) // the unlink waits for the upload
	close(slow.release)
	if err := <-unlinked; err != nil {
		t.Fatal(err)
	}
	c.WaitUploads()
	if _, ok := fake.ReadFile("/f"); ok {
		t.Fatal("the file deleted during its upload is back on the server")
	}
	noTempNames(t, fake, "/")
}

// An append in place cut by a crash is resumed where the server stopped.
func TestRecoverResumesACutAppend(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	spool := t.TempDir()
	fake.WriteFile("/log", []byte("old\n"))
	f := newCoreIn(t, fake, ReplaceSafe, spool).File(at("/log"))
	f.OpenWrite(ctx, false)
	f.Write(ctx, []byte("appended line\n"), 4)
	closing(f, func(j *journal) { j.Appending = true })
	fake.WriteFile("/log", []byte("old\nappen")) // the crash cut the REST+STOR here
	crash(f)
	report := newCoreIn(t, fake, ReplaceSafe, spool).Recover(ctx)
	serverHas(t, fake, "/log", "old\nappended line\n")
	if len(report) != 1 || !strings.Contains(report[0], "finished now") {
		t.Fatalf("report %q", report)
	}
	emptyDir(t, spool)
}

// A file written in a directory renamed meanwhile lands in the new place,
// and nothing is left in either.
func TestDirectoryRenameWaitsForUploadsBelowIt(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/dA/keep", []byte("k"))
	slow := &blockingUpload{Client: fake, started: make(chan struct{}), release: make(chan struct{})}
	c := newCore(t, slow, ReplaceSafe)
	c.wb = make(chan struct{}, 1)
	where := "/dA/f"
	var mu sync.Mutex
	f, _ := c.Create(where, func() (string, bool) { mu.Lock(); defer mu.Unlock(); return where, true })
	f.Write(ctx, []byte("in a moving directory"), 0)
	f.Close(ctx)
	f.Release()
	<-slow.started
	renamed := make(chan error)
	go func() {
		err := c.Rename(ctx, "/", "dA", "/", "dB", false, nil, nil)
		mu.Lock()
		where = "/dB/f" // what the inode tree says once the rename returned
		mu.Unlock()
		renamed <- err
	}()
	time.Sleep(50 * time.Millisecond)
	close(slow.release)
	if err := <-renamed; err != nil {
		t.Fatal(err)
	}
	c.WaitUploads()
	serverHas(t, fake, "/dB/f", "in a moving directory")
	noTempNames(t, fake, "/dB")
}

// Another client appended since the listing was fetched: an append
// through the mount goes after its bytes; one that would land at a size
// the server's file no longer has sends the whole file instead.
func TestAppendAfterAnotherClientsAppend(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/log", []byte("old\n"))
	c := newCore(t, fake, ReplaceSafe)
	if _, err := c.dirs.Lookup(ctx, "/", "log"); err != nil { // the listing, now stale
		t.Fatal(err)
	}
	fake.WriteFile("/log", []byte("old\nother\n"))
	f := c.File(at("/log"))
	if err := f.OpenWrite(ctx, false); err != nil {
		t.Fatal(err)
	}
	size, _, _ := f.Writing()
	if size != 10 {
		t.Fatalf("the file shows %d bytes while written, want the server's 10", size)
	}
	f.Write(ctx, []byte("mine\n"), size)
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/log", "old\nother\nmine\n")

	fake.WriteFile("/log", []byte("old\nother\nmine\nmore\n"))
	f.Write(ctx, []byte("again\n"), 15)
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f.Release()
	// REST+STOR at 15 would have left "old\nother\nmine\nagain\n" over a
	// file that also held "more": the whole version is ours, not a mix.
	serverHas(t, fake, "/log", "old\nother\nmine\nagain\n")
	if fake.Calls("Append") != 1 {
		t.Fatalf("appends %d: the second upload should have been whole", fake.Calls("Append"))
	}
}

// close(2) returns after FLUSH; the kernel's RELEASE comes later, so a
// truncate(2) right after a close still finds the writer counted. Its
// data is on the server: the truncate must go there at once.
func TestTruncateBetweenCloseAndRelease(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("hello"))
	c := newCore(t, fake, ReplaceSafe)
	f := c.File(at("/f"))
	if err := f.OpenWrite(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := f.Write(ctx, []byte(" world"), 5); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "hello world")
	if err := f.Truncate(ctx, 5); err != nil { // RELEASE not here yet
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "hello")
	f.Release()
	serverHas(t, fake, "/f", "hello")
}

// A last release that finds changes no upload has tried (written after
// the last flush) uploads them: nothing failed, so nothing belongs in the
// recovery folder.
func TestLastReleaseUploadsUntriedChanges(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("old"))
	c := newCore(t, fake, ReplaceSafe)
	f := c.File(at("/f"))
	if err := f.OpenWrite(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := f.Write(ctx, []byte("new"), 0); err != nil {
		t.Fatal(err)
	}
	f.Release()
	serverHas(t, fake, "/f", "new")
	if ents, _ := os.ReadDir(c.cfg.RecoverDir); len(ents) != 0 {
		t.Fatalf("recovery folder has %d files, want none", len(ents))
	}
}

// Without atomic_o_trunc the kernel sends open(O_TRUNC) as an OPEN without
// the flag, then a truncate to 0: the server's file must stay whole until
// the new content is uploaded at the close.
func TestOpenThenTruncateAsTheKernelSendsOTrunc(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("old content"))
	c := newCore(t, fake, ReplaceSafe)
	f := c.File(at("/f"))
	if err := f.OpenWrite(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "old content")
	if err := f.Write(ctx, []byte("new"), 0); err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "old content")
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "new")
	// Closed, but the kernel's RELEASE not here yet; a new open with
	// O_TRUNC reuses the spool and must not empty the server's file either.
	if err := f.OpenWrite(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "new")
	if err := f.Close(ctx); err != nil { // closed without a write: now it is empty
		t.Fatal(err)
	}
	serverHas(t, fake, "/f", "")
	f.Release()
	f.Release()
	if n := fake.Calls("Upload"); n != 2 {
		t.Fatalf("uploads = %d, want 2 (one per close)", n)
	}
}

// A daemon killed between two steps of its bookkeeping leaves a journal's
// .new twin or a spool without a journal; the next Recover clears them up
// without losing a written byte.
func TestRecoverClearsCrashLeftovers(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	spool := t.TempDir()
	// Killed during its first journal save, after writing the .new: the
	// .new becomes the journal and the spool is recovered through it.
	f := overwriting(t, fake, spool, "new content")
	closing(f, nil)
	name := f.sp.f.Name()
	if err := os.Rename(journalPath(name), journalPath(name)+newSuffix); err != nil {
		t.Fatal(err)
	}
	crash(f)
	// Another server's spool with a .new beside its journal, cut short:
	// the .new goes, the rest is that server's mount's business.
	other := filepath.Join(spool, spoolPrefix+"other")
	os.WriteFile(other, []byte("theirs"), 0o600)
	os.WriteFile(journalPath(other), []byte(`{"server":"ftp://else/","path":"/x","state":"closing"}`), 0o600)
	os.WriteFile(journalPath(other)+newSuffix, []byte(`{"server":`), 0o600)
	// A spool with data that lost its journal (the disk was full).
	os.WriteFile(filepath.Join(spool, spoolPrefix+"lost"), []byte("lost data"), 0o600)
	// An empty spool without a journal, long dead, and one just born.
	old := filepath.Join(spool, spoolPrefix+"empty")
	os.WriteFile(old, nil, 0o600)
	os.Chtimes(old, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))
	born := filepath.Join(spool, spoolPrefix+"born")
	os.WriteFile(born, nil, 0o600)

	c := newCoreIn(t, fake, ReplaceSafe, spool)
	report := c.Recover(ctx)
	serverHas(t, fake, "/f", "new content")
	left, _ := filepath.Glob(filepath.Join(spool, "*"))
	want := []string{born, other, journalPath(other)}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Fatalf("spool folder holds %v, want %v", left, want)
	}
	kept, _ := filepath.Glob(filepath.Join(c.cfg.RecoverDir, "*"))
	if len(kept) != 1 {
		t.Fatalf("recovery folder holds %v, want the spool without a journal", kept)
	}
	if b, _ := os.ReadFile(kept[0]); string(b) != "lost data" {
		t.Fatalf("kept %q, want %q", b, "lost data")
	}
	if len(report) != 2 {
		t.Fatalf("report %q, want two lines", report)
	}
}
