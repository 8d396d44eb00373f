package fs

import (
	"context"
	"path"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ftpmount/ftpmount/fs/core"
	"github.com/ftpmount/ftpmount/ftpconn"
)

// fileNode is a regular file. Its write state (spool, uploads, streams)
// lives in w, package core; the node adds what only the kernel's view
// needs: permission bits, and what the page cache was filled from.
type fileNode struct {
	gofs.Inode
	m *mount
	w *core.File

	mu sync.Mutex
	// mode is the permission bits asked for at create or chmod, shown for
	// as long as the inode lives; 0 means the mount's default.
	mode uint32 // GUARDED_BY(mu)
	// seen is the file as it was at the last open for reading: when the
	// next open finds it unchanged, the kernel keeps its cached pages.
	seen version // GUARDED_BY(mu)
	// last is the entry the last lookup of the listing found: an open
	// file that was unlinked still answers fstat with it.
	last ftpconn.Entry // GUARDED_BY(mu)
}

var (
	_ = (gofs.NodeGetattrer)((*fileNode)(nil))
	_ = (gofs.NodeSetattrer)((*fileNode)(nil))
	_ = (gofs.NodeOpener)((*fileNode)(nil))
)

// newFileNode makes the node of a server file.
func (m *mount) newFileNode() *fileNode {
	n := &fileNode{m: m}
	n.w = m.core.File(n.remotePath)
	return n
}

func (n *fileNode) remotePath() (string, bool) { return n.m.remotePath(&n.Inode) }

func (n *fileNode) path() (string, syscall.Errno) {
	p, ok := n.remotePath()
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
	n.mu.Lock()
	n.last = e
	n.mu.Unlock()
	return e, 0
}

// overlay shows the spool's size and time, when there is one, over what the
// listing said: the mount sees its own writes before they are uploaded.
func (n *fileNode) overlay(out *fuse.Attr) {
	n.mu.Lock()
	if n.mode != 0 {
		out.Mode = out.Mode&^0o7777 | n.mode
	}
	n.mu.Unlock()
	size, mtime, ok := n.w.Writing()
	if !ok {
		return
	}
	out.Size = uint64(size)
	out.Blocks = (out.Size + 511) / 512
	out.SetTimes(nil, &mtime, &mtime)
}

func (n *fileNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	e := ftpconn.Entry{Type: ftpconn.TypeFile}
	_, _, writing := n.w.Writing()
	_, named := n.remotePath()
	switch {
	case !named:
		// Unlinked while open: fstat still answers, as on a local disk,
		// with what the file was.
		n.mu.Lock()
		e = n.last
		n.mu.Unlock()
		if e.Name == "" {
			return syscall.ENOENT
		}
	case !writing:
		var errno syscall.Errno
		if e, errno = n.entry(ctx); errno != 0 {
			return errno
		}
	}
	n.m.fillAttr(e, &out.Attr)
	if !named {
		out.Nlink = 0
	}
	n.overlay(&out.Attr)
	return 0
}

// Setattr handles truncate and utimens. chmod is remembered for the life
// of the inode and chown ignored: FTP cannot keep them portably, and cp -p,
// tar and rsync must not fail because of that.
func (n *fileNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok {
		if err := n.w.Truncate(ctx, int64(size)); err != nil {
			p, _ := n.path()
			return n.m.toErrno("truncate", p, err)
		}
	}
	if mtime, ok := in.GetMTime(); ok {
		n.w.SetMtime(ctx, mtime)
	}
	if mode, ok := in.GetMode(); ok {
		if p, ok := n.m.remotePath(&n.Inode); ok {
			n.m.chmod(ctx, p, mode) // see chmod.go
		}
		n.mu.Lock()
		n.mode = mode & 0o7777
		n.mu.Unlock()
	}
	return n.Getattr(ctx, fh, out)
}

func (n *fileNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE == syscall.O_RDONLY {
		return n.openRead(ctx)
	}
	if err := n.w.OpenWrite(ctx, flags&syscall.O_TRUNC != 0); err != nil {
		p, _ := n.path()
		return nil, 0, n.m.toErrno("open", p, err)
	}
	n.mu.Lock()
	n.seen = version{} // our writes: don't trust the page cache at the next open
	n.mu.Unlock()
	return &handle{n: n, write: true}, 0, 0
}
