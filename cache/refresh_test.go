package cache

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// waitFetches waits until no fetch of the cache runs (a background
// refresh has been put in place or given up).
func waitFetches(t *testing.T, d *Dirs) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		d.mu.Lock()
		n := len(d.inflight)
		d.mu.Unlock()
		if n == 0 {
			return
		}
	}
	t.Fatal("a background listing did not end within 10s")
}

// A listing used in the last quarter of its TTL is fetched again in the
// background: the caller is answered from the listing it has, and a use
// after the old listing's end finds the new one, without waiting for a
// LIST.
func TestRefreshAhead(t *testing.T) {
	d, fake, clk := setup(t, 4*time.Second)
	ctx := context.Background()
	fake.WriteFile("/d/a", []byte("1"))
	if _, err := d.Lookup(ctx, "/d", "a"); err != nil {
		t.Fatal(err)
	}
	start := clk.now()
	if got, want := d.FreshUntil("/d"), start.Add(3*time.Second); !got.Equal(want) {
		t.Fatalf("FreshUntil = %v after the listing, want %v (the start of its refresh window)", got.Sub(start), want.Sub(start))
	}
	fake.WriteFile("/d/b", []byte("2")) // another client
	clk.advance(2900 * time.Millisecond)
	d.Lookup(ctx, "/d", "a")
	waitFetches(t, d)
	if n := fake.Calls("List"); n != 1 {
		t.Fatalf("a use before the refresh window fetched the listing again (%d listings)", n)
	}
	clk.advance(200 * time.Millisecond) // 3.1 s: in the window
	if _, err := d.Lookup(ctx, "/d", "b"); !errors.Is(err, ftpconn.ErrNotFound) {
		t.Fatalf("Lookup(b) in the refresh window = %v: it must be answered from the listing the cache has", err)
	}
	waitFetches(t, d)
	if n := fake.Calls("List"); n != 2 {
		t.Fatalf("a use in the refresh window made %d listings in all, want 2", n)
	}
	clk.advance(2 * time.Second) // 5.1 s: the first listing is stale, the refreshed one is not
	if _, err := d.Lookup(ctx, "/d", "b"); err != nil {
		t.Fatalf("Lookup(b) after the refresh: %v", err)
	}
	if n := fake.Calls("List"); n != 2 {
		t.Fatalf("a lookup after the refresh listed again (%d listings): the refreshed listing was not kept", n)
	}
	if got, want := d.FreshUntil("/d"), start.Add(3100*time.Millisecond+3*time.Second); !got.Equal(want) {
		t.Fatalf("FreshUntil = %v, want %v: the refreshed listing counts from its own arrival", got.Sub(start), want.Sub(start))
	}
}

// A refresh ahead that fails leaves the listing the cache has, for as
// long as it is fresh; the next use in the window tries again.
func TestRefreshAheadFailureKeepsTheListing(t *testing.T) {
	d, fake, clk := setup(t, 4*time.Second)
	ctx := context.Background()
	fake.WriteFile("/d/a", []byte("1"))
	d.Lookup(ctx, "/d", "a")
	clk.advance(3500 * time.Millisecond)
	fake.Fail("List", &ftpconn.ReplyError{Op: "LIST", Path: "/d", Code: 421, Msg: "Timeout", Kind: ftpconn.ErrTransient})
	if _, err := d.Lookup(ctx, "/d", "a"); err != nil {
		t.Fatal(err)
	}
	waitFetches(t, d)
	if _, err := d.Lookup(ctx, "/d", "a"); err != nil {
		t.Fatalf("after a failed refresh the fresh listing must still answer: %v", err)
	}
	waitFetches(t, d)
	if n := fake.Calls("List"); n != 3 {
		t.Fatalf("listings = %d, want 3 (the first, the failed refresh, the one tried again)", n)
	}
	clk.advance(time.Second) // past the first listing's end
	if _, err := d.Lookup(ctx, "/d", "a"); err != nil || fake.Calls("List") != 3 {
		t.Fatalf("Lookup = %v with %d listings: the second refresh was not kept", err, fake.Calls("List"))
	}
}

// Huge listings are not refreshed ahead: they would be held twice.
func TestNoRefreshAheadOfHugeListings(t *testing.T) {
	d, fake, clk := setup(t, 4*time.Second)
	ctx := context.Background()
	for i := range refreshMaxEntries {
		fake.WriteFile(fmt.Sprintf("/d/f%05d", i), nil)
	}
	d.Lookup(ctx, "/d", "f00000")
	start := clk.now()
	if got, want := d.FreshUntil("/d"), start.Add(4*time.Second); !got.Equal(want) {
		t.Fatalf("FreshUntil = %v, want %v (the whole TTL)", got.Sub(start), want.Sub(start))
	}
	clk.advance(3500 * time.Millisecond)
	d.Lookup(ctx, "/d", "f00001")
	waitFetches(t, d)
	if n := fake.Calls("List"); n != 1 {
		t.Fatalf("a listing of %d entries was refreshed ahead (%d listings)", refreshMaxEntries, n)
	}
}

// A change the mount makes in a directory while its listing is being
// fetched is replayed onto that listing, which may predate it: no second
// LIST, and the change shows. A directory the mount copies into changes
// with every file, so a second fetch raced again.
func TestChangeDuringAFetchIsReplayed(t *testing.T) {
	d, fake, _ := setup(t, 4*time.Second)
	ctx := context.Background()
	fake.WriteFile("/d/a", []byte("1"))
	fake.WriteFile("/d/b", []byte("2"))
	fake.ListDelay = 100 * time.Millisecond
	done := make(chan error, 1)
	go func() {
		_, err := d.Lookup(ctx, "/d", "b")
		done <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		d.mu.Lock()
		running := d.changes["/d"] != nil
		d.mu.Unlock()
		if running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fetch did not start")
		}
	}
	// The server's listing is read after this (ListDelay) but, for the
	// test, without these changes: as if it had been sent before them.
	d.Put("/d", ftpconn.Entry{Name: "new", Size: 3})
	d.Remove("/d", "a")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if e, err := d.Lookup(ctx, "/d", "new"); err != nil || e.Size != 3 {
		t.Fatalf("Lookup(new) = %+v, %v: the change made during the fetch is missing", e, err)
	}
	if _, err := d.Lookup(ctx, "/d", "a"); !errors.Is(err, ftpconn.ErrNotFound) {
		t.Fatalf("Lookup(a) = %v: the removal made during the fetch is missing", err)
	}
	if n := fake.Calls("List"); n != 1 {
		t.Fatalf("listings = %d, want 1: a fetch that raced with a change it can replay is not repeated", n)
	}
}
