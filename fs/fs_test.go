package fs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/ftpconn/ftpfake"
)

// requireFuse skips where FUSE cannot be mounted, except in CI, where a
// missing /dev/fuse is a failure.
func requireFuse(t *testing.T) {
	t.Helper()
	_, err := os.Stat("/dev/fuse")
	if err == nil && os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("FUSE tests need root and /dev/fuse (stat: %v, euid %d)", err, os.Geteuid())
	}
	t.Skip("needs root and /dev/fuse")
}

// mountFake mounts a fake server and returns the mount point.
func mountFake(t *testing.T, fake *ftpfake.Client, ttl time.Duration) string {
	t.Helper()
	return mountClient(t, fake, Options{DirTTL: ttl, KernelTTL: 0})
}

// mountClient mounts client with o (spool, recovery folder and log filled
// in for the test) and unmounts it when the test ends.
func mountClient(t *testing.T, client ftpconn.Client, o Options) string {
	t.Helper()
	requireFuse(t)
	mnt := t.TempDir()
	if o.SpoolDir == "" {
		o.SpoolDir = t.TempDir()
	}
	if o.RecoverDir == "" {
		o.RecoverDir = filepath.Join(t.TempDir(), "recovered")
	}
	if o.Logf == nil {
		o.Logf = t.Logf
	}
	srv, err := Mount(mnt, client, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
		srv.Wait()
		srv.WaitUploads()
	})
	return mnt
}

func TestReadAndList(t *testing.T) {
	fake := ftpfake.New()
	fake.WriteFile("/docs/a.txt", []byte("hello"))
	fake.WriteFile("/docs/sub/b.txt", []byte("world"))
	mnt := mountFake(t, fake, 5*time.Second)

	got, err := os.ReadFile(filepath.Join(mnt, "docs/a.txt"))
	if err != nil || string(got) != "hello" {
		t.Fatalf("read = %q, %v", got, err)
	}
	ents, err := os.ReadDir(filepath.Join(mnt, "docs"))
	if err != nil || len(ents) != 2 || ents[0].Name() != "a.txt" || !ents[1].IsDir() {
		t.Fatalf("readdir = %v, %v", ents, err)
	}
	st, err := os.Stat(filepath.Join(mnt, "docs/a.txt"))
	if err != nil || st.Size() != 5 || st.Mode().Perm() != 0o644 {
		t.Fatalf("stat = %v, %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(mnt, "docs/missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat missing = %v, want ENOENT", err)
	}
}

func TestLongListingCostsOneListing(t *testing.T) {
	fake := ftpfake.New()
	for i := 0; i < 1000; i++ {
		fake.WriteFile(fmt.Sprintf("/big/f%04d", i), []byte("x"))
	}
	mnt := mountFake(t, fake, 5*time.Second)
	before := fake.Calls("List")
	ents, err := os.ReadDir(filepath.Join(mnt, "big"))
	if err != nil || len(ents) != 1000 {
		t.Fatalf("readdir = %d entries, %v", len(ents), err)
	}
	for _, e := range ents {
		if _, err := e.Info(); err != nil { // lstat each, as ls -l does
			t.Fatal(err)
		}
	}
	if n := fake.Calls("List") - before; n != 2 {
		// one for /big, one for / (the lookup of "big" itself)
		t.Fatalf("ls -l of 1000 entries cost %d listings, want 2", n)
	}
}

func TestWriteUploadsAtClose(t *testing.T) {
	fake := ftpfake.New()
	mnt := mountFake(t, fake, 5*time.Second)
	p := filepath.Join(mnt, "new.bin")
	data := bytes.Repeat([]byte("0123456789"), 300_000)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, ok := fake.ReadFile("/new.bin"); ok {
		t.Fatal("file reached the server before close")
	}
	if st, err := os.Stat(p); err != nil || st.Size() != int64(len(data)) {
		t.Fatalf("stat while writing = %v, %v", st, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, ok := fake.ReadFile("/new.bin"); !ok || !bytes.Equal(got, data) {
		t.Fatalf("server has %d bytes, want %d", len(got), len(data))
	}
	if n := fake.Calls("Upload"); n != 1 {
		t.Fatalf("uploads = %d, want 1", n)
	}
}

func TestAppendTruncateOverwrite(t *testing.T) {
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("hello"))
	mnt := mountFake(t, fake, 5*time.Second)
	p := filepath.Join(mnt, "f")

	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(" world")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.ReadFile("/f"); string(got) != "hello world" {
		t.Fatalf("after append server has %q", got)
	}
	if err := os.Truncate(p, 5); err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.ReadFile("/f"); string(got) != "hello" {
		t.Fatalf("after truncate server has %q", got)
	}
	if err := os.Truncate(p, 8); err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.ReadFile("/f"); string(got) != "hello\x00\x00\x00" {
		t.Fatalf("after growing truncate server has %q", got)
	}
	reads := fake.Calls("Read")
	if err := os.WriteFile(p, []byte("new"), 0o644); err != nil { // O_TRUNC
		t.Fatal(err)
	}
	if got, _ := fake.ReadFile("/f"); string(got) != "new" {
		t.Fatalf("after overwrite server has %q", got)
	}
	if fake.Calls("Read") != reads {
		t.Fatal("overwriting a file downloaded its old content")
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "new" {
		t.Fatalf("read back %q, %v", got, err)
	}
}

func TestReadWriteOnOneHandle(t *testing.T) {
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("abcdefghij"))
	mnt := mountFake(t, fake, 5*time.Second)
	f, err := os.OpenFile(filepath.Join(mnt, "f"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("XY"), 4); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if n, err := f.ReadAt(buf, 0); n != 10 || string(buf) != "abcdXYghij" {
		t.Fatalf("read on the writing handle = %q, %v", buf[:n], err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.ReadFile("/f"); string(got) != "abcdXYghij" {
		t.Fatalf("server has %q", got)
	}
}

func TestDirectoryOps(t *testing.T) {
	fake := ftpfake.New()
	fake.WriteFile("/a/f", []byte("1"))
	mnt := mountFake(t, fake, 5*time.Second)
	if err := os.Mkdir(filepath.Join(mnt, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(mnt, "a/f"), filepath.Join(mnt, "d/g")); err != nil {
		t.Fatal(err)
	}
	if got, ok := fake.ReadFile("/d/g"); !ok || string(got) != "1" {
		t.Fatalf("after mv server has %q %v", got, ok)
	}
	if err := os.Rename(filepath.Join(mnt, "d"), filepath.Join(mnt, "a/d2")); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(mnt, "a/d2/g")); err != nil || string(got) != "1" {
		t.Fatalf("read after moving the directory = %q, %v", got, err)
	}
	err := os.Remove(filepath.Join(mnt, "a"))
	if !errors.Is(err, syscall.ENOTEMPTY) {
		t.Fatalf("rmdir of a non-empty dir = %v, want ENOTEMPTY", err)
	}
	if err := os.RemoveAll(filepath.Join(mnt, "a")); err != nil {
		t.Fatal(err)
	}
	if ents, _ := fake.List(t.Context(), "/"); len(ents) != 0 {
		t.Fatalf("server still has %v", ents)
	}
}

func TestUploadFailureIsReportedAtClose(t *testing.T) {
	fake := ftpfake.New()
	mnt := mountFake(t, fake, 5*time.Second)
	fake.Fail("Upload", &ftpconn.ReplyError{Op: "STOR", Code: 552, Msg: "quota exceeded", Kind: ftpconn.ErrNoSpace})
	f, err := os.Create(filepath.Join(mnt, "full"))
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("data")
	if err := f.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("close = %v, want ENOSPC", err)
	}
}

func TestNamesWithNewlinesAreRefused(t *testing.T) {
	fake := ftpfake.New()
	mnt := mountFake(t, fake, 5*time.Second)
	err := os.WriteFile(filepath.Join(mnt, "bad\nname"), []byte("x"), 0o644)
	if !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("create with LF = %v, want EINVAL", err)
	}
	if err := os.Mkdir(filepath.Join(mnt, "bad\rdir"), 0o755); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("mkdir with CR = %v, want EINVAL", err)
	}
}

func TestServerSideChangesShowAfterTTL(t *testing.T) {
	fake := ftpfake.New()
	mnt := mountFake(t, fake, 300*time.Millisecond)
	if _, err := os.Stat(filepath.Join(mnt, "later")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	fake.WriteFile("/later", []byte("x"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(mnt, "later")); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a file made on the server never showed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAppendSendsOnlyTheNewBytes(t *testing.T) {
	fake := ftpfake.New()
	old := bytes.Repeat([]byte("a"), 1<<20)
	fake.WriteFile("/log", old)
	mnt := mountFake(t, fake, 5*time.Second)
	f, err := os.OpenFile(filepath.Join(mnt, "log"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("tail\n")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.ReadFile("/log"); !bytes.Equal(got, append(old, "tail\n"...)) {
		t.Fatalf("server has %d bytes", len(got))
	}
	if fake.Calls("Read") != 0 || fake.Calls("Upload") != 0 || fake.Calls("Append") != 1 {
		t.Fatalf("reads %d, uploads %d, appends %d: want only one append",
			fake.Calls("Read"), fake.Calls("Upload"), fake.Calls("Append"))
	}
	// A server that cannot resume gets the whole file.
	fake.Fail("Append", &ftpconn.ReplyError{Op: "STOR", Code: 451, Msg: "no", Kind: ftpconn.ErrNotSupported})
	f, _ = os.OpenFile(filepath.Join(mnt, "log"), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("more\n")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.ReadFile("/log"); !bytes.Equal(got, append(old, "tail\nmore\n"...)) {
		t.Fatalf("after fallback server has %d bytes", len(got))
	}
}

func TestOverwriteRenamesOverTheTarget(t *testing.T) {
	requireFuse(t)
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("old"))
	mnt := t.TempDir()
	srv, err := Mount(mnt, fake, Options{DirTTL: time.Second, SpoolDir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Unmount(); srv.Wait() }()
	if err := os.WriteFile(filepath.Join(mnt, "f"), []byte("new content"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.ReadFile("/f"); string(got) != "new content" {
		t.Fatalf("server has %q", got)
	}
	if fake.Calls("Rename") == 0 {
		t.Fatal("the overwrite did not go through a temporary name")
	}
	ents, _ := fake.List(t.Context(), "/")
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}
