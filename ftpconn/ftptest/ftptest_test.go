package ftptest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
)

// dial logs in to s with jlaffaye/ftp; the connection is closed at the end.
func dial(t *testing.T, s *ftptest.Server, opts ...ftp.DialOption) *ftp.ServerConn {
	t.Helper()
	opts = append([]ftp.DialOption{ftp.DialWithTimeout(5 * time.Second)}, opts...)
	c, err := ftp.Dial(s.Addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Quit() })
	if err := c.Login(s.User, s.Password); err != nil {
		t.Fatal(err)
	}
	return c
}

// code is the FTP reply code inside err, 0 if none.
func code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func wantCode(t *testing.T, what string, err error, want int) {
	t.Helper()
	if code(err) != want {
		t.Errorf("%s: got %v, want reply %d", what, err, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	must(t, err)
	return b
}

func retr(t *testing.T, c *ftp.ServerConn, path string, off uint64) []byte {
	t.Helper()
	r, err := c.RetrFrom(path, off)
	must(t, err)
	b, err := io.ReadAll(r)
	must(t, err)
	must(t, r.Close())
	return b
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	return b
}

func TestListAndTransfers(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	writeFile(t, s.Dir, "a.txt", []byte("hello world"))
	writeFile(t, s.Dir, "sub/b.txt", []byte("b"))
	c := dial(t, s)

	// MLSD: sorted, no "." or "..", sizes and types, times in UTC.
	es, err := c.List("/")
	must(t, err)
	if len(es) != 2 || es[0].Name != "a.txt" || es[0].Type != ftp.EntryTypeFile || es[0].Size != 11 ||
		es[1].Name != "sub" || es[1].Type != ftp.EntryTypeFolder {
		t.Fatalf("MLSD /: %+v %+v", es[0], es[1])
	}
	fi, _ := os.Stat(filepath.Join(s.Dir, "a.txt"))
	if !es[0].Time.Equal(fi.ModTime().Truncate(time.Second)) {
		t.Errorf("MLSD time %v, file %v", es[0].Time, fi.ModTime())
	}

	// STOR, then RETR with REST.
	data := randBytes(300 << 10)
	must(t, c.Stor("/new.bin", bytes.NewReader(data)))
	if !bytes.Equal(readFile(t, s.Dir, "new.bin"), data) {
		t.Fatal("STOR: bytes on disk differ")
	}
	if got := retr(t, c, "/new.bin", 1000); !bytes.Equal(got, data[1000:]) {
		t.Fatalf("REST 1000 + RETR: got %d bytes", len(got))
	}
	if got := retr(t, c, "/new.bin", 1<<20); len(got) != 0 {
		t.Fatalf("REST past the end + RETR: got %d bytes", len(got))
	}

	// APPE appends, or creates.
	must(t, c.Append("/new.bin", bytes.NewReader([]byte("tail"))))
	if got := readFile(t, s.Dir, "new.bin"); !bytes.Equal(got, append(data, "tail"...)) {
		t.Fatalf("APPE: %d bytes on disk", len(got))
	}
	must(t, c.Append("/fresh", bytes.NewReader([]byte("x"))))
	if got := readFile(t, s.Dir, "fresh"); string(got) != "x" {
		t.Fatalf("APPE of a new file: %q", got)
	}

	// REST + STOR writes at the offset and keeps the rest of the file.
	must(t, c.StorFrom("/a.txt", bytes.NewReader([]byte("WO")), 6))
	if got := readFile(t, s.Dir, "a.txt"); string(got) != "hello WOrld" {
		t.Fatalf("REST 6 + STOR: %q", got)
	}
	wantCode(t, "REST past the end + STOR", c.StorFrom("/a.txt", bytes.NewReader(nil), 99), 554)

	// SIZE.
	n, err := c.FileSize("/new.bin")
	if err != nil || n != int64(len(data)+4) {
		t.Fatalf("SIZE: %d, %v", n, err)
	}
	_, err = c.FileSize("/sub")
	wantCode(t, "SIZE of a directory", err, 550)

	// RNFR/RNTO, also onto an existing file.
	must(t, c.Rename("/a.txt", "/sub/c.txt"))
	must(t, c.Rename("/fresh", "/sub/c.txt"))
	if got := readFile(t, s.Dir, "sub/c.txt"); string(got) != "x" {
		t.Fatalf("RNTO onto a file: %q", got)
	}

	// MKD, RMD, DELE.
	must(t, c.MakeDir("/d"))
	wantCode(t, "MKD of an existing dir", c.MakeDir("/d"), 550)
	wantCode(t, "MKD without parent", c.MakeDir("/x/y"), 550)
	wantCode(t, "RMD of a non-empty dir", c.RemoveDir("/sub"), 550)
	wantCode(t, "DELE of a directory", c.Delete("/sub"), 550)
	must(t, c.Delete("/sub/b.txt"))
	must(t, c.Delete("/sub/c.txt"))
	must(t, c.RemoveDir("/sub"))
	must(t, c.RemoveDir("/d"))
	es, err = c.List("/")
	must(t, err)
	if len(es) != 1 || es[0].Name != "new.bin" {
		t.Fatalf("MLSD / at the end: %v", es)
	}
}

// TestMissing pins the replies for missing paths (see the package comment).
func TestMissing(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	writeFile(t, s.Dir, "f", []byte("x"))
	c := dial(t, s)
	_, err := c.List("/missing")
	wantCode(t, "MLSD /missing", err, 550)
	_, err = c.List("/f")
	wantCode(t, "MLSD of a file", err, 550)
	_, err = c.NameList("/missing")
	wantCode(t, "NLST /missing", err, 550)
	_, err = c.Retr("/missing")
	wantCode(t, "RETR /missing", err, 550)
	_, err = c.Retr("/")
	wantCode(t, "RETR of a directory", err, 550)
	_, err = c.FileSize("/missing")
	wantCode(t, "SIZE /missing", err, 550)
	wantCode(t, "STOR into a missing dir", c.Stor("/nodir/f", bytes.NewReader(nil)), 550)
	wantCode(t, "DELE /missing", c.Delete("/missing"), 550)
	wantCode(t, "RMD /missing", c.RemoveDir("/missing"), 550)
	wantCode(t, "RNFR /missing", c.Rename("/missing", "/x"), 550)
	must(t, c.NoOp()) // still in step

	// LIST (as against a server without MLSD).
	s2 := ftptest.Start(t, ftptest.Options{NoMLSD: true})
	c2 := dial(t, s2)
	_, err = c2.List("/missing")
	wantCode(t, "LIST /missing", err, 550)
}

// recorder is a Hook that records the verbs it sees.
type recorder struct {
	mu    sync.Mutex
	verbs []string
}

func (r *recorder) hook(cmd, _ string) *ftptest.Action {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.verbs = append(r.verbs, cmd)
	return nil
}

func (r *recorder) saw(verb string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.verbs, verb)
}

func TestListWithoutMLSD(t *testing.T) {
	var rec recorder
	s := ftptest.Start(t, ftptest.Options{NoMLSD: true, Faults: &ftptest.Faults{Hook: rec.hook}})
	writeFile(t, s.Dir, "f", []byte("12345"))
	must(t, os.Mkdir(filepath.Join(s.Dir, "d"), 0o755))
	c := dial(t, s)
	es, err := c.List("/")
	must(t, err)
	if len(es) != 2 || es[0].Name != "d" || es[0].Type != ftp.EntryTypeFolder ||
		es[1].Name != "f" || es[1].Size != 5 || es[1].Type != ftp.EntryTypeFile {
		t.Fatalf("LIST /: %+v", es)
	}
	if !rec.saw("LIST") || rec.saw("MLSD") {
		t.Errorf("commands sent: %v", rec.verbs)
	}
	es, err = c.List("/f")
	if err != nil || len(es) != 1 || es[0].Name != "f" || es[0].Size != 5 {
		t.Errorf("LIST of a file: %v %v", es, err)
	}
	names, err := c.NameList("/")
	if err != nil || !slices.Equal(names, []string{"d", "f"}) {
		t.Errorf("NLST: %v %v", names, err)
	}
}

// TestPASV: a client that cannot use EPSV falls back to PASV.
func TestPASV(t *testing.T) {
	var rec recorder
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: func(cmd, p string) *ftptest.Action {
		rec.hook(cmd, p)
		if cmd == "EPSV" {
			return &ftptest.Action{Reply: "502 EPSV not implemented"}
		}
		return nil
	}}})
	writeFile(t, s.Dir, "f", []byte("data"))
	c := dial(t, s)
	if got := retr(t, c, "/f", 0); string(got) != "data" {
		t.Fatalf("RETR over PASV: %q", got)
	}
	if !rec.saw("PASV") {
		t.Errorf("PASV not used: %v", rec.verbs)
	}
}

// TestConcurrentClients runs several sessions at once (for -race).
func TestConcurrentClients(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	var wg sync.WaitGroup
	for i := range 4 {
		c := dial(t, s)
		wg.Go(func() {
			data := randBytes(200<<10 + i)
			name := fmt.Sprintf("/f%d", i)
			for range 5 {
				if err := c.Stor(name, bytes.NewReader(data)); err != nil {
					t.Error(err)
					return
				}
				r, err := c.Retr(name)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := io.ReadAll(r)
				r.Close()
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("%s: %d bytes, %v", name, len(got), err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := s.Sessions(); n != 4 {
		t.Errorf("Sessions() = %d, want 4", n)
	}
}

func TestListDots(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{ListDots: true})
	writeFile(t, s.Dir, "f", nil)
	es, err := dial(t, s).List("/")
	must(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, []string{".", "..", "f"}) {
		t.Errorf("MLSD with ListDots: %v", names)
	}
}

// TestEarlyClose: closing a download early gets 426; the connection stays
// usable. The client's small receive buffer makes sure the server is still
// sending when the client closes.
func TestEarlyClose(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	data := randBytes(8 << 20)
	writeFile(t, s.Dir, "big", data)
	smallBuf := func(network, addr string) (net.Conn, error) {
		conn, err := net.DialTimeout(network, addr, 5*time.Second)
		if err == nil {
			_ = conn.(*net.TCPConn).SetReadBuffer(32 << 10)
		}
		return conn, err
	}
	c := dial(t, s, ftp.DialWithDialFunc(smallBuf))
	r, err := c.Retr("/big")
	must(t, err)
	if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "closing a RETR early", r.Close(), 426)
	must(t, c.NoOp())
	if got := retr(t, c, "/big", 0); !bytes.Equal(got, data) {
		t.Fatalf("RETR after early close: %d bytes", len(got))
	}
}

func TestHookHangUp(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		Hook: func(cmd, _ string) *ftptest.Action {
			if cmd == "NOOP" {
				return &ftptest.Action{Reply: "421 Service not available", HangUp: true}
			}
			return nil
		},
	}})
	c := dial(t, s)
	wantCode(t, "NOOP", c.NoOp(), 421)
	if _, err := c.List("/"); err == nil {
		t.Fatal("a call after the hang-up succeeded")
	}
	waitSessions(t, s, 0)
}

func TestHookReplyOnly(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		Hook: func(cmd, _ string) *ftptest.Action {
			if cmd == "DELE" {
				return &ftptest.Action{Reply: "550 Permission denied"}
			}
			return nil
		},
	}})
	writeFile(t, s.Dir, "f", []byte("x"))
	c := dial(t, s)
	wantCode(t, "DELE", c.Delete("/f"), 550)
	if _, err := os.Stat(filepath.Join(s.Dir, "f")); err != nil {
		t.Errorf("the swallowed DELE removed the file: %v", err)
	}
	must(t, c.NoOp())
}

func TestHookStall(t *testing.T) {
	const stall = 300 * time.Millisecond
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		Hook: func(cmd, _ string) *ftptest.Action {
			if cmd == "SIZE" {
				return &ftptest.Action{Stall: stall}
			}
			return nil
		},
	}})
	writeFile(t, s.Dir, "f", []byte("abc"))
	c := dial(t, s)
	start := time.Now()
	n, err := c.FileSize("/f")
	if err != nil || n != 3 {
		t.Fatalf("SIZE after a stall: %d, %v", n, err)
	}
	if d := time.Since(start); d < stall {
		t.Errorf("SIZE took %v, want >= %v", d, stall)
	}
}

// TestHookGreeting: the connect-time Hook (cmd "") replaces the 220.
func TestHookGreeting(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		Hook: func(cmd, _ string) *ftptest.Action {
			if cmd == "" {
				return &ftptest.Action{Reply: "421 Too many connections", HangUp: true}
			}
			return nil
		},
	}})
	_, err := ftp.Dial(s.Addr, ftp.DialWithTimeout(5*time.Second))
	wantCode(t, "Dial", err, 421)
	waitSessions(t, s, 0)
}

func TestShortRead(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		ShortRead: func(path string) int64 {
			if path == "/short" {
				return 10
			}
			return -1
		},
	}})
	data := randBytes(100 << 10)
	writeFile(t, s.Dir, "short", data)
	writeFile(t, s.Dir, "full", data)
	c := dial(t, s)
	if got := retr(t, c, "/short", 0); !bytes.Equal(got, data[:10]) { // and no error
		t.Errorf("ShortRead: got %d bytes", len(got))
	}
	if got := retr(t, c, "/short", 5); !bytes.Equal(got, data[5:15]) {
		t.Errorf("ShortRead after REST 5: got %d bytes", len(got))
	}
	if got := retr(t, c, "/full", 0); !bytes.Equal(got, data) {
		t.Errorf("other file: got %d bytes", len(got))
	}
}

func TestFailUpload(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		FailUpload: func(path string) string {
			if path == "/f" {
				return "451 Disk trouble"
			}
			return ""
		},
	}})
	c := dial(t, s)
	data := randBytes(64 << 10)
	wantCode(t, "STOR", c.Stor("/f", bytes.NewReader(data)), 451)
	if !bytes.Equal(readFile(t, s.Dir, "f"), data) {
		t.Error("the data was not stored in full")
	}
	wantCode(t, "APPE", c.Append("/f", bytes.NewReader([]byte("x"))), 451)
	must(t, c.NoOp())
	must(t, c.Stor("/g", bytes.NewReader(data)))
}

// TestClose: Close drops every client, even one inside a Stall, and stops
// listening.
func TestClose(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		Hook: func(cmd, _ string) *ftptest.Action {
			if cmd == "SIZE" {
				return &ftptest.Action{Stall: time.Hour}
			}
			return nil
		},
	}})
	writeFile(t, s.Dir, "f", nil)
	idle := dial(t, s)
	stalled := dial(t, s)
	errc := make(chan error, 1)
	go func() { _, err := stalled.FileSize("/f"); errc <- err }()
	waitSessions(t, s, 2)
	time.Sleep(50 * time.Millisecond) // let SIZE reach the Hook
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := <-errc; err == nil {
		t.Error("stalled SIZE succeeded")
	}
	if err := idle.NoOp(); err == nil {
		t.Error("NOOP after Close succeeded")
	}
	if s.Sessions() != 0 {
		t.Errorf("%d sessions after Close", s.Sessions())
	}
	if _, err := ftp.Dial(s.Addr, ftp.DialWithTimeout(time.Second)); err == nil {
		t.Error("Dial after Close succeeded")
	}
}

func waitSessions(t *testing.T, s *ftptest.Server, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for s.Sessions() != n {
		if ctx.Err() != nil {
			t.Fatalf("%d sessions, want %d", s.Sessions(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
