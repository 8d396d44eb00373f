package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// fileNode is a regular file. While any handle has it open for writing it
// owns a spool (see spool.go), shared by all of them.
//
// Lock order: upMu, then mu.
type fileNode struct {
	gofs.Inode
	m *mount

	upMu sync.Mutex // held by the one upload of this file in progress

	mu      sync.Mutex
	sp      *spool // GUARDED_BY(mu): nil when no handle writes
	writers int    // GUARDED_BY(mu): handles sharing sp
	gone    bool   // GUARDED_BY(mu): unlinked; nothing more goes to the server
	// mode is the permission bits asked for at create or chmod, shown for
	// as long as the inode lives (FTP has no portable way to store them);
	// 0 means the mount's default.
	mode uint32 // GUARDED_BY(mu)
	// seen is the listing entry at the last open for reading: when the
	// next open finds it unchanged, the kernel keeps its cached pages.
	seen ftpconn.Entry // GUARDED_BY(mu)
	// abandoned is the last streamed upload given up (stream.go). Until
	// its STOR has ended, no other upload of this file may start: the
	// server could still be writing its bytes into the file.
	abandoned *upstream // GUARDED_BY(mu)
	// uploading is set while flush uploads (or waits for a sealed
	// stream): no stream may start then, or two STORs of this file would
	// interleave on the server.
	uploading bool // GUARDED_BY(mu)
}

var (
	_ = (gofs.NodeGetattrer)((*fileNode)(nil))
	_ = (gofs.NodeSetattrer)((*fileNode)(nil))
	_ = (gofs.NodeOpener)((*fileNode)(nil))
)

func (n *fileNode) path() (string, syscall.Errno) {
	p, ok := n.m.remotePath(&n.Inode)
	if !ok {
		return "", syscall.ENOENT
	}
	return p, 0
}

// entry is the file as the (cached) parent listing shows it.
func (n *fileNode) entry(ctx context.Context) (ftpconn.Entry, syscall.Errno) {
	p, errno := n.path()
	if errno != 0 {
		return ftpconn.Entry{}, errno
	}
	e, err := n.m.dirs.Lookup(ctx, path.Dir(p), path.Base(p))
	if err != nil {
		return e, n.m.toErrno("getattr", p, err)
	}
	return e, 0
}

// overlay shows the spool's size and time, when there is one, over what the
// listing said: the mount sees its own writes before they are uploaded.
func (n *fileNode) overlay(out *fuse.Attr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.mode != 0 {
		out.Mode = out.Mode&^0o7777 | n.mode
	}
	if n.sp == nil {
		return
	}
	out.Size = uint64(n.sp.size)
	out.Blocks = (out.Size + 511) / 512
	out.SetTimes(nil, &n.sp.mtime, &n.sp.mtime)
}

func (n *fileNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.mu.Lock()
	writing := n.sp != nil
	n.mu.Unlock()
	e := ftpconn.Entry{Type: ftpconn.TypeFile}
	if !writing {
		var errno syscall.Errno
		if e, errno = n.entry(ctx); errno != 0 {
			return errno
		}
	}
	n.m.fillAttr(e, &out.Attr)
	n.overlay(&out.Attr)
	return 0
}

// Setattr handles truncate and utimens. chmod is remembered for the life
// of the inode and chown ignored: FTP cannot keep them portably, and cp -p,
// tar and rsync must not fail because of that.
func (n *fileNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok {
		if errno := n.truncate(ctx, int64(size), fh != nil); errno != 0 {
			return errno
		}
	}
	if mtime, ok := in.GetMTime(); ok {
		n.setMtime(ctx, mtime)
	}
	if mode, ok := in.GetMode(); ok {
		n.mu.Lock()
		n.mode = mode & 0o7777
		n.mu.Unlock()
	}
	return n.Getattr(ctx, fh, out)
}

// truncate changes the size. With a write handle open the change goes into
// the shared spool and is uploaded at its close; truncate(2) on a path with
// nobody writing is uploaded at once.
func (n *fileNode) truncate(ctx context.Context, size int64, viaHandle bool) syscall.Errno {
	if errno := n.acquireSpool(ctx, size == 0); errno != 0 {
		return errno
	}
	n.mu.Lock()
	n.abandonStream()
	err := n.sp.truncate(size)
	n.mu.Unlock()
	var errno syscall.Errno
	if err != nil {
		p, _ := n.path()
		errno = n.m.toErrno("truncate", p, err)
	} else if !viaHandle {
		errno = n.flush(ctx)
	}
	n.releaseSpool()
	return errno
}

func (n *fileNode) setMtime(ctx context.Context, t time.Time) {
	n.mu.Lock()
	if n.sp != nil && n.sp.dirty {
		n.sp.setTime = &t
		n.sp.mtime = t
		n.mu.Unlock()
		return
	}
	n.mu.Unlock()
	n.applyMtime(ctx, t)
}

// applyMtime sets the time on the server.
func (n *fileNode) applyMtime(ctx context.Context, t time.Time) {
	if p, errno := n.path(); errno == 0 {
		n.m.setTime(ctx, p, t)
	}
}

func (n *fileNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE == syscall.O_RDONLY {
		return n.openRead(ctx)
	}
	if errno := n.acquireSpool(ctx, flags&syscall.O_TRUNC != 0); errno != 0 {
		return nil, 0, errno
	}
	n.mu.Lock()
	n.seen = ftpconn.Entry{} // our writes: don't trust the page cache at the next open
	n.mu.Unlock()
	return &handle{n: n, write: true}, 0, 0
}

// openRead opens for reading. When the file is as it was at the previous
// open (same size and time in the listing), the kernel may keep the pages
// it cached then: re-reads cost nothing.
func (n *fileNode) openRead(ctx context.Context) (gofs.FileHandle, uint32, syscall.Errno) {
	e, errno := n.entry(ctx)
	if errno != 0 {
		return nil, 0, errno
	}
	var flags uint32
	n.mu.Lock()
	if n.sp == nil && n.seen.Size == e.Size && n.seen.ModTime.Equal(e.ModTime) && !e.ModTime.IsZero() {
		flags = fuse.FOPEN_KEEP_CACHE
	}
	if n.sp == nil {
		n.seen = e
	}
	n.mu.Unlock()
	return &handle{n: n, size: e.Size}, flags, 0
}

// acquireSpool makes sure the node has a spool and counts one more user of
// it. With trunc the old content is dropped without being fetched.
func (n *fileNode) acquireSpool(ctx context.Context, trunc bool) syscall.Errno {
	n.mu.Lock()
	has := n.sp != nil
	n.mu.Unlock()
	var e ftpconn.Entry
	if !has {
		var errno syscall.Errno
		if e, errno = n.entry(ctx); errno != 0 {
			return errno
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sp == nil {
		sp, err := newSpool(n.m.opts.SpoolDir)
		if err != nil {
			return n.m.toErrno("open", e.Name, err)
		}
		sp.size, sp.need, sp.base, sp.mtime = e.Size, e.Size, e.Size, e.ModTime
		sp.sequential = e.Size == 0
		if err := sp.f.Truncate(e.Size); err != nil {
			sp.discard()
			return n.m.toErrno("open", e.Name, err)
		}
		n.sp = sp
	}
	n.writers++
	if trunc && n.sp.size != 0 {
		n.abandonStream()
		if err := n.sp.truncate(0); err != nil {
			return n.m.toErrno("open", e.Name, err)
		}
	}
	return 0
}

// releaseSpool drops one user of the spool. The last one removes it, or,
// when its data never reached the server, keeps it in the recovery folder.
func (n *fileNode) releaseSpool() {
	n.mu.Lock()
	n.writers--
	if n.writers > 0 {
		n.mu.Unlock()
		return
	}
	n.abandonStream() // not sealed by a close: nothing waits for it
	sp, gone := n.sp, n.gone
	n.sp = nil
	n.mu.Unlock()
	p, ok := n.m.remotePath(&n.Inode)
	if ok {
		n.m.dirs.ClearPending(path.Dir(p), path.Base(p))
	}
	if sp.dirty && !gone && ok {
		where, err := sp.keep(n.m.opts.RecoverDir, p)
		n.m.logf("upload of %s failed: its data is kept in %s (%v)", p, where, err)
		return
	}
	sp.discard()
}

// flush uploads the spool if it changed since the last upload. It is
// called from every Flush (close), Fsync, and after truncate(2).
func (n *fileNode) flush(ctx context.Context) syscall.Errno {
	n.upMu.Lock()
	defer n.upMu.Unlock()
	p, errno := n.path()
	n.mu.Lock()
	sp := n.sp
	if sp == nil || !sp.dirty || n.gone || errno != 0 {
		n.mu.Unlock()
		return 0
	}
	// An upload is not abandoned because the caller got a signal: that
	// would leave a half file on the server.
	ctx = context.WithoutCancel(ctx)
	appendFrom := int64(-1)
	if sp.appendOnly() {
		appendFrom = sp.base
	} else if err := sp.fill(ctx, n.m.client, p); err != nil {
		n.mu.Unlock()
		return n.m.toErrno("fill", p, err)
	}
	gen, size, mtime, setTime := sp.gen, sp.size, sp.mtime, sp.setTime
	n.uploading = true
	n.m.uploads.Add(1)
	streamed, err := n.finishStream(size)
	prev := n.abandoned
	n.mu.Unlock()
	if !streamed || err != nil {
		if streamed {
			n.m.debugf("streamed upload of %s: %v; uploading it again", p, err)
		}
		if prev != nil {
			<-prev.done // its STOR must be over before ours begins
		}
		err = n.upload(ctx, p, sp, appendFrom, size)
	}
	n.m.uploads.Done()
	n.mu.Lock()
	n.uploading = false
	if err == nil && sp.gen == gen {
		sp.dirty = false
		sp.setTime = nil
		sp.uploaded(size)
	}
	n.mu.Unlock()
	if err != nil {
		return n.m.toErrno("upload", p, err)
	}
	dir, name := path.Dir(p), path.Base(p)
	n.m.dirs.Put(dir, ftpconn.Entry{Name: name, Type: ftpconn.TypeFile, Size: size, ModTime: mtime})
	n.m.dirs.ClearPending(dir, name)
	if setTime != nil {
		n.applyMtime(ctx, *setTime)
	}
	return 0
}

// upload sends the spool: only the appended bytes when appendFrom >= 0 and
// the server can resume uploads, else the whole file (fetching what the
// spool lacks first).
func (n *fileNode) upload(ctx context.Context, p string, sp *spool, appendFrom, size int64) error {
	if appendFrom >= 0 && !n.m.opts.Atomic {
		err := n.m.client.Append(ctx, p, sp.f, appendFrom, size)
		if !errors.Is(err, ftpconn.ErrNotSupported) {
			return err
		}
		n.m.debugf("append to %s: %v; uploading the whole file", p, err)
		n.mu.Lock()
		err = sp.fill(ctx, n.m.client, p)
		n.mu.Unlock()
		if err != nil {
			return err
		}
	}
	if n.m.opts.Atomic {
		return n.uploadAtomic(ctx, p, sp, size)
	}
	return n.m.client.Upload(ctx, p, sp.f, size)
}

// uploadAtomic uploads to a temporary name beside p and renames it over p,
// so that readers of p see the old file or the new one, never a part. A
// failed upload deletes the temporary file.
func (n *fileNode) uploadAtomic(ctx context.Context, p string, sp *spool, size int64) error {
	tmp := path.Join(path.Dir(p), fmt.Sprintf(".%s.ftpmount-%d", path.Base(p), rand.Uint32()))
	err := n.m.client.Upload(ctx, tmp, sp.f, size)
	if err == nil {
		err = n.m.client.Rename(ctx, tmp, p)
		if errors.Is(err, ftpconn.ErrPermission) {
			// Some servers will not rename over an existing file.
			if derr := n.m.client.Delete(ctx, p); derr == nil {
				err = n.m.client.Rename(ctx, tmp, p)
			}
		}
	}
	if err != nil {
		if derr := n.m.client.Delete(ctx, tmp); derr != nil && !errors.Is(derr, ftpconn.ErrNotFound) {
			n.m.logf("could not remove the temporary upload %s: %v", tmp, derr)
		}
	}
	return err
}

// unlinked marks the file deleted: pending writes are dropped, as POSIX
// says for data written to a file after its last name is gone.
func (n *fileNode) unlinked() {
	n.mu.Lock()
	n.gone = true
	n.abandonStream()
	n.mu.Unlock()
}

// readSpool serves a read from the spool when one exists. ok is false when
// there is no spool and the caller should read from the server.
func (n *fileNode) readSpool(ctx context.Context, dest []byte, off int64) (int, bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sp == nil {
		return 0, false, nil
	}
	if off < n.sp.need {
		p, _ := n.path()
		if err := n.sp.fill(context.WithoutCancel(ctx), n.m.client, p); err != nil {
			return 0, true, err
		}
	}
	if off >= n.sp.size {
		return 0, true, nil
	}
	dest = dest[:min(int64(len(dest)), n.sp.size-off)]
	m, err := n.sp.f.ReadAt(dest, off)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return m, true, err
}

// write puts data into the spool.
func (n *fileNode) write(ctx context.Context, data []byte, off int64) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	sp := n.sp
	if sp == nil {
		return syscall.EBADF
	}
	if off < sp.need { // overwrites old bytes: they must be here first
		p, _ := n.path()
		if err := sp.fill(context.WithoutCancel(ctx), n.m.client, p); err != nil {
			return err
		}
	}
	if off != sp.size {
		n.abandonStream() // not an append: the stream cannot follow
	}
	if err := sp.writeAt(data, off); err != nil {
		return err
	}
	if sp.stream != nil {
		sp.stream.cond.Broadcast()
	} else if sp.sequential && sp.size >= streamMin {
		if p, errno := n.path(); errno == 0 {
			n.maybeStream(p)
		}
	}
	return nil
}
