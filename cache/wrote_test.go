package cache

import (
	"context"
	"testing"
	"time"
)

// Issue 11 item 12: after an upload the time shown is the local one, and
// stays so when the listing brings the server's own (later, coarser) stamp;
// a change by someone else (same size, a new time) shows.
func TestWroteTimeDoesNotJump(t *testing.T) {
	d, fake, clk := setup(t, time.Second)
	ctx := context.Background()
	local := time.Date(2020, 5, 6, 7, 8, 9, 123456789, time.UTC)
	fake.WriteFile("/f", []byte("abc"))
	fake.SetTime(ctx, "/f", local.Add(2*time.Second).Truncate(time.Minute)) // the server's stamp
	d.Wrote("/", "f", local, 3)
	for i := 0; i < 3; i++ {
		clk.advance(time.Minute)
		e, err := d.Lookup(ctx, "/", "f")
		if err != nil || !e.ModTime.Equal(local) {
			t.Fatalf("listing %d after the upload: ModTime %v, %v; want %v", i, e.ModTime, err, local)
		}
	}
	later := local.Add(time.Hour).Truncate(time.Minute)
	fake.WriteFile("/f", []byte("xyz"))
	fake.SetTime(ctx, "/f", later)
	clk.advance(time.Minute)
	if e, _ := d.Lookup(ctx, "/", "f"); !e.ModTime.Equal(later) {
		t.Fatalf("another client's change of the same size: ModTime %v, want %v", e.ModTime, later)
	}
}
