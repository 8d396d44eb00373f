package fs

import (
	"context"
	"path"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ftpmount/ftpmount/fs/core"
	"github.com/ftpmount/ftpmount/ftpconn"
)

// fileNode is a regular file. Its write state (spool, uploads, streams)
// lives in a core.File; the node adds what only the kernel's view needs:
// permission bits, and what the page cache was filled from. All of that
// is in a fileState made at the first open, create or chmod: `ls -l` of a
// directory of a million files makes a million nodes (READDIRPLUS), most
// never opened, and each costs only the Inode and two words (144 bytes,
// a size class of the Go allocator; 176 with the state inline).
type fileNode struct {
	gofs.Inode
	m  *mount
	st atomic.Pointer[fileState] // nil until first needed; never reset
}

// fileState is what a fileNode learns once opened, created or chmodded.
type fileState struct {
	mu sync.Mutex
	// w is the write state, made at the first open (file).
	w *core.File // GUARDED_BY(mu)
	// mode is the permission bits asked for at create or chmod, shown for
	// as long as the inode lives; 0 means the mount's default.
	mode uint32 // GUARDED_BY(mu)
	// seen is the file as it was at the last open for reading: when the
	// next open finds it unchanged, the kernel keeps its cached pages.
	seen *version // GUARDED_BY(mu): nil until an open for reading
	// last is the entry the file had at its last open: an open file that
	// was unlinked still answers fstat with it.
	last *ftpconn.Entry // GUARDED_BY(mu)
}

// state returns the node's fileState, making it on first use.
func (n *fileNode) state() *fileState {
	if s := n.st.Load(); s != nil {
		return s
	}
	n.st.CompareAndSwap(nil, &fileState{})
	return n.st.Load()
}

var (
	_ = (gofs.NodeGetattrer)((*fileNode)(nil))
	_ = (gofs.NodeSetattrer)((*fileNode)(nil))
	_ = (gofs.NodeOpener)((*fileNode)(nil))
)

// newFileNode makes the node of a server file.
func (m *mount) newFileNode() *fileNode { return &fileNode{m: m} }

// file is the node's write state, made on first use.
func (n *fileNode) file() *core.File {
	s := n.state()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		s.w = n.m.core.File(n.remotePath)
	}
	return s.w
}

// writing reports the size and time writers see, when a spool exists.
func (n *fileNode) writing() (size int64, mtime time.Time, ok bool) {
	s := n.st.Load()
	if s == nil {
		return 0, time.Time{}, false
	}
	s.mu.Lock()
	w := s.w
	s.mu.Unlock()
	if w == nil {
		return 0, time.Time{}, false
	}
	return w.Writing()
}

// opened remembers e as what the file was at an open (see last).
func (n *fileNode) opened(e ftpconn.Entry) {
	s := n.state()
	s.mu.Lock()
	s.last = &e
	s.mu.Unlock()
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
	e, err := n.m.core.Lookup(ctx, path.Dir(p), path.Base(p))
	if err != nil {
		return e, n.m.toErrno("getattr", p, err)
	}
	return e, 0
}

// overlay shows the spool's size and time, when there is one, over what the
// listing said: the mount sees its own writes before they are uploaded.
func (n *fileNode) overlay(out *fuse.Attr) {
	s := n.st.Load()
	if s == nil {
		return // never opened, created or chmodded: the listing says it all
	}
	s.mu.Lock()
	if s.mode != 0 {
		out.Mode = out.Mode&^0o7777 | s.mode
	}
	s.mu.Unlock()
	size, mtime, ok := n.writing()
	if !ok {
		return
	}
	out.Size = uint64(size)
	out.Blocks = (out.Size + 511) / 512
	out.SetTimes(nil, &mtime, &mtime)
}

func (n *fileNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	e := ftpconn.Entry{Type: ftpconn.TypeFile}
	_, _, writing := n.writing()
	_, named := n.remotePath()
	switch {
	case !named && !writing:
		// Unlinked while open: fstat still answers, as on a local disk,
		// with what the file was.
		var last *ftpconn.Entry
		if s := n.st.Load(); s != nil {
			s.mu.Lock()
			last = s.last
			s.mu.Unlock()
		}
		if last == nil {
			return syscall.ENOENT
		}
		e = *last
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

// Setattr handles truncate and utimens. A truncate through a handle open
// for writing (ftruncate, O_TRUNC) changes the spool only; one by path
// (truncate(2)) may upload at once (core.File.Truncate). chmod is remembered for the life
// of the inode and chown ignored: FTP cannot keep them portably, and cp -p,
// tar and rsync must not fail because of that.
func (n *fileNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok {
		truncate := n.file().Truncate
		if h, ok := fh.(*handle); ok && h.write {
			truncate = n.file().TruncateHandle // ftruncate(2): the writer's own change
		}
		if err := truncate(ctx, int64(size)); err != nil {
			p, _ := n.path()
			return n.m.toErrno("truncate", p, err)
		}
	}
	if mtime, ok := in.GetMTime(); ok {
		n.file().SetMtime(ctx, mtime)
	}
	if mode, ok := in.GetMode(); ok {
		if p, ok := n.m.remotePath(&n.Inode); ok {
			n.m.chmod(ctx, p, mode) // see chmod.go
		}
		s := n.state()
		s.mu.Lock()
		s.mode = mode & 0o7777
		s.mu.Unlock()
	}
	return n.Getattr(ctx, fh, out)
}

func (n *fileNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE == syscall.O_RDONLY {
		return n.openRead(ctx)
	}
	if err := n.file().OpenWrite(ctx, flags&syscall.O_TRUNC != 0); err != nil {
		p, _ := n.path()
		return nil, 0, n.m.toErrno("open", p, err)
	}
	s := n.state()
	s.mu.Lock()
	s.seen = nil // our writes: don't trust the page cache at the next open
	s.mu.Unlock()
	n.file().Opened()
	return &handle{n: n, write: true}, 0, 0
}
