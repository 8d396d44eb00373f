package fs

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
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
	n := hugeListing + 10_000
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

// gcPercent is the collector's current GOGC.
func gcPercent() int64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// While a huge listing is handed to the kernel, the collector runs at
// handGCPercent (memory.go), and the process's GOGC comes back when the
// readdir reaches the end, or when the directory is closed before that.
func TestHugeListingPacesCollector(t *testing.T) {
	prevPace := paceListing
	prevGC := debug.SetGCPercent(100)
	t.Cleanup(func() { paceListing = prevPace; debug.SetGCPercent(prevGC) })
	paceListing = 300
	fake := ftpfake.New()
	for i := range 1000 {
		fake.WriteFile(fmt.Sprintf("/big/entry-%07d.txt", i), nil)
		if i < 100 {
			fake.WriteFile(fmt.Sprintf("/small/entry-%07d.txt", i), nil)
		}
	}
	mnt := mountClient(t, fake, Options{DirTTL: time.Minute, KernelTTL: time.Second})
	// waitPercent fails (after f is closed, else the unmount would hang).
	waitPercent := func(want int64, when string, f *os.File) {
		t.Helper()
		for range 50 {
			if gcPercent() == want {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		if f != nil {
			f.Close()
		}
		t.Fatalf("%s: GOGC %d, want %d", when, gcPercent(), want)
	}
	read := func(dir string, pieces int, want int64) {
		t.Helper()
		f, err := os.Open(filepath.Join(mnt, dir))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		names, _ := dirents(t, int(f.Fd()), 4096, pieces)
		waitPercent(want, fmt.Sprintf("%s open, %d entries read", dir, len(names)), f)
	}
	read("small", 1, 100)         // not huge: left alone
	read("big", 1, handGCPercent) // huge, read in part
	waitPercent(100, "big closed after a part", nil)
	// A fresh mount: the kernel's cache of big would serve the next
	// opendir without asking us.
	mnt = mountClient(t, fake, Options{DirTTL: time.Minute, KernelTTL: time.Second})
	read("big", 0, 100) // read to the end, still open: back already
}
