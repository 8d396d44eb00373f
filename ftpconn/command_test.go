package ftpconn

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
	"github.com/jlaffaye/ftp"
)

// rawConn checks out one logged-in connection of a fresh pool.
func rawConn(t *testing.T, s *ftptest.Server, mod func(*Config)) (*pool, *conn) {
	t.Helper()
	cfg := Config{Addr: s.Addr, User: s.User, Password: s.Password, Timeout: 5 * time.Second, Debugf: t.Logf}
	if mod != nil {
		mod(&cfg)
	}
	p := newPool(cfg.withDefaults())
	c, err := p.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.put(c, nil); p.closeAll() })
	return p, c
}

func TestCmdSharesTheLibrarySession(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	os.Mkdir(filepath.Join(s.Dir, "d"), 0o755)
	os.WriteFile(filepath.Join(s.Dir, "d", "f"), []byte("abc"), 0o644)
	_, c := rawConn(t, s, nil)
	ctx := context.Background()

	// A multi-line reply, read whole; then the library's next command
	// gets its own reply, not a left-over line.
	code, msg, err := c.Cmd(ctx, "FEAT")
	if err != nil || code != 211 || !strings.Contains(msg, "MLST") {
		t.Fatalf("FEAT: %d %q %v", code, msg, err)
	}
	if err := c.sc.ChangeDir("/d"); err != nil {
		t.Fatalf("library CWD after our FEAT: %v", err)
	}
	if dir, err := c.sc.CurrentDir(); err != nil || dir != "/d" {
		t.Fatalf("library PWD: %q %v", dir, err)
	}
	code, msg, err = c.Cmd(ctx, "PWD")
	if err != nil || code != 257 || !strings.Contains(msg, `"/d"`) {
		t.Fatalf("PWD: %d %q %v", code, msg, err)
	}
	// A refusal is a reply, not an error; Expect makes it one.
	if code, _, err := c.Cmd(ctx, "SITE NOSUCH"); err != nil || code < 500 {
		t.Fatalf("SITE NOSUCH: %d %v", code, err)
	}
	if _, err := c.Expect(ctx, "SIZE /nope"); replyCode(err) != 550 {
		t.Fatalf("Expect SIZE /nope: %v", err)
	}
	if _, _, err := c.Cmd(ctx, "CWD /d\r\nDELE /d/f"); !errors.Is(err, ftp.ErrInvalidCommand) {
		t.Fatalf("CR LF in a command: %v", err)
	}
}

func TestListRawLines(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{ListDots: true})
	os.WriteFile(filepath.Join(s.Dir, "a b"), []byte("12345"), 0o644)
	os.Mkdir(filepath.Join(s.Dir, "sub"), 0o755)
	_, c := rawConn(t, s, nil)
	ctx := context.Background()
	for _, disableEPSV := range []bool{false, true} {
		c.noEPSV = disableEPSV
		lines, code, _, err := c.ListRaw(ctx, "MLSD /")
		if err != nil || code != 226 {
			t.Fatalf("MLSD: %d %v", code, err)
		}
		want := []string{"Type=cdir", "Type=pdir", "Size=5; a b", "Type=dir"}
		if len(lines) != 4 {
			t.Fatalf("MLSD lines: %q", lines)
		}
		for i, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("MLSD line %d = %q, want it to contain %q", i, lines[i], w)
			}
		}
	}
	if _, code, _, err := c.ListRaw(ctx, "MLSD /missing"); code != 550 || replyCode(err) != 550 {
		t.Fatalf("MLSD of a missing dir: %d %v", code, err)
	}
	// The library still works after our transfers.
	if n, err := c.sc.FileSize("/a b"); err != nil || n != 5 {
		t.Fatalf("library SIZE after ListRaw: %d %v", n, err)
	}
}

func TestCmdHonoursContext(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: func(cmd, _ string) *ftptest.Action {
		if cmd == "SITE" {
			return &ftptest.Action{Stall: time.Minute}
		}
		return nil
	}}})
	_, c := rawConn(t, s, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.Cmd(ctx, "SITE HELP")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("stalled SITE with a 200 ms context: %v after %v", err, time.Since(start))
	}
	if !connBroken(err) {
		t.Fatal("a connection whose command was abandoned must not go back to the pool")
	}
}

func TestReplyReader(t *testing.T) {
	for _, tc := range []struct {
		in   string
		code int
		msg  string
	}{
		{"220 ready\r\n", 220, "ready"},
		{"220\r\n", 220, ""},
		{"211-Features:\r\n MLST type*;\r\n UTF8\r\n211 End\r\n", 211, "Features:\n MLST type*;\n UTF8\nEnd"},
		// RFC 959 §4.2: inner lines may start with digits; only "ddd " ends.
		{"250-first\r\n250-second\r\n123 not the end\r\n250 last\r\n", 250, "first\n250-second\n123 not the end\nlast"},
		{"226 lone LF\n", 226, "lone LF"},
	} {
		c := &ctrlConn{pending: []byte(tc.in + "200 next\r\n")}
		code, msg, err := c.readReply(nil)
		if err != nil || code != tc.code || msg != tc.msg {
			t.Errorf("%q: %d %q %v, want %d %q", tc.in, code, msg, err, tc.code, tc.msg)
		}
		if string(c.pending) != "200 next\r\n" {
			t.Errorf("%q: left %q for the next reader", tc.in, c.pending)
		}
	}
	for _, bad := range []string{"hello\r\n", "2000 x\r\n", "99 x\r\n"} {
		c := &ctrlConn{pending: []byte(bad)}
		if _, _, err := c.readReply(nil); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParsePassive(t *testing.T) {
	if p, err := parseEPSV("Entering Extended Passive Mode (|||6446|)"); err != nil || p != 6446 {
		t.Errorf("EPSV: %d %v", p, err)
	}
	if p, err := parseEPSV("ok (!!!21!)"); err != nil || p != 21 {
		t.Errorf("EPSV other delimiter: %d %v", p, err)
	}
	for _, m := range []string{"Entering Passive Mode (10,0,0,1,19,137).", "Entering Passive Mode 10,0,0,1,19,137"} {
		if p, err := parsePASV(m); err != nil || p != 19*256+137 {
			t.Errorf("PASV %q: %d %v", m, p, err)
		}
	}
	for _, m := range []string{"nothing", "(1,2,3,4,5)", "(1,2,3,4,300,1)"} {
		if _, err := parsePASV(m); err == nil {
			t.Errorf("PASV %q: no error", m)
		}
	}
}

func TestParsePWD(t *testing.T) {
	for msg, want := range map[string]string{
		`"/home/u" is the current directory`: "/home/u",
		`"/a ""quoted"" b" ok`:               `/a "quoted" b`,
		`/no/quotes is current`:              "/no/quotes",
		`"/"`:                                "/",
	} {
		if got, ok := parsePWD(msg); !ok || got != want {
			t.Errorf("%q: %q %v, want %q", msg, got, ok, want)
		}
	}
	if _, ok := parsePWD(`"unterminated`); ok {
		t.Error("unterminated quote accepted")
	}
}
