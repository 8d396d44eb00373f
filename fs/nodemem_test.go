package fs

import (
	"runtime"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
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
