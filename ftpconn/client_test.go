package ftpconn_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
)

func dial(t *testing.T, s *ftptest.Server, mod func(*ftpconn.Config)) ftpconn.Client {
	t.Helper()
	cfg := ftpconn.Config{Addr: s.Addr, User: s.User, Password: s.Password, Timeout: 5 * time.Second, Debugf: t.Logf}
	if mod != nil {
		mod(&cfg)
	}
	c, err := ftpconn.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(int64(n))).Read(b)
	return b
}

// readAll reads a whole file through r in chunks of n bytes.
func readAll(t *testing.T, r ftpconn.Reader, n int) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, n)
	for off := int64(0); ; {
		m, err := r.ReadAt(context.Background(), buf, off)
		out = append(out, buf[:m]...)
		off += int64(m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
	}
}

func TestListUploadRead(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	c := dial(t, s, nil)
	ctx := context.Background()
	os.MkdirAll(filepath.Join(s.Dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(s.Dir, "a.txt"), []byte("hello"), 0o644)

	ents, err := c.List(ctx, "/")
	if err != nil || len(ents) != 2 || ents[0].Name != "a.txt" || ents[0].Size != 5 || ents[1].Type != ftpconn.TypeDir {
		t.Fatalf("List = %+v, %v", ents, err)
	}
	data := randomBytes(3<<20 + 17)
	if err := c.Upload(ctx, "/sub/big", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(s.Dir, "sub/big")); !bytes.Equal(got, data) {
		t.Fatalf("server has %d bytes, want %d", len(got), len(data))
	}
	r := c.OpenReader("/sub/big", int64(len(data)))
	defer r.Close()
	if got := readAll(t, r, 128<<10); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, want %d", len(got), len(data))
	}
	// Jumps back and forth: each must give the right bytes.
	buf := make([]byte, 4096)
	for _, off := range []int64{2 << 20, 100, 3 << 20, 0, int64(len(data)) - 10} {
		n, err := r.ReadAt(ctx, buf, off)
		want := data[off:min(off+4096, int64(len(data)))]
		if !bytes.Equal(buf[:n], want) || (err != nil && !errors.Is(err, io.EOF)) {
			t.Fatalf("ReadAt(%d) = %d bytes, %v", off, n, err)
		}
	}
}

func TestErrorsAreTold(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	c := dial(t, s, nil)
	ctx := context.Background()
	os.MkdirAll(filepath.Join(s.Dir, "full/x"), 0o755)
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"delete missing", c.Delete(ctx, "/nope"), ftpconn.ErrNotFound},
		{"rmdir missing", c.Rmdir(ctx, "/nope"), ftpconn.ErrNotFound},
		{"rmdir non-empty", c.Rmdir(ctx, "/full"), ftpconn.ErrNotEmpty},
		{"mkdir existing", c.Mkdir(ctx, "/full"), ftpconn.ErrExists},
		{"mkdir in missing dir", c.Mkdir(ctx, "/nope/d"), ftpconn.ErrNotFound},
		{"rename missing", c.Rename(ctx, "/nope", "/x"), ftpconn.ErrNotFound},
		{"upload into missing dir", c.Upload(ctx, "/nope/f", bytes.NewReader(nil), 0), ftpconn.ErrNotFound},
		{"CR/LF in a name", c.Mkdir(ctx, "/bad\r\nDELE x"), ftpconn.ErrInvalidName},
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if _, err := c.List(ctx, "/nope"); !errors.Is(err, ftpconn.ErrNotFound) {
		t.Errorf("list missing: %v", err)
	}
	r := c.OpenReader("/nope", -1)
	defer r.Close()
	if _, err := r.ReadAt(ctx, make([]byte, 10), 0); !errors.Is(err, ftpconn.ErrNotFound) {
		t.Errorf("read missing: %v", err)
	}
}

func TestWrongPasswordIsLoginError(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	_, err := ftpconn.Dial(context.Background(), ftpconn.Config{Addr: s.Addr, User: s.User, Password: "wrong", Timeout: 5 * time.Second})
	if !errors.Is(err, ftpconn.ErrLogin) {
		t.Fatalf("Dial with a wrong password = %v, want ErrLogin", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("error shows the password: %v", err)
	}
}

// TestDialFailuresSayWhetherTheServerReplied: a refused login is a *ReplyError with the
// server's code; a port nobody listens on is a *NoReplyError (no made-up code 0).
func TestDialFailuresSayWhetherTheServerReplied(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	var re *ftpconn.ReplyError
	var ne *ftpconn.NoReplyError
	_, err := ftpconn.Dial(context.Background(), ftpconn.Config{Addr: s.Addr, User: s.User, Password: "wrong", Timeout: 5 * time.Second})
	if !errors.As(err, &re) || re.Code != 530 || errors.As(err, &ne) {
		t.Errorf("wrong password: %#v, want a *ReplyError with code 530", err)
	}
	l, lerr := net.Listen("tcp", "127.0.0.1:0")
	if lerr != nil {
		t.Fatal(lerr)
	}
	closed := l.Addr().String()
	l.Close()
	_, err = ftpconn.Dial(context.Background(), ftpconn.Config{Addr: closed, User: "u", Password: "p", Timeout: 5 * time.Second})
	if errors.As(err, &re) || !errors.As(err, &ne) || !errors.Is(err, ftpconn.ErrTransient) {
		t.Errorf("nobody listening: %#v, want a *NoReplyError of kind ErrTransient", err)
	}
}

func TestShortTransferIsResumed(t *testing.T) {
	var cuts atomic.Int32
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		ShortRead: func(string) int64 {
			if cuts.Add(1) == 1 {
				return 100_000 // first RETR: part of the file, then 226
			}
			return -1
		},
	}})
	data := randomBytes(1 << 20)
	os.WriteFile(filepath.Join(s.Dir, "f"), data, 0o644)
	c := dial(t, s, nil)
	r := c.OpenReader("/f", int64(len(data)))
	defer r.Close()
	if got := readAll(t, r, 64<<10); !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, want %d", len(got), len(data))
	}
	if cuts.Load() < 2 {
		t.Fatal("the fault never fired")
	}
}

func TestShortTransferIsNeverEOF(t *testing.T) {
	var first atomic.Bool
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		// The first RETR stops after 1000 bytes, every resume sends nothing.
		ShortRead: func(string) int64 {
			if first.CompareAndSwap(false, true) {
				return 1000
			}
			return 0
		},
	}})
	data := randomBytes(1 << 20)
	os.WriteFile(filepath.Join(s.Dir, "f"), data, 0o644)
	c := dial(t, s, nil)
	r := c.OpenReader("/f", int64(len(data)))
	defer r.Close()
	buf := make([]byte, 64<<10)
	var off int64
	for {
		n, err := r.ReadAt(context.Background(), buf, off)
		off += int64(n)
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			t.Fatalf("a cut transfer was reported as end of file at %d", off)
		}
		if !errors.Is(err, ftpconn.ErrShortTransfer) {
			t.Fatalf("err = %v, want ErrShortTransfer", err)
		}
		return
	}
}

func TestUploadJudgedBySize(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		FailUpload: func(string) string { return "451 Local error in processing" },
	}})
	c := dial(t, s, nil)
	data := randomBytes(200_000)
	if err := c.Upload(context.Background(), "/f", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("451 after a complete upload must count as success: %v", err)
	}
}

func TestReconnectAfter421(t *testing.T) {
	var n atomic.Int32
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		Hook: func(cmd, param string) *ftptest.Action {
			if (cmd == "MLSD" || cmd == "EPSV" || cmd == "PASV") && n.Add(1) == 1 {
				return &ftptest.Action{Reply: "421 Timeout.", HangUp: true}
			}
			return nil
		},
	}})
	os.WriteFile(filepath.Join(s.Dir, "a"), []byte("1"), 0o644)
	c := dial(t, s, nil)
	ents, err := c.List(context.Background(), "/")
	if err != nil || len(ents) != 1 {
		t.Fatalf("List after a 421 = %v, %v", ents, err)
	}
	if n.Load() < 2 {
		t.Fatal("the fault never fired")
	}
}

func TestIdleStreamGivesBackItsConnection(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	data := randomBytes(8 << 20)
	os.WriteFile(filepath.Join(s.Dir, "f"), data, 0o644)
	c := dial(t, s, func(cfg *ftpconn.Config) { cfg.MaxConns = 1 })
	ctx := context.Background()
	r := c.OpenReader("/f", int64(len(data)))
	defer r.Close()
	buf := make([]byte, 1<<20)
	if _, err := r.ReadAt(ctx, buf, 0); err != nil {
		t.Fatal(err)
	}
	// The only connection is held by the stream; a listing must still work.
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.List(lctx, "/"); err != nil {
		t.Fatalf("List while a stream holds the only connection: %v", err)
	}
	n, err := r.ReadAt(ctx, buf, 1<<20)
	if err != nil || !bytes.Equal(buf[:n], data[1<<20:2<<20]) {
		t.Fatalf("read after reclaim: %d, %v", n, err)
	}
}

func TestSilentServerTimesOut(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		Hook: func(cmd, param string) *ftptest.Action {
			if cmd == "MLSD" {
				return &ftptest.Action{Stall: time.Minute}
			}
			return nil
		},
	}})
	c := dial(t, s, func(cfg *ftpconn.Config) { cfg.Timeout = time.Second })
	done := make(chan error, 1)
	go func() {
		_, err := c.List(context.Background(), "/")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("List against a silent server succeeded")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("List against a silent server hung")
	}
}

func TestAppendResumesAtOffset(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	c := dial(t, s, nil)
	old := randomBytes(100_000)
	os.WriteFile(filepath.Join(s.Dir, "f"), old, 0o644)
	all := append(bytes.Clone(old), randomBytes(50_000)...)
	if err := c.Append(context.Background(), "/f", bytes.NewReader(all), int64(len(old)), int64(len(all))); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(s.Dir, "f")); !bytes.Equal(got, all) {
		t.Fatalf("server has %d bytes, want %d", len(got), len(all))
	}
	// The file is not what the caller thinks (shorter): the size check fails and says so.
	err := c.Append(context.Background(), "/f", bytes.NewReader(all), 10, 20)
	if !errors.Is(err, ftpconn.ErrNotSupported) {
		t.Fatalf("append to a file of the wrong size = %v, want ErrNotSupported", err)
	}
}

func TestConnectionLimitShrinksThePool(t *testing.T) {
	var sessions atomic.Int32
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		Hook: func(cmd, param string) *ftptest.Action {
			if cmd == "" { // a new connection, before the greeting
				if sessions.Add(1) > 2 {
					sessions.Add(-1)
					return &ftptest.Action{Reply: "421 There are too many connected users, please try later.", HangUp: true}
				}
			}
			if cmd == "QUIT" {
				sessions.Add(-1)
			}
			return nil
		},
	}})
	data := randomBytes(4 << 20)
	os.WriteFile(filepath.Join(s.Dir, "f"), data, 0o644)
	c := dial(t, s, func(cfg *ftpconn.Config) { cfg.MaxConns = 4 })
	ctx := context.Background()
	// Three readers at once need three connections; the server allows two.
	var readers []ftpconn.Reader
	for i := 0; i < 3; i++ {
		r := c.OpenReader("/f", int64(len(data)))
		defer r.Close()
		readers = append(readers, r)
	}
	buf := make([]byte, 1<<20)
	for round := 0; round < 4; round++ {
		for i, r := range readers {
			n, err := r.ReadAt(ctx, buf, int64(round)<<20)
			if err != nil || !bytes.Equal(buf[:n], data[round<<20:(round+1)<<20]) {
				t.Fatalf("reader %d round %d: %d bytes, %v", i, round, n, err)
			}
		}
	}
	if _, err := c.List(ctx, "/"); err != nil {
		t.Fatalf("List with the pool at the server's limit: %v", err)
	}
}

func TestParallelRangesGiveTheSameBytes(t *testing.T) {
	var cuts atomic.Int32
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		ShortRead: func(string) int64 {
			if cuts.Add(1) == 3 {
				return 1 << 20 // one range transfer ends early with 226: it must be resumed
			}
			return -1
		},
	}})
	data := randomBytes(41<<20 + 12345)
	os.WriteFile(filepath.Join(s.Dir, "big"), data, 0o644)
	c := dial(t, s, func(cfg *ftpconn.Config) { cfg.ParallelReads = 4; cfg.MaxConns = 4 })
	r := c.OpenReader("/big", int64(len(data)))
	defer r.Close()
	if got := readAll(t, r, 1<<20); !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, want %d (or content differs)", len(got), len(data))
	}
	// A jump far away goes to the streaming reader and still reads right.
	buf := make([]byte, 4096)
	n, err := r.ReadAt(context.Background(), buf, 100)
	if err != nil || !bytes.Equal(buf[:n], data[100:4196]) {
		t.Fatalf("random read after the sequential pass: %d, %v", n, err)
	}
	if cuts.Load() < 6 {
		t.Fatalf("only %d RETRs: the file was not fetched in ranges", cuts.Load())
	}
}

// TestInterruptedCommandDropsTheConnection: a command whose caller gave up (the FUSE request was
// interrupted) leaves its connection aborted and its reply unread. The operation must fail, and the
// connection must not go back to the pool: Stat once swallowed an interrupted MDTM, answered
// without the time, and the next operation on that connection failed with "i/o timeout" (EIO for
// a read that nobody had interrupted).
func TestInterruptedCommandDropsTheConnection(t *testing.T) {
	var stall atomic.Bool
	s := ftptest.Start(t, ftptest.Options{NoMLSD: true, Faults: &ftptest.Faults{
		Hook: func(cmd, param string) *ftptest.Action {
			if cmd == "MDTM" && stall.Load() {
				return &ftptest.Action{Stall: 2 * time.Second}
			}
			return nil
		},
	}})
	if err := os.WriteFile(filepath.Join(s.Dir, "f"), []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s, func(cfg *ftpconn.Config) { cfg.MaxConns = 1 })
	stall.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := c.Stat(ctx, "/f")
	cancel()
	if err == nil {
		t.Error("Stat whose MDTM was interrupted succeeded")
	}
	stall.Store(false)
	if _, err := c.List(context.Background(), "/"); err != nil {
		t.Fatalf("the next operation on the pool failed: %v", err)
	}
}
