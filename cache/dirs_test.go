package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/ftpconn/ftpfake"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// List is the tests' view of a directory: the entries of the Snapshot a
// readdir would serve, as a slice.
func (d *Dirs) List(ctx context.Context, dir string) ([]ftpconn.Entry, error) {
	s, err := d.Snapshot(ctx, dir)
	if err != nil {
		return nil, err
	}
	return s.all(), nil
}

func setup(t *testing.T, ttl time.Duration) (*Dirs, *ftpfake.Client, *clock) {
	t.Helper()
	fake := ftpfake.New()
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	return NewDirs(fake, DirsConfig{TTL: ttl, Now: clk.now}), fake, clk
}

func TestLookupsShareOneListing(t *testing.T) {
	d, fake, _ := setup(t, 5*time.Second)
	for i := 0; i < 100; i++ {
		fake.WriteFile("/dir/f"+string(rune('a'+i%26))+string(rune('a'+i/26)), []byte("x"))
	}
	ctx := context.Background()
	entries, err := d.List(ctx, "/dir")
	if err != nil || len(entries) != 100 {
		t.Fatalf("List = %d entries, %v", len(entries), err)
	}
	for _, e := range entries {
		if _, err := d.Lookup(ctx, "/dir", e.Name); err != nil {
			t.Fatalf("Lookup(%s): %v", e.Name, err)
		}
	}
	if _, err := d.Lookup(ctx, "/dir", "missing"); !errors.Is(err, ftpconn.ErrNotFound) {
		t.Fatalf("Lookup(missing) = %v, want ErrNotFound", err)
	}
	if n := fake.Calls("List"); n != 1 {
		t.Fatalf("100 lookups after a readdir cost %d listings, want 1", n)
	}
}

func TestConcurrentMissesShareOneFetch(t *testing.T) {
	d, fake, _ := setup(t, 5*time.Second)
	fake.WriteFile("/d/x", []byte("1"))
	fake.ListDelay = 50 * time.Millisecond
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := d.Lookup(context.Background(), "/d", "x"); err != nil {
				t.Errorf("Lookup: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := fake.Calls("List"); n != 1 {
		t.Fatalf("20 concurrent lookups cost %d listings, want 1", n)
	}
}

func TestTTL(t *testing.T) {
	d, fake, clk := setup(t, 5*time.Second)
	ctx := context.Background()
	fake.WriteFile("/a", []byte("1"))
	if _, err := d.List(ctx, "/"); err != nil {
		t.Fatal(err)
	}
	fake.WriteFile("/b", []byte("2")) // another client adds a file
	clk.advance(4 * time.Second)
	if _, err := d.Lookup(ctx, "/", "b"); !errors.Is(err, ftpconn.ErrNotFound) {
		t.Fatalf("within the TTL the listing is trusted; Lookup(b) = %v", err)
	}
	clk.advance(2 * time.Second)
	if _, err := d.Lookup(ctx, "/", "b"); err != nil {
		t.Fatalf("after the TTL the new file must show: %v", err)
	}
	if n := fake.Calls("List"); n != 2 {
		t.Fatalf("listings = %d, want 2", n)
	}
}

func TestZeroTTLStillServesLookupsAfterReaddir(t *testing.T) {
	d, fake, clk := setup(t, 0)
	ctx := context.Background()
	fake.WriteFile("/a", []byte("1"))
	d.List(ctx, "/")
	d.Lookup(ctx, "/", "a")
	if n := fake.Calls("List"); n != 1 {
		t.Fatalf("lookup right after readdir fetched again (%d listings)", n)
	}
	d.List(ctx, "/")
	if n := fake.Calls("List"); n != 2 {
		t.Fatalf("with TTL 0 every readdir asks the server (%d listings)", n)
	}
	clk.advance(2 * time.Second)
	d.Lookup(ctx, "/", "a")
	if n := fake.Calls("List"); n != 3 {
		t.Fatalf("an old listing was used for a lookup (%d listings)", n)
	}
}

func TestOwnChangesShowAtOnce(t *testing.T) {
	d, fake, _ := setup(t, time.Hour)
	ctx := context.Background()
	fake.WriteFile("/old", []byte("1"))
	d.List(ctx, "/")
	d.Put("/", ftpconn.Entry{Name: "new", Size: 3})
	d.Remove("/", "old")
	if e, err := d.Lookup(ctx, "/", "new"); err != nil || e.Size != 3 {
		t.Fatalf("Lookup(new) = %+v, %v", e, err)
	}
	if _, err := d.Lookup(ctx, "/", "old"); !errors.Is(err, ftpconn.ErrNotFound) {
		t.Fatalf("removed entry still found: %v", err)
	}
	if n := fake.Calls("List"); n != 1 {
		t.Fatalf("local changes caused refetches: %d listings", n)
	}
}

func TestPendingSurvivesRefetch(t *testing.T) {
	d, _, clk := setup(t, time.Second)
	ctx := context.Background()
	d.SetPending("/", ftpconn.Entry{Name: "writing"})
	clk.advance(time.Minute)
	entries, err := d.List(ctx, "/")
	if err != nil || len(entries) != 1 || entries[0].Name != "writing" {
		t.Fatalf("List = %+v, %v; want the pending file", entries, err)
	}
	d.ClearPending("/", "writing")
	clk.advance(time.Minute)
	if _, err := d.Lookup(ctx, "/", "writing"); !errors.Is(err, ftpconn.ErrNotFound) {
		t.Fatalf("cleared pending entry still shows: %v", err)
	}
}

func TestInvalidateSubtree(t *testing.T) {
	d, fake, _ := setup(t, time.Hour)
	ctx := context.Background()
	fake.WriteFile("/a/b/c", []byte("1"))
	d.List(ctx, "/a")
	d.List(ctx, "/a/b")
	d.InvalidateTree("/a")
	d.List(ctx, "/a/b")
	if n := fake.Calls("List"); n != 3 {
		t.Fatalf("listings = %d, want 3 (subtree refetched)", n)
	}
}

func TestMissingDirectory(t *testing.T) {
	d, _, _ := setup(t, time.Second)
	if _, err := d.List(context.Background(), "/nope"); !errors.Is(err, ftpconn.ErrNotFound) {
		t.Fatalf("List(missing) = %v, want ErrNotFound", err)
	}
}

func TestSetTimeSurvivesCoarseListings(t *testing.T) {
	d, fake, clk := setup(t, time.Second)
	ctx := context.Background()
	fake.WriteFile("/f", []byte("abc"))
	exact := time.Date(2020, 5, 6, 7, 8, 9, 123456789, time.UTC)
	d.List(ctx, "/")
	d.SetTime("/", "f", exact, 3)
	// The server stores the time, but lists it to the minute.
	fake.SetTime(ctx, "/f", exact.Truncate(time.Minute))
	clk.advance(time.Minute)
	e, err := d.Lookup(ctx, "/", "f")
	if err != nil || !e.ModTime.Equal(exact) {
		t.Fatalf("after a refetch ModTime = %v, %v; want %v", e.ModTime, err, exact)
	}
	// Changed by someone else (another size): the listing wins.
	fake.WriteFile("/f", []byte("abcd"))
	fake.SetTime(ctx, "/f", exact.Truncate(time.Minute))
	clk.advance(time.Minute)
	if e, err := d.Lookup(ctx, "/", "f"); err != nil || e.ModTime.Equal(exact) {
		t.Fatalf("a remembered time hid another client's change: %+v, %v", e, err)
	}
}

func TestPrefetchSiblings(t *testing.T) {
	d, fake, _ := setup(t, time.Minute)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		fake.WriteFile("/top/d"+string(rune('0'+i))+"/f", []byte("x"))
	}
	d.List(ctx, "/top")
	d.List(ctx, "/top/d0")
	sib := d.SiblingDirs("/top/d0")
	if fmt.Sprint(sib) != "[/top/d1 /top/d2 /top/d3 /top/d4]" {
		t.Fatalf("siblings = %v", sib)
	}
	d.Prefetch(sib)
	// The prefetches may still run; asking now must not fetch twice.
	for _, s := range sib {
		if _, err := d.List(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if n := fake.Calls("List"); n != 6 {
		t.Fatalf("listings = %d, want 6 (each directory once)", n)
	}
}

// A walker goes through a directory's subdirectories in name order: only
// the next few after the one it lists are prefetched. All of them, on a
// slow link, went stale before the walker came, and each directory it
// listed queued them all again (find at 40 ms round trip: 163 listings
// of 100 directories).
func TestPrefetchOnlyAheadOfTheWalk(t *testing.T) {
	d, fake, _ := setup(t, time.Minute)
	ctx := context.Background()
	for i := range 30 {
		fake.WriteFile(fmt.Sprintf("/top/d%02d/f", i), []byte("x"))
	}
	fake.WriteFile("/top/file", []byte("x"))
	d.List(ctx, "/top")
	d.Put("/top", ftpconn.Entry{Name: "d10a", Type: ftpconn.TypeDir}) // made by the mount since
	got := d.SiblingDirs("/top/d10")
	want := "[/top/d10a /top/d11 /top/d12 /top/d13 /top/d14 /top/d15 /top/d16 /top/d17]"
	if fmt.Sprint(got) != want {
		t.Fatalf("SiblingDirs(/top/d10) = %v, want %s", got, want)
	}
	if got := d.SiblingDirs("/top/d29"); len(got) != 0 {
		t.Fatalf("SiblingDirs of the last directory = %v, want none", got)
	}
}

func TestKeptTimeLastsUntilTheEntryChanges(t *testing.T) {
	d, fake, clk := setup(t, time.Second)
	ctx := context.Background()
	fake.WriteFile("/d/f", []byte("x"))
	serverTime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fake.SetTime(ctx, "/d", serverTime)
	e, _ := d.Lookup(ctx, "/", "d")
	wanted := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	d.KeepTime("/", e, wanted) // the server refused to set it
	clk.advance(time.Minute)
	if e, _ := d.Lookup(ctx, "/", "d"); !e.ModTime.Equal(wanted) {
		t.Fatalf("kept time not shown after a refetch: %v", e.ModTime)
	}
	fake.SetTime(ctx, "/d", serverTime.Add(time.Hour)) // the directory changed on the server
	clk.advance(time.Minute)
	if e, err := d.Lookup(ctx, "/", "d"); err != nil || e.ModTime.Equal(wanted) {
		t.Fatalf("a kept time hid a change on the server: %+v, %v", e, err)
	}
}

// Only the first readdir pass over a listing extends how long it is
// trusted, by the time it spent handing entries over: repeated listings
// cannot keep it fresh, and it is fetched again once TTL plus that pass
// have gone by.
func TestFirstPassExtendsTrustOnce(t *testing.T) {
	d, fake, clk := setup(t, 5*time.Second)
	// The lookup at 8 s falls in the refresh window (the last quarter of
	// the 9 s of trust): a refresh ahead there would count as a second
	// listing, at a moment that depends on scheduling.
	d.noRefresh = true
	fake.WriteFile("/d/a", []byte("1"))
	ctx := context.Background()
	t0 := clk.now()
	first, err := d.Snapshot(ctx, "/d")
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(4 * time.Second)
	if got, want := first.Handed(clk.now()), t0.Add(9*time.Second); !got.Equal(want) {
		t.Fatalf("after a 4 s pass the listing is fresh until %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	clk.advance(4 * time.Second) // 8 s: stale by the TTL alone
	if _, err := d.Lookup(ctx, "/d", "a"); err != nil || fake.Calls("List") != 1 {
		t.Fatalf("lookup 8 s after: %v, %d listings, want 1", err, fake.Calls("List"))
	}
	if d.Version("/d") == 0 {
		t.Fatal("the kernel's copy of the listing is not kept 8 s after")
	}
	second, err := d.Snapshot(ctx, "/d")
	if err != nil || fake.Calls("List") != 1 {
		t.Fatalf("second pass: %v, %d listings", err, fake.Calls("List"))
	}
	clk.advance(500 * time.Millisecond)
	if got := second.Handed(clk.now()); !got.Equal(t0.Add(9 * time.Second)) {
		t.Fatalf("a second pass moved the end of trust to %v", got.Sub(t0))
	}
	clk.advance(time.Second) // 9.5 s
	if _, err := d.Lookup(ctx, "/d", "a"); err != nil || fake.Calls("List") != 2 {
		t.Fatalf("lookup 9.5 s after: %v, %d listings, want 2", err, fake.Calls("List"))
	}

	// A first pass read slowly extends by the trust window at most.
	t1 := clk.now()
	slow, err := d.Snapshot(ctx, "/d")
	if err != nil || fake.Calls("List") != 2 {
		t.Fatalf("slow pass: %v, %d listings", err, fake.Calls("List"))
	}
	clk.advance(time.Minute)
	if got, want := slow.Handed(clk.now()), t1.Add(10*time.Second); !got.Equal(want) {
		t.Fatalf("a pass read over a minute made the listing fresh until %v, want %v", got.Sub(t1), want.Sub(t1))
	}
}
