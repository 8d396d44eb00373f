package fs

import (
	"context"
	"errors"
	"path"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// The kernel's page cache of a file. An open with FOPEN_KEEP_CACHE lets the
// kernel serve reads from the pages it cached at an earlier open; without
// it, the kernel drops them. Keeping them is right only while the file is
// known unchanged, or a reader gets pages of the old version mixed with
// pages of the new one. FTP tells a change only by size and time, and a
// LIST line gives the time to the minute (vsftpd; older files: to the
// day), so a same-size overwrite within that minute is invisible to it.
// The rule:
//
//   - the pages are kept only when the size and the time are the same as
//     at the open that cached them, and that time was at least
//     stableAfter older than our clock then (a write in the same second
//     as the time we saw would not change it);
//   - where the listing's time may be coarse (no seconds), the time is
//     asked of the server with MDTM at the open that could keep the
//     pages; where the server has no MDTM, the pages are dropped.
//
// Another client's change is thus seen at the first open after the
// listing shows it (within dir_cache seconds) or at once where MDTM is
// asked. One open's reads all come from one RETR stream where they are in
// order; a jump restarts it with REST, and a file replaced between two
// such restarts is a change FTP cannot show (documented in the README).

// stableAfter is how old a file's time must be, at the open that cached
// its pages, for a later open to trust it unchanged: one second of time
// precision plus slack for the server's clock.
const stableAfter = 2 * time.Second

// version is what identifies a file's content, as far as FTP shows it.
type version struct {
	size   int64
	mtime  time.Time // to the second at least (MDTM or a precise listing)
	stable bool      // mtime was at least stableAfter old when seen
}

// coarse reports whether t may come from a listing without seconds.
func coarse(t time.Time) bool { return t.Second() == 0 && t.Nanosecond() == 0 }

// openRead opens for reading, keeping the kernel's pages when the file is
// known unchanged since they were cached.
func (n *fileNode) openRead(ctx context.Context) (gofs.FileHandle, uint32, syscall.Errno) {
	e, errno := n.entry(ctx)
	if errno != 0 {
		return nil, 0, errno
	}
	n.opened(e)
	var prev version
	st := n.state()
	st.mu.Lock()
	if st.seen != nil {
		prev = *st.seen
	}
	st.mu.Unlock()
	_, _, writing := n.writing()
	v := version{size: e.Size, mtime: e.ModTime}
	switch {
	case e.ModTime.IsZero():
	case !coarse(e.ModTime):
		v = n.preciseVersion(ctx, e)
	case !writing && prev.size == e.Size && !prev.mtime.IsZero():
		// Seen before with this size: ask MDTM, which a later open can
		// compare with.
		v = n.preciseVersion(ctx, e)
	}
	var flags uint32
	if !writing && prev.stable && v.stable && prev.size == v.size && prev.mtime.Equal(v.mtime) {
		flags = fuse.FOPEN_KEEP_CACHE
	}
	if !writing {
		st.mu.Lock()
		st.seen = &v
		st.mu.Unlock()
	}
	n.file().Opened()
	return &handle{n: n, size: e.Size}, flags, 0
}

// preciseVersion is e's version with a time to the second: the listing's
// when it has seconds, else MDTM's. Without one, the version is not
// stable (the pages will be dropped).
func (n *fileNode) preciseVersion(ctx context.Context, e ftpconn.Entry) version {
	v := version{size: e.Size, mtime: e.ModTime}
	if coarse(e.ModTime) {
		p, errno := n.path()
		if errno != 0 {
			return version{}
		}
		t, err := n.m.core.ModTime(ctx, p)
		if err != nil {
			if !errors.Is(err, ftpconn.ErrNotSupported) {
				n.m.debugf("MDTM %s: %v", path.Base(p), err)
			}
			return version{}
		}
		v.mtime = t
	}
	v.stable = n.m.opts.Now().Sub(v.mtime) >= stableAfter
	return v
}
