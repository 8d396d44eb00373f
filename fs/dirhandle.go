package fs

import (
	"context"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ftpmount/ftpmount/fs/core"
)

// Directory contents in the kernel's cache. With FOPEN_CACHE_DIR on
// opendir the kernel keeps what a readdir returned and answers the next
// readdirs from it, without asking us: a warm `ls -l` costs no request at
// all. (go-fuse sets KEEP_CACHE along with CACHE_DIR, so an opendir cannot
// make the kernel drop an old copy by its flags.) That copy is right only
// while it is our listing, so each dirNode remembers the version of the
// listing the kernel holds (served), and opendir, when the listing cache
// holds another one (refreshed, changed, stale), first tells the kernel to
// drop its copy (a FUSE_NOTIFY_INVAL_INODE of the directory; no lock of
// the kernel's is held during an opendir, so this cannot deadlock). Changes
// made through the mount (create, unlink, rename, mkdir ...) make the
// kernel drop its copy by itself too.

// unknownServed: the kernel holds a listing that must not be kept (it had
// files being written, whose sizes move).
const unknownServed = ^uint64(0)

var _ = (gofs.NodeOpendirHandler)((*dirNode)(nil))

func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	p, errno := d.path()
	if errno != 0 {
		return nil, 0, errno
	}
	if v, served := d.m.core.ListingVersion(p), d.served.Load(); v == 0 || v != served {
		if served != 0 {
			d.NotifyContent(0, 0) // drop the kernel's copy of another listing
		}
		d.served.Store(0)
	}
	return &dirHandle{d: d}, fuse.FOPEN_CACHE_DIR, 0
}

// dirHandle is one opendir. It takes a snapshot of the listing at the
// first readdir and serves it entry by entry: a directory of a million
// entries is never copied into a slice of FUSE entries. READDIRPLUS looks
// every entry up as it goes; Lookup answers from the same snapshot (the
// entry just returned), not by a search in the cache per entry.
//
// go-fuse calls Readdirent, Seekdir and Lookup of one handle one at a
// time (it holds the handle's lock across each READDIR(PLUS)), so the
// fields need no lock of their own.
type dirHandle struct {
	d    *dirNode
	snap *core.Snapshot
	pos  int           // index of the entry the next Readdirent returns
	de   fuse.DirEntry // what Readdirent returns, reused: go-fuse copies it
	done bool          // the end was reached once
	// pace is the collector's pacing while a huge snapshot is handed to
	// the kernel (memory.go), from the first Readdirent to the end of
	// the listing or Releasedir, whichever comes first; nil otherwise.
	// Releasedir may run beside the others: gcPace.end is safe for that.
	pace atomic.Pointer[gcPace]
}

var (
	_ = (gofs.FileReaddirenter)((*dirHandle)(nil))
	_ = (gofs.FileSeekdirer)((*dirHandle)(nil))
	_ = (gofs.FileLookuper)((*dirHandle)(nil))
	_ = (gofs.FileFsyncdirer)((*dirHandle)(nil))
)

// Fsyncdir has nothing to wait for: every change of a directory (create's
// upload at close, mkdir, unlink, rename) is on the server when its own
// operation returns. Tools that make their writes durable the careful way
// (borg, git, databases) fsync the directory after a rename.
func (h *dirHandle) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno { return 0 }

func (h *dirHandle) open(ctx context.Context) syscall.Errno {
	if h.snap != nil {
		return 0
	}
	snap, errno := h.d.snapshot(ctx)
	if errno != 0 {
		return errno
	}
	v := snap.Version() // what the kernel caches now
	if v == 0 {
		v = unknownServed
	}
	h.d.served.Store(v)
	h.snap = snap
	return 0
}

// dots come first in every listing (ls -a shows them); go-fuse looks
// neither of them up.
var dots = [...]string{".", ".."}

// Readdirent returns the next entry: the dots, then the snapshot's
// entries. An entry's offset is its position + 1.
func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if errno := h.open(ctx); errno != 0 {
		return nil, errno
	}
	if h.pos >= len(dots)+h.snap.Len() {
		if !h.done && h.snap.Len() >= hugeListing {
			releaseMemory(time.Now()) // see memory.go
		}
		h.pace.Load().end()
		h.done = true
		return nil, 0
	}
	if !h.done && h.pos == 0 && h.snap.Len() >= paceListing && h.pace.Load() == nil {
		h.pace.Store(paceGC())
	}
	i := h.pos
	h.pos++
	if i < len(dots) {
		h.de = fuse.DirEntry{Name: dots[i], Mode: syscall.S_IFDIR, Off: uint64(i) + 1}
	} else {
		j := i - len(dots)
		h.de = fuse.DirEntry{Name: h.snap.Name(j), Mode: stableMode(h.snap.Type(j)), Off: uint64(i) + 1}
	}
	return &h.de, 0
}

// Seekdir makes the entry after offset off the next one.
func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if errno := h.open(ctx); errno != 0 {
		return errno
	}
	h.pos = int(min(off, uint64(len(dots)+h.snap.Len())))
	return 0
}

// Lookup answers READDIRPLUS's lookup of the entry Readdirent just gave
// (or, after an interrupted request that go-fuse replays, of another
// one of the snapshot).
func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if h.snap == nil {
		return nil, syscall.ENOENT
	}
	i := h.pos - 1 - len(dots)
	if i < 0 || i >= h.snap.Len() || h.snap.Name(i) != name {
		var ok bool
		if i, ok = h.snap.Find(name); !ok {
			return nil, syscall.ENOENT
		}
	}
	now := h.d.m.opts.Now()
	return h.d.entryOut(ctx, h.snap.Entry(i), h.snap.Handed(now), now, out), 0
}

func (h *dirHandle) Releasedir(ctx context.Context, flags uint32) { h.pace.Load().end() }
