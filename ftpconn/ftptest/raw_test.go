package ftptest_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
)

// rawConn is a bare control connection, to see the exact replies.
type rawConn struct {
	t *testing.T
	*textproto.Conn
}

func rawLogin(t *testing.T, s *ftptest.Server) *rawConn {
	t.Helper()
	c, err := textproto.Dial("tcp", s.Addr)
	must(t, err)
	t.Cleanup(func() { c.Close() })
	r := &rawConn{t, c}
	r.expect(220)
	r.cmd(331, "USER "+s.User)
	r.cmd(230, "PASS "+s.Password)
	return r
}

// cmd sends one line and returns the reply text; another code fails t.
func (r *rawConn) cmd(want int, line string) string {
	r.t.Helper()
	must(r.t, r.PrintfLine("%s", line))
	return r.expect(want)
}

func (r *rawConn) expect(want int) string {
	r.t.Helper()
	got, msg, err := r.ReadResponse(0)
	if err != nil || got != want {
		r.t.Fatalf("reply %d %q (%v), want %d", got, msg, err, want)
	}
	return msg
}

// epsv opens a data connection with EPSV and returns it and its port.
func (r *rawConn) epsv() (net.Conn, int) {
	r.t.Helper()
	msg := r.cmd(229, "EPSV")
	var port int
	if _, err := fmt.Sscanf(msg[strings.Index(msg, "(|||"):], "(|||%d|)", &port); err != nil {
		r.t.Fatalf("EPSV reply %q: %v", msg, err)
	}
	conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	must(r.t, err)
	return conn, port
}

// TestRawReplies pins the exact wire format documented in the package comment.
func TestRawReplies(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	writeFile(t, s.Dir, "f", []byte("abc"))
	must(t, os.Mkdir(filepath.Join(s.Dir, "d"), 0o755))
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	must(t, os.Chtimes(filepath.Join(s.Dir, "f"), mtime, mtime))
	must(t, os.Chtimes(filepath.Join(s.Dir, "d"), mtime, mtime))
	dsize := func() int64 { fi, _ := os.Stat(filepath.Join(s.Dir, "d")); return fi.Size() }()
	r := rawLogin(t, s)

	feat := r.cmd(211, "FEAT")
	for _, want := range []string{"MLST Type*;Modify*;Size*;", "EPSV", "UTF8"} {
		if !strings.Contains(feat, want) {
			t.Errorf("FEAT %q lacks %q", feat, want)
		}
	}
	for _, absent := range []string{"MFMT", "MDTM", "REST"} {
		if strings.Contains(feat, absent) {
			t.Errorf("FEAT %q has %q", feat, absent)
		}
	}

	data, _ := r.epsv()
	r.cmd(150, "MLSD /")
	b, _ := io.ReadAll(data)
	data.Close()
	r.expect(226)
	want := fmt.Sprintf("Type=dir;Modify=20200102030405;Size=%d; d\r\nType=file;Modify=20200102030405;Size=3; f\r\n", dsize)
	if string(b) != want {
		t.Errorf("MLSD data:\n%q\nwant\n%q", b, want)
	}

	if msg := r.cmd(250, "MLST /f"); !strings.Contains(msg, " Type=file;Modify=20200102030405;Size=3; f") {
		t.Errorf("MLST reply %q", msg)
	}

	// PASV announces 127.0.0.1.
	if msg := r.cmd(227, "PASV"); !strings.HasPrefix(msg, "Entering Passive Mode (127,0,0,1,") {
		t.Errorf("PASV reply %q", msg)
	}

	if msg := r.cmd(550, "RETR /missing"); msg != "open /missing: no such file or directory" {
		t.Errorf("RETR /missing: %q", msg)
	}
	if msg := r.cmd(550, "MLSD /missing"); msg != "stat /missing: no such file or directory" {
		t.Errorf("MLSD /missing: %q", msg)
	}
	if msg := r.cmd(550, "LIST /missing"); msg != "stat /missing: no such file or directory" {
		t.Errorf("LIST /missing: %q", msg)
	}
	r.cmd(500, "PORT 127,0,0,1,4,1") // active mode is not offered
	r.cmd(500, "ABOR")
	r.cmd(500, "MFMT 20200102030405 /f")
	r.cmd(213, "MDTM /f") // works, though FEAT does not say so
	for line, want := range map[string]string{
		"MKD /d":     "Action not taken: mkdir /d: file exists",
		"RMD /d/..":  "Directory / cannot be deleted",
		"DELE /d":    "File delete failed. ",
		"SIZE /d":    "/d: not a plain file",
		"RNFR /nope": "Action not taken: stat /nope: no such file or directory",
	} {
		if msg := r.cmd(550, line); msg != want {
			t.Errorf("%s: %q, want %q", line, msg, want)
		}
	}
	r.cmd(553, "RETR")
	r.cmd(550, "RMD /x/y")
	if msg := r.cmd(257, "PWD"); msg != `"/" is the current directory` {
		t.Errorf("PWD after a failed RMD: %q", msg)
	}

	// Before login.
	c, err := textproto.Dial("tcp", s.Addr)
	must(t, err)
	defer c.Close()
	anon := &rawConn{t, c}
	anon.expect(220)
	anon.cmd(530, "RETR /f")
	anon.cmd(530, "EPSV")
}

// TestLoopbackOnly checks in /proc/net that the control listener and a
// passive listener are bound to 127.0.0.1 and nothing else.
func TestLoopbackOnly(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	r := rawLogin(t, s)
	msg := r.cmd(229, "EPSV") // a passive listener, left waiting
	var waiting int
	if _, err := fmt.Sscanf(msg[strings.Index(msg, "(|||"):], "(|||%d|)", &waiting); err != nil {
		t.Fatalf("EPSV reply %q: %v", msg, err)
	}

	found := map[int]bool{}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			t.Skip(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[3] != "0A" { // 0A: LISTEN
				continue
			}
			addr, portHex, _ := strings.Cut(fields[1], ":")
			port, _ := strconv.ParseInt(portHex, 16, 32)
			if int(port) != s.Port && int(port) != waiting {
				continue
			}
			found[int(port)] = true
			if addr != "0100007F" { // 127.0.0.1, little-endian hex
				t.Errorf("port %d listens on %s in %s", port, addr, file)
			}
		}
		f.Close()
	}
	if !found[s.Port] || !found[waiting] {
		t.Errorf("listeners not found in /proc/net: %v (control %d, passive %d)", found, s.Port, waiting)
	}
}
