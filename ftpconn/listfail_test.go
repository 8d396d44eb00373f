package ftpconn_test

import (
	"bufio"
	"context"
	"fmt"
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

// silentLister is a bare FTP server whose listings never send a byte:
// it answers 150 and then says nothing, as vsftpd does while it reads
// and sorts a directory of a million entries on a cold disk.
func silentLister(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveSilentLister(t, c)
		}
	}()
	return ln.Addr().String()
}

func serveSilentLister(t *testing.T, c net.Conn) {
	defer c.Close()
	var held []net.Conn // data connections kept open and silent
	defer func() {
		for _, d := range held {
			d.Close()
		}
	}()
	var data net.Listener
	fmt.Fprint(c, "220 silent lister\r\n")
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(verb) {
		case "USER":
			fmt.Fprint(c, "331 password\r\n")
		case "PASS":
			fmt.Fprint(c, "230 in\r\n")
		case "FEAT":
			fmt.Fprint(c, "211-Features:\r\n EPSV\r\n SIZE\r\n211 End\r\n")
		case "TYPE", "OPTS":
			fmt.Fprint(c, "200 ok\r\n")
		case "PWD":
			fmt.Fprint(c, "257 \"/\"\r\n")
		case "EPSV":
			if data, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
				return
			}
			fmt.Fprintf(c, "229 Entering Extended Passive Mode (|||%d|)\r\n", data.Addr().(*net.TCPAddr).Port)
		case "LIST", "MLSD", "NLST":
			if data == nil {
				fmt.Fprint(c, "425 no EPSV\r\n")
				continue
			}
			d, err := data.Accept()
			data.Close()
			data = nil
			if err != nil {
				return
			}
			held = append(held, d)
			fmt.Fprint(c, "150 Here comes the directory listing.\r\n")
		case "QUIT":
			fmt.Fprint(c, "221 bye\r\n")
			return
		default:
			fmt.Fprint(c, "502 not here\r\n")
		}
	}
}

// A listing that sends nothing for the whole timeout fails with an error
// that names the cause and the fix (a larger -o timeout), instead of a
// bare i/o timeout after waiting once more for the final reply.
func TestSilentListingNamesTheFix(t *testing.T) {
	addr := silentLister(t)
	cfg := ftpconn.Config{Addr: addr, User: "u", Password: "p", Timeout: time.Second, Debugf: t.Logf}
	c, err := ftpconn.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.List(context.Background(), "/huge")
	if err == nil {
		t.Fatal("a listing that never came succeeded")
	}
	if !strings.Contains(err.Error(), "-o timeout") {
		t.Fatalf("error %q does not name the fix (-o timeout)", err)
	}
}

// An empty listing is confirmed with CWD. A connection that dies during
// that CWD says nothing about the directory: the listing is tried again,
// and an empty directory stays an empty directory (not ENOENT).
func TestEmptyListingConfirmDiesOnTheWire(t *testing.T) {
	var cuts atomic.Int32
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: func(cmd, param string) *ftptest.Action {
		if cmd == "CWD" && strings.HasSuffix(param, "/empty") && cuts.Add(1) == 1 {
			return &ftptest.Action{HangUp: true}
		}
		return nil
	}}})
	if err := os.Mkdir(filepath.Join(s.Dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s, nil)
	entries, err := c.List(context.Background(), "/empty")
	if err != nil || len(entries) != 0 {
		t.Fatalf("List(/empty) = %v, %v; want an empty directory", entries, err)
	}
	if cuts.Load() < 1 {
		t.Fatal("the listing never confirmed itself with CWD: the test tests nothing")
	}
}
