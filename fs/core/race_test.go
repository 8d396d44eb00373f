package core

import (
	"context"
	"sync"
	"testing"

	"github.com/ftpmount/ftpmount/ftpconn/ftpfake"
)

// The kernel sends the RELEASE of a closed handle asynchronously: it can
// meet the OPEN of the next one. Whichever wins, the new writer must see
// the file's content, never an empty spool.
func TestOpenWriteRacingTheLastRelease(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("0123456789"))
	c := newCore(t, fake, ReplaceSafe)
	f := c.File(at("/f"))
	for i := 0; i < 10000; i++ {
		if err := f.OpenWrite(ctx, false); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.Release()
		}()
		if err := f.OpenWrite(ctx, false); err != nil {
			t.Fatal(err)
		}
		size, _, ok := f.Writing()
		wg.Wait()
		if !ok || size != 10 {
			t.Fatalf("round %d: a writer sees size %d (spool %v), want 10", i, size, ok)
		}
		f.Release()
	}
}
