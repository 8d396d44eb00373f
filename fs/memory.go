package fs

import (
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Memory around a huge listing.
//
// Fetching a listing of n entries makes garbage of several hundred bytes
// per entry (the reply's lines, the parsed entries before they are packed
// into the listing cache's table), and handing it to the kernel makes an
// inode per entry: go-fuse's bookkeeping and our node, ~410 bytes per
// entry that stay (measured with FTPMOUNT_PPROF on 1,000,000 entries:
// 176 B in go-fuse's node tables, 144 B our fileNode with its Inode, 97 B
// the directory's children table), and about as much garbage again (the
// old tables as go-fuse's maps grow, the slices it sorts its locks with).
//
// Go's collector lets the heap grow to 1 + GOGC/100 times what was live
// at its last cycle before it collects again. While inodes are being made
// the live heap keeps growing, so at GOGC=100 the heap at the end of a
// huge readdir is anywhere from its live size to a third more, depending
// on where the last cycle fell: the daemon's peak after `ls -l` of
// 1,000,000 entries measured 584-696 MiB for ~465 MB live. So while a
// readdir hands a listing of at least paceListing entries to the kernel,
// the collector runs at handGCPercent: the heap stays within ~1.2 times
// the live one. It costs marking: about 1.6 times the collector's work
// during the handing of 1,000,000 entries (2.1 GB marked instead of 1.3),
// 2.3 times for 200,000, where the slack is only ~30 MB; hence the
// threshold. A GOGC set lower than that, or off, is left as it is.
//
// Afterwards the collector keeps the freed pages mapped: after `ls -l` of
// 200,000 entries the daemon kept ~120 bytes per entry more resident than
// it used (591 against ~470 live). When a readdir has handed a listing
// of at least hugeListing entries to the end, the freed pages are given
// back to the system, at most once per releaseGap: one collection (tens
// of milliseconds for 100 MB, on its own goroutine) against seconds spent
// on the listing.
const (
	releaseGap    = 10 * time.Second
	handGCPercent = 50
)

// hugeListing is the size of a listing whose memory is given back after
// the readdir, paceListing of one handed with the collector paced
// (variables for tests).
var (
	hugeListing = 50_000
	paceListing = 250_000
)

// lastRelease is when releaseMemory last ran (Unix nanoseconds).
var lastRelease atomic.Int64

// releaseMemory gives the freed heap back to the system in the
// background, unless it did so less than releaseGap before now.
func releaseMemory(now time.Time) {
	last := lastRelease.Load()
	if now.UnixNano()-last < int64(releaseGap) || !lastRelease.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	go debug.FreeOSMemory()
}

var (
	pacingMu  sync.Mutex
	pacing    int // GUARDED_BY(pacingMu): huge listings being handed to the kernel
	pacedFrom int // GUARDED_BY(pacingMu): the GC percent before the first of them
)

// gcPace is one huge listing being handed to the kernel (paceGC); end
// may be called any number of times, from any goroutine.
type gcPace struct{ ended atomic.Bool }

// paceGC makes the collector run at handGCPercent until the returned
// pace ends (see above). Handings that overlap share it: the GC percent
// the process had comes back when the last one ends.
func paceGC() *gcPace {
	pacingMu.Lock()
	defer pacingMu.Unlock()
	if pacing == 0 {
		pacedFrom = debug.SetGCPercent(handGCPercent)
		if pacedFrom <= handGCPercent { // as low already, or off (negative): as it was
			debug.SetGCPercent(pacedFrom)
		}
	}
	pacing++
	return &gcPace{}
}

// end ends p (nil: nothing to end).
func (p *gcPace) end() {
	if p == nil || !p.ended.CompareAndSwap(false, true) {
		return
	}
	pacingMu.Lock()
	defer pacingMu.Unlock()
	pacing--
	if pacing == 0 && pacedFrom > handGCPercent {
		debug.SetGCPercent(pacedFrom)
	}
}
