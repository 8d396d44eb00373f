package ftpconn

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
)

// TestBackgroundLeavesTheSpare: a listing marked Background, made between
// two uploads of a sequential copy, goes over a connection of its own and
// leaves the copy's connection its data connection opened ahead, so the
// next upload still costs two round trips. When the listing took that
// connection, the upload after it paid for a new EPSV (three).
func TestBackgroundLeavesTheSpare(t *testing.T) {
	uploadsInTwoRoundTrips(t, func(c Client) {
		if _, err := c.List(Background(context.Background()), "/"); err != nil {
			t.Fatal(err)
		}
	})
}

// sessionServer is a vsftpd-like ftptest server that counts its sessions:
// refused, those it turned away because limit were open (0: no limit),
// and most, the most open at once.
type sessionServer struct {
	*ftptest.Server
	open, refused, most atomic.Int32
}

func startSessionServer(t *testing.T, limit int32) *sessionServer {
	ss := &sessionServer{}
	ss.Server = ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{
		Hook: func(cmd, param string) *ftptest.Action {
			if r := asVsftpd(cmd, param); r != nil {
				n := ss.open.Add(1)
				if limit > 0 && n > limit {
					ss.open.Add(-1)
					ss.refused.Add(1)
					return &ftptest.Action{Reply: "421 There are too many connected users, please try later.", HangUp: true}
				}
				for m := ss.most.Load(); n > m && !ss.most.CompareAndSwap(m, n); m = ss.most.Load() {
				}
				return r
			}
			if cmd == "QUIT" {
				ss.open.Add(-1)
			}
			return nil
		},
	}})
	return ss
}

// uploadsAndBackgroundLists dials ss with a pool of maxConns and makes
// three uploads, each followed by a Background listing.
func uploadsAndBackgroundLists(t *testing.T, ss *sessionServer, maxConns int) {
	t.Helper()
	c, err := Dial(context.Background(), Config{Addr: ss.Addr, User: ss.User, Password: ss.Password, Timeout: 10 * time.Second, MaxConns: maxConns, Debugf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for i := range 3 {
		uploadRenamed(t, c, ss.Server, fmt.Sprintf("f%d", i), []byte("data"))
		if _, err := c.List(Background(context.Background()), "/"); err != nil {
			t.Fatalf("background listing %d: %v", i, err)
		}
	}
}

// TestBackgroundOnALimitedServer: on a server that allows one connection,
// background work asks for a second one once, is refused, and from then
// on shares the one there is (its listings still work).
func TestBackgroundOnALimitedServer(t *testing.T) {
	ss := startSessionServer(t, 1)
	uploadsAndBackgroundLists(t, ss, 4)
	if n := ss.refused.Load(); n != 1 {
		t.Fatalf("the server refused %d connections, want 1: background work must stop asking once refused", n)
	}
}

// TestBackgroundStaysWithinMaxConns: with connections=1, background work
// takes the one connection there is, spare or not: dialing another would
// make two.
func TestBackgroundStaysWithinMaxConns(t *testing.T) {
	ss := startSessionServer(t, 0)
	uploadsAndBackgroundLists(t, ss, 1)
	if n := ss.most.Load(); n != 1 {
		t.Fatalf("%d connections at once with MaxConns 1", n)
	}
}
