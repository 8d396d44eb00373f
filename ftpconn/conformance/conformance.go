// Package conformance is one test suite for the ftpconn.Client interface,
// run against every implementation ftpmount has: the fake (ftpconn/ftpfake)
// that the layers above are tested with, the real client talking to the
// in-process server (ftpconn/ftptest), and the real client talking to each
// real server of the integration tests (vsftpd, proftpd, pure-ftpd,
// pyftpdlib). A test double that drifts from the real thing makes the
// tests above it lie; this suite is what keeps them the same.
//
// It checks outcomes that callers rely on: which sentinel error each
// failure comes with (a missing directory removed is ErrNotFound on every
// server, a file removed as a directory is ErrPermission, ...), that
// listings show what was made, and that bytes read are bytes written.
// Where servers may legitimately differ (resuming uploads, setting times)
// the suite accepts ErrNotSupported, and checks the result otherwise.
//
// Each case works in a directory of its own, made through the client, so
// one server can serve every case.
package conformance

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// Run runs the suite on the client newClient returns, in base (an existing,
// writable directory of the server, such as "/"). Each case is a subtest.
func Run(t *testing.T, base string, newClient func(t *testing.T) ftpconn.Client) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := newClient(t)
			dir := path.Join(base, "conformance-"+c.name)
			if err := cl.Mkdir(context.Background(), dir); err != nil {
				t.Fatalf("making the case's directory %s: %v", dir, err)
			}
			c.run(t, &env{c: cl, dir: dir})
		})
	}
}

// env is one case's client and directory.
type env struct {
	c   ftpconn.Client
	dir string
}

func (e *env) p(name string) string { return path.Join(e.dir, name) }

// put uploads data as name, failing the test on error.
func (e *env) put(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := e.c.Upload(context.Background(), e.p(name), bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Upload %s: %v", name, err)
	}
}

// mkdir makes name, failing the test on error.
func (e *env) mkdir(t *testing.T, name string) {
	t.Helper()
	if err := e.c.Mkdir(context.Background(), e.p(name)); err != nil {
		t.Fatalf("Mkdir %s: %v", name, err)
	}
}

// get reads the whole of name (size bytes expected).
func (e *env) get(t *testing.T, name string, size int64) ([]byte, error) {
	t.Helper()
	r := e.c.OpenReader(e.p(name), size)
	defer r.Close()
	buf := make([]byte, size+10)
	n, err := r.ReadAt(context.Background(), buf, 0)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return buf[:n], err
}

// list returns dir's entries by name.
func (e *env) list(t *testing.T, dir string) map[string]ftpconn.Entry {
	t.Helper()
	entries, err := e.c.List(context.Background(), e.p(dir))
	if err != nil {
		t.Fatalf("List %s: %v", dir, err)
	}
	m := map[string]ftpconn.Entry{}
	for _, en := range entries {
		m[en.Name] = en
	}
	return m
}

// wantKind fails the test unless err wraps kind.
func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: %v, want an error that is %q", what, err, kind)
	}
}

var cases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"list", func(t *testing.T, e *env) {
		e.put(t, "f", []byte("hello"))
		e.mkdir(t, "d")
		m := e.list(t, ".")
		if f, ok := m["f"]; !ok || f.Type != ftpconn.TypeFile || f.Size != 5 {
			t.Errorf("listing: f is %+v (present %v), want a file of 5 bytes", f, ok)
		}
		if d, ok := m["d"]; !ok || d.Type != ftpconn.TypeDir {
			t.Errorf("listing: d is %+v (present %v), want a directory", d, ok)
		}
		if _, ok := m["."]; ok || len(m) != 2 {
			t.Errorf("listing: %v, want exactly f and d", m)
		}
		if len(e.list(t, "d")) != 0 {
			t.Error("a new directory is not empty")
		}
		_, err := e.c.List(context.Background(), e.p("missing"))
		wantKind(t, "List of a missing directory", err, ftpconn.ErrNotFound)
	}},
	{"mkdir", func(t *testing.T, e *env) {
		e.mkdir(t, "d")
		wantKind(t, "Mkdir of an existing directory", e.c.Mkdir(context.Background(), e.p("d")), ftpconn.ErrExists)
		e.put(t, "f", []byte("x"))
		wantKind(t, "Mkdir over a file", e.c.Mkdir(context.Background(), e.p("f")), ftpconn.ErrExists)
		wantKind(t, "Mkdir in a missing directory", e.c.Mkdir(context.Background(), e.p("missing/d")), ftpconn.ErrNotFound)
	}},
	{"rmdir", func(t *testing.T, e *env) {
		e.mkdir(t, "d")
		e.mkdir(t, "full")
		e.put(t, "full/f", []byte("x"))
		e.put(t, "f", []byte("x"))
		if err := e.c.Rmdir(context.Background(), e.p("d")); err != nil {
			t.Errorf("Rmdir of an empty directory: %v", err)
		}
		if _, ok := e.list(t, ".")["d"]; ok {
			t.Error("d still listed after Rmdir")
		}
		wantKind(t, "Rmdir of a missing directory", e.c.Rmdir(context.Background(), e.p("d")), ftpconn.ErrNotFound)
		wantKind(t, "Rmdir of a directory that is not empty", e.c.Rmdir(context.Background(), e.p("full")), ftpconn.ErrNotEmpty)
		wantKind(t, "Rmdir of a file", e.c.Rmdir(context.Background(), e.p("f")), ftpconn.ErrPermission)
	}},
	{"delete", func(t *testing.T, e *env) {
		e.put(t, "f", []byte("x"))
		e.mkdir(t, "d")
		if err := e.c.Delete(context.Background(), e.p("f")); err != nil {
			t.Errorf("Delete: %v", err)
		}
		if _, ok := e.list(t, ".")["f"]; ok {
			t.Error("f still listed after Delete")
		}
		wantKind(t, "Delete of a missing file", e.c.Delete(context.Background(), e.p("f")), ftpconn.ErrNotFound)
		wantKind(t, "Delete of a directory", e.c.Delete(context.Background(), e.p("d")), ftpconn.ErrPermission)
	}},
	{"upload-read", func(t *testing.T, e *env) {
		data := make([]byte, 300_000)
		for i := range data {
			data[i] = byte(i * 7)
		}
		e.put(t, "f", data)
		got, err := e.get(t, "f", int64(len(data)))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("read back: %d bytes (want %d), equal %v, %v", len(got), len(data), bytes.Equal(got, data), err)
		}
		r := e.c.OpenReader(e.p("f"), int64(len(data)))
		defer r.Close()
		part := make([]byte, 1000)
		if n, err := r.ReadAt(context.Background(), part, 123_456); err != nil || n != 1000 || !bytes.Equal(part, data[123_456:124_456]) {
			t.Errorf("ReadAt 1000 bytes at 123456: %d bytes, %v", n, err)
		}
		if n, err := r.ReadAt(context.Background(), part, int64(len(data))-10); n != 10 || !errors.Is(err, io.EOF) {
			t.Errorf("ReadAt across the end: %d bytes, %v; want 10 and io.EOF", n, err)
		}
		e.put(t, "empty", nil)
		if m := e.list(t, "."); m["empty"].Size != 0 || m["empty"].Type != ftpconn.TypeFile {
			t.Errorf("empty file listed as %+v", m["empty"])
		}
		e.put(t, "f", []byte("short")) // replaces
		if got, err := e.get(t, "f", 5); err != nil || string(got) != "short" {
			t.Errorf("replaced file reads %q, %v", got, err)
		}
		err = e.c.Upload(context.Background(), e.p("missing/f"), bytes.NewReader(data[:10]), 10)
		wantKind(t, "Upload into a missing directory", err, ftpconn.ErrNotFound)
		_, err = e.get(t, "missing-file", 10)
		wantKind(t, "reading a missing file", err, ftpconn.ErrNotFound)
	}},
	{"append", func(t *testing.T, e *env) {
		all := []byte("0123456789abcdefghij")
		e.put(t, "f", all[:10])
		err := e.c.Append(context.Background(), e.p("f"), bytes.NewReader(all), 10, 20)
		if errors.Is(err, ftpconn.ErrNotSupported) {
			t.Logf("Append: %v (allowed: the server does not resume uploads)", err)
			return
		}
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if got, err := e.get(t, "f", 20); err != nil || !bytes.Equal(got, all) {
			t.Errorf("after Append: %q, %v; want %q", got, err, all)
		}
	}},
	{"rename", func(t *testing.T, e *env) {
		e.put(t, "f", []byte("data"))
		e.mkdir(t, "d")
		e.put(t, "d/inner", []byte("in"))
		ctx := context.Background()
		if err := e.c.Rename(ctx, e.p("f"), e.p("g")); err != nil {
			t.Fatalf("Rename f g: %v", err)
		}
		if got, err := e.get(t, "g", 4); err != nil || string(got) != "data" {
			t.Errorf("g after Rename: %q, %v", got, err)
		}
		if err := e.c.Rename(ctx, e.p("d"), e.p("d2")); err != nil {
			t.Fatalf("Rename of a directory: %v", err)
		}
		if _, ok := e.list(t, "d2")["inner"]; !ok {
			t.Error("d2/inner missing after renaming d")
		}
		wantKind(t, "Rename of a missing file", e.c.Rename(ctx, e.p("f"), e.p("h")), ftpconn.ErrNotFound)
		wantKind(t, "Rename into a missing directory", e.c.Rename(ctx, e.p("g"), e.p("missing/g")), ftpconn.ErrNotFound)
	}},
	{"settime", func(t *testing.T, e *env) {
		e.put(t, "f", []byte("x"))
		when := time.Date(2020, 5, 17, 10, 30, 0, 0, time.UTC)
		err := e.c.SetTime(context.Background(), e.p("f"), when)
		if errors.Is(err, ftpconn.ErrNotSupported) {
			t.Logf("SetTime: %v (allowed: the server cannot set times)", err)
			return
		}
		if err != nil {
			t.Fatalf("SetTime: %v", err)
		}
		// LIST shows old times to the day only (ls -l style); MLSD to the second.
		if got := e.list(t, ".")["f"].ModTime; got.UTC().Format("2006-01-02") != "2020-05-17" {
			t.Errorf("listed time after SetTime: %v, want %v", got, when)
		}
		wantKind(t, "SetTime of a missing file", e.c.SetTime(context.Background(), e.p("missing"), when), ftpconn.ErrNotFound)
	}},
}
