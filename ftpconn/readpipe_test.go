package ftpconn

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
)

// pages is a file whose every 4 KiB page differs from the others.
func pages(n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i/4096*31 + i%251)
	}
	return data
}

// TestRandomReadOneRoundTrip: a read at a new offset costs one round trip
// on its connection (REST and RETR in one write, on a data connection
// opened ahead), and the abort of the read before it is finished in the
// background, not on its path. Before: EPSV, REST, RETR, one reply each.
func TestRandomReadOneRoundTrip(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	data := pages(16 << 20)
	os.WriteFile(filepath.Join(s.Dir, "big"), data, 0o644)
	ls := startLockstep(t, s.Addr)
	c := dialVia(t, s, ls.addr())
	r := c.OpenReader("/big", int64(len(data)))
	defer r.Close()
	ctx := context.Background()
	total, n := 0, 0
	for i := range 16 {
		off := int64(i*7<<20) % int64(len(data)-4096) // 7 MiB apart: past skipMax, each read restarts
		before := ls.rounds()
		buf := make([]byte, 4096)
		if m, err := r.ReadAt(ctx, buf, off); err != nil || m != len(buf) || !bytes.Equal(buf, data[off:off+4096]) {
			t.Fatalf("read at %d: %d bytes, %v", off, m, err)
		}
		rounds, fresh := ls.transferRounds(before)
		if i < 6 || fresh {
			continue // the pool grows: a new connection's login and first EPSV
		}
		total += rounds
		n++
		if rounds > 2 {
			t.Errorf("read %d at %d: %d round trips; the client sent:\n%s", i, off, rounds, strings.Join(ls.sent(before), "\n"))
		}
	}
	if n < 5 {
		t.Fatalf("only %d reads on connections that were already there", n)
	}
	avg := float64(total) / float64(n)
	t.Logf("random reads: %.2f round trips each on their connection", avg)
	if avg > 1.5 {
		t.Errorf("random reads cost %.2f round trips each, want at most 1.5", avg)
	}
}

// TestAbandonedReadConnectionReused: a download cut short goes back to the
// pool in the background (its reply drained, a data connection opened
// ahead), and the next operations on that very connection (the pool has
// only one) are served right: a listing, an upload, a rename, a read.
func TestAbandonedReadConnectionReused(t *testing.T) {
	for _, greet := range []string{"", "220 (vsFTPd 3.0.3)"} {
		t.Run(fmt.Sprintf("greeting=%q", greet), func(t *testing.T) {
			s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: func(cmd, _ string) *ftptest.Action {
				if cmd == "" && greet != "" {
					return &ftptest.Action{Reply: greet}
				}
				return nil
			}}})
			data := pages(8 << 20)
			os.WriteFile(filepath.Join(s.Dir, "big"), data, 0o644)
			c, err := Dial(context.Background(), Config{Addr: s.Addr, User: s.User, Password: s.Password, MaxConns: 1, Timeout: 5 * time.Second, Debugf: t.Logf})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			for round := range 3 {
				r := c.OpenReader("/big", int64(len(data)))
				buf := make([]byte, 4096)
				off := int64(round+1) << 20
				if m, err := r.ReadAt(ctx, buf, off); err != nil || m != 4096 || !bytes.Equal(buf, data[off:off+4096]) {
					t.Fatalf("read: %d %v", m, err)
				}
				// The stream stays open: the next operation needs its
				// connection, which the reader gives back unfinished.
				ents, err := c.List(ctx, "/")
				if err != nil || len(ents) < 1 {
					t.Fatalf("list after an abandoned read: %v %v", ents, err)
				}
				up := []byte(fmt.Sprintf("upload %d after an abandoned read", round))
				tmp := fmt.Sprintf("/.u%d.part", round)
				if err := c.Upload(ctx, tmp, bytes.NewReader(up), int64(len(up))); err != nil {
					t.Fatalf("upload after an abandoned read: %v", err)
				}
				if err := c.Rename(ctx, tmp, fmt.Sprintf("/u%d", round)); err != nil {
					t.Fatalf("rename: %v", err)
				}
				if got, _ := os.ReadFile(filepath.Join(s.Dir, fmt.Sprintf("u%d", round))); !bytes.Equal(got, up) {
					t.Fatalf("server has %q, want %q", got, up)
				}
				if m, err := r.ReadAt(ctx, buf, 0); err != nil || m != 4096 || !bytes.Equal(buf, data[:4096]) {
					t.Fatalf("read again: %d %v", m, err)
				}
				r.Close()
			}
		})
	}
}
