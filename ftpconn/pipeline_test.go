package ftpconn

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
)

// asVsftpd makes an ftptest server greet like vsftpd, which accepts data
// connections only at the transfer command (pipeline.go: traitsOf), as
// ftptest does too (it reads a data connection only once the STOR came).
func asVsftpd(cmd, _ string) *ftptest.Action {
	if cmd == "" {
		return &ftptest.Action{Reply: "220 (vsFTPd 3.0.3)"}
	}
	return nil
}

// dialVia dials a client through addr to s.
func dialVia(t *testing.T, s *ftptest.Server, addr string) Client {
	t.Helper()
	c, err := Dial(context.Background(), Config{Addr: addr, User: s.User, Password: s.Password, Timeout: 10 * time.Second, Debugf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// uploadRenamed does what core's replace does for a small file: STOR to
// a temporary name, then RNFR/RNTO over the real one, and checks it.
func uploadRenamed(t *testing.T, c Client, s *ftptest.Server, name string, data []byte) {
	t.Helper()
	ctx := context.Background()
	tmp := "/." + name + ".ftpmount-t.part"
	if err := c.Upload(ctx, tmp, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
	if err := c.Rename(ctx, tmp, "/"+name); err != nil {
		t.Fatalf("rename %s: %v", name, err)
	}
	got, err := os.ReadFile(filepath.Join(s.Dir, name))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("%s on the server: %d bytes, %v; want the %d sent", name, len(got), err, len(data))
	}
}

// TestUploadTwoRoundTrips: a small file's durable upload (STOR to a
// temporary name, size checked, renamed over) costs two round trips once
// the connection has a data connection opened ahead: STOR, data and SIZE
// in one go, then RNFR, RNTO (and the next EPSV) in one go. Sending each
// command after the last reply cost six.
func TestUploadTwoRoundTrips(t *testing.T) {
	uploadsInTwoRoundTrips(t, nil)
}

// uploadsInTwoRoundTrips makes a first upload (it pays for its EPSV) and
// then three more through a lockstep proxy, and fails any of those that
// costs more than two round trips. between, when not nil, runs before
// each of the three, on the same client; its own round trips do not count.
func uploadsInTwoRoundTrips(t *testing.T, between func(c Client)) {
	t.Helper()
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: asVsftpd}})
	ls := startLockstep(t, s.Addr)
	c := dialVia(t, s, ls.addr())
	uploadRenamed(t, c, s, "first", []byte("the first file pays for its EPSV"))
	for i := range 3 {
		if between != nil {
			between(c)
		}
		before := ls.rounds()
		name := fmt.Sprintf("f%d", i)
		uploadRenamed(t, c, s, name, bytes.Repeat([]byte{byte('a' + i)}, 20000+i))
		if n := ls.rounds() - before; n > 2 {
			t.Errorf("upload and rename of %s: %d round trips, want at most 2; the client sent:\n%s", name, n, strings.Join(ls.sent(before), "\n"))
		}
	}
}

// quirkProxy relays a control connection to an FTP server line by line
// and lets a test play a server's handling of pipelined commands: quirk
// sees each command line, whether it came in the same read as the one
// before it (pipelined) and whether a transfer is under way (a 1xx was
// relayed, its final reply not yet), and returns what to do. Data
// connections go straight to the server (its 229 names its own port).
type quirkProxy struct {
	ln    net.Listener
	quirk func(line string, pipelined, inTransfer bool) quirkAction
}

type quirkAction struct {
	reply string // answer this line here, instead of the server
	drop  bool   // swallow the line, answer nothing
}

func startQuirkProxy(t *testing.T, target string, quirk func(line string, pipelined, inTransfer bool) quirkAction) *quirkProxy {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	q := &quirkProxy{ln: ln, quirk: quirk}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp4", target)
			if err != nil {
				c.Close()
				continue
			}
			go q.session(c, s)
		}
	}()
	return q
}

func (q *quirkProxy) addr() string { return q.ln.Addr().String() }

func (q *quirkProxy) session(c, s net.Conn) {
	defer c.Close()
	defer s.Close()
	var mu sync.Mutex // serialises writes to c
	var inTransfer bool
	go func() {
		r := bufio.NewReader(s)
		for {
			line, err := r.ReadString('\n')
			if line != "" {
				mu.Lock()
				if code, sep, _, ok := splitReply(strings.TrimRight(line, "\r\n")); ok && sep != '-' {
					inTransfer = code >= 100 && code < 200
				}
				io.WriteString(c, line)
				mu.Unlock()
			}
			if err != nil {
				c.Close()
				return
			}
		}
	}()
	r := bufio.NewReader(c)
	lastRead := time.Time{}
	for {
		pipelined := r.Buffered() > 0 && time.Since(lastRead) < time.Millisecond
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if !pipelined {
			lastRead = time.Now()
		}
		mu.Lock()
		act := q.quirk(strings.TrimRight(line, "\r\n"), pipelined, inTransfer)
		switch {
		case act.drop:
		case act.reply != "":
			io.WriteString(c, act.reply+"\r\n")
		default:
			io.WriteString(s, line)
		}
		mu.Unlock()
	}
}

// TestSizeAnsweredDuringTransfer: a server that answers a command arriving
// during an upload at once, with the size written so far (pyftpdlib, and
// proftpd 1.3.8 at times: "213 0" before the 226), must not have that
// size taken for the upload's. The upload asks again after the 226, comes
// out whole, and the mount stops sending SIZE behind the data; later
// uploads still cost no more than three round trips.
func TestSizeAnsweredDuringTransfer(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: asVsftpd}})
	var mu sync.Mutex
	early := 0
	q := startQuirkProxy(t, s.Addr, func(line string, _, inTransfer bool) quirkAction {
		if inTransfer && strings.HasPrefix(line, "SIZE ") {
			mu.Lock()
			early++
			mu.Unlock()
			return quirkAction{reply: "213 0"}
		}
		return quirkAction{}
	})
	ls := startLockstep(t, q.addr())
	c := dialVia(t, s, ls.addr())
	uploadRenamed(t, c, s, "first", bytes.Repeat([]byte("x"), 30000))
	for i := range 2 {
		before := ls.rounds()
		name := fmt.Sprintf("f%d", i)
		uploadRenamed(t, c, s, name, bytes.Repeat([]byte{byte('a' + i)}, 25000+i))
		if n := ls.rounds() - before; n > 3 {
			t.Errorf("upload and rename of %s: %d round trips, want at most 3; the client sent:\n%s", name, n, strings.Join(ls.sent(before), "\n"))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if early > 1 {
		t.Errorf("SIZE sent during a transfer %d times: the mount should have learned after the first", early)
	}
}

// TestRenamePairDropped: a server that takes only the first command of a
// write and drops the rest (as some embedded servers do) loses the RNTO
// sent behind the RNFR. The rename must still happen (on a fresh
// connection, the old way), and later renames must not wait again.
func TestRenamePairDropped(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: asVsftpd}})
	q := startQuirkProxy(t, s.Addr, func(line string, pipelined, _ bool) quirkAction {
		return quirkAction{drop: pipelined}
	})
	ls := startLockstep(t, q.addr())
	c := dialVia(t, s, ls.addr())
	os.WriteFile(filepath.Join(s.Dir, "a"), []byte("content of a"), 0o644)
	ctx := context.Background()
	if err := c.Rename(ctx, "/a", "/b"); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if got, err := os.ReadFile(filepath.Join(s.Dir, "b")); err != nil || string(got) != "content of a" {
		t.Fatalf("after rename: %q %v", got, err)
	}
	before := ls.rounds()
	if err := c.Rename(ctx, "/b", "/c"); err != nil {
		t.Fatalf("second rename: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "c")); err != nil {
		t.Fatalf("second rename: %v", err)
	}
	if n := ls.verbRounds(before, "RNFR", "RNTO"); n > 2 {
		t.Errorf("second rename: %d round trips, want 2 (RNFR, RNTO: the mount learned); the client sent:\n%s", n, strings.Join(ls.sent(before), "\n"))
	}
}

// TestShortUploadNeverRenamed: when the size after a pipelined upload is
// not the size sent, the upload fails (after its retries) and no RNFR or
// RNTO of the temporary file is ever sent: an incomplete file must never
// replace the real one.
func TestShortUploadNeverRenamed(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: func(cmd, param string) *ftptest.Action {
		if cmd == "" {
			return &ftptest.Action{Reply: "220 (vsFTPd 3.0.3)"}
		}
		mu.Lock()
		seen = append(seen, cmd+" "+param)
		mu.Unlock()
		if cmd == "SIZE" && strings.HasSuffix(param, ".part") {
			return &ftptest.Action{Reply: "213 7"}
		}
		return nil
	}}})
	ls := startLockstep(t, s.Addr)
	c := dialVia(t, s, ls.addr())
	data := bytes.Repeat([]byte("z"), 10000)
	err := c.Upload(context.Background(), "/.g.ftpmount-t.part", bytes.NewReader(data), int64(len(data)))
	if !errors.Is(err, ErrShortTransfer) {
		t.Fatalf("upload with a short size: %v, want ErrShortTransfer", err)
	}
	mu.Lock()
	defer mu.Unlock()
	sizes := 0
	for _, l := range seen {
		if strings.HasPrefix(l, "RNFR") || strings.HasPrefix(l, "RNTO") {
			t.Errorf("sent %q after a failed size check", l)
		}
		if strings.HasPrefix(l, "SIZE") {
			sizes++
		}
	}
	if sizes == 0 {
		t.Errorf("no SIZE asked")
	}
}

// slowSource yields its bytes slowly: each ReadAt waits pause.
type slowSource struct {
	data  []byte
	pause time.Duration
}

func (s slowSource) ReadAt(p []byte, off int64) (int, error) {
	time.Sleep(s.pause)
	if off >= int64(len(s.data)) {
		return 0, io.EOF
	}
	n := copy(p, s.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestLongUploadOutlastsTimeout: an upload whose data takes longer than
// Config.Timeout, while moving all along, succeeds: the wait for its final
// reply starts once the data is sent, not while the control connection is
// silent during the transfer.
func TestLongUploadOutlastsTimeout(t *testing.T) {
	for _, hook := range []func(string, string) *ftptest.Action{nil, asVsftpd} {
		s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: hook}})
		c, err := Dial(context.Background(), Config{Addr: s.Addr, User: s.User, Password: s.Password, Timeout: time.Second, Debugf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		src := slowSource{data: pages(3 << 20), pause: 600 * time.Millisecond}
		if err := c.Upload(context.Background(), "/slow", src, int64(len(src.data))); err != nil {
			t.Fatalf("slow upload: %v", err)
		}
		if got, _ := os.ReadFile(filepath.Join(s.Dir, "slow")); !bytes.Equal(got, src.data) {
			t.Fatalf("server has %d bytes, want %d", len(got), len(src.data))
		}
	}
}
