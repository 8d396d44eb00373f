package cache

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// A listing that timed out answers the lookups that follow for failHold,
// without asking the server again; the mount's own change of the directory
// and the end of failHold end it. A refused connection is not held.
func TestFailedListingHeld(t *testing.T) {
	d, fake, clk := setup(t, time.Second)
	fake.WriteFile("/dir/f", []byte("x"))
	ctx := context.Background()
	timeout := &ftpconn.NoReplyError{Op: "LIST", Path: "/dir", Msg: "i/o timeout", Kind: ftpconn.ErrTransient,
		Err: &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}}

	fake.Fail("List", timeout)
	if _, err := d.Lookup(ctx, "/dir", "f"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("first lookup: %v, want the timeout", err)
	}
	if _, err := d.Lookup(ctx, "/dir", "f"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("lookup right after: %v, want the held timeout", err)
	}
	if n := fake.Calls("List"); n != 1 {
		t.Errorf("%d listings, want 1: the failure must be held", n)
	}
	clk.advance(failHold)
	if _, err := d.Lookup(ctx, "/dir", "f"); err != nil {
		t.Fatalf("lookup after failHold: %v", err)
	}

	// The mount's own change ends the hold.
	clk.advance(2 * time.Second) // the listing expires
	fake.Fail("List", timeout)
	if _, err := d.List(ctx, "/dir"); err == nil {
		t.Fatal("listing with an injected timeout succeeded")
	}
	d.Put("/dir", ftpconn.Entry{Name: "g"})
	if _, err := d.Lookup(ctx, "/dir", "f"); err != nil {
		t.Fatalf("lookup after a local change: %v", err)
	}

	// A refused connection is not held: a restarted server shows at once.
	clk.advance(2 * time.Second)
	refused := &ftpconn.NoReplyError{Op: "connect", Msg: "connection refused", Kind: ftpconn.ErrTransient,
		Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}
	fake.Fail("List", refused)
	if _, err := d.List(ctx, "/dir"); err == nil {
		t.Fatal("listing with an injected refusal succeeded")
	}
	if _, err := d.Lookup(ctx, "/dir", "f"); err != nil {
		t.Fatalf("lookup after a refused connection: %v", err)
	}
}
