package fs

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ftpmount/ftpmount/ftpconn/ftpfake"
)

// heapPer returns the live heap bytes that alloc(i) keeps, per call, over
// n calls (after a GC each side).
func heapPer(n int, alloc func(i int) any) float64 {
	keep := make([]any, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = alloc(i)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// TestFileNodeBytes: `ls -l` of a directory of a million files makes a
// million file nodes (READDIRPLUS looks each up), and answering each
// lookup (entryOut's overlay) must not grow them. The node is the Inode
// and two words: 144 bytes, a size class of Go's allocator. It was 176
// with the write state's fields inline.
func TestFileNodeBytes(t *testing.T) {
	m := &mount{}
	per := heapPer(20000, func(int) any {
		n := m.newFileNode()
		var a fuse.Attr
		n.overlay(&a) // what every lookup does
		return n
	})
	if per > 144 {
		t.Errorf("a listed file node keeps %.0f bytes, want at most 144", per)
	}
	t.Logf("%.0f bytes per listed file node", per)
}

// After a readdir has handed a huge listing to the kernel, the garbage
// its fetch left is collected and the freed heap given back to the system
// (memory.go): the daemon's resident memory is what it uses, not what its
// collector let the heap grow to on the way (~120 bytes per entry of
// 200,000).
func TestHugeListingGivesMemoryBack(t *testing.T) {
	n := releaseMin + 10_000
	fake := ftpfake.New()
	for i := range n {
		fake.WriteFile(fmt.Sprintf("/big/entry-%07d.txt", i), nil)
	}
	mnt := mountClient(t, fake, Options{DirTTL: time.Minute, KernelTTL: time.Second})
	lastRelease.Store(0)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	forced := ms.NumForcedGC
	ents, err := os.ReadDir(filepath.Join(mnt, "big"))
	if err != nil || len(ents) != n {
		t.Fatalf("readdir: %d entries, %v", len(ents), err)
	}
	for range 50 {
		runtime.ReadMemStats(&ms)
		if ms.NumForcedGC > forced && ms.HeapIdle-ms.HeapReleased < 4<<20 {
			t.Logf("after the readdir: %d MiB free and still mapped, %d MiB given back", (ms.HeapIdle-ms.HeapReleased)>>20, ms.HeapReleased>>20)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("5 s after a readdir of %d entries: %d collections forced, %d MiB of free heap still mapped", n, ms.NumForcedGC-forced, (ms.HeapIdle-ms.HeapReleased)>>20)
}
