package fs

import (
	"runtime/debug"
	"sync/atomic"
	"time"
)

// Memory after a huge listing. Fetching a listing of n entries makes
// garbage of several hundred bytes per entry (the reply's lines, the
// parsed entries before they are packed into the listing cache's table),
// and handing it to the kernel grows go-fuse's tables as it goes. Go's
// collector lets the heap grow to twice what was live at its last cycle
// and keeps the freed pages mapped, so after `ls -l` of 200,000 entries
// the daemon kept ~120 bytes per entry more resident than it used (591
// against ~470 live). When a readdir has handed a listing of at least
// releaseMin entries to the kernel, the freed pages are
// given back to the system, at most once per releaseGap: one collection
// (tens of milliseconds for 100 MB, on its own goroutine) against seconds
// spent on the listing.
const (
	releaseMin = 50_000
	releaseGap = 10 * time.Second
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
