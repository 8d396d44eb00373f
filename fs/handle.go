package fs

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// handle is one open(2) of a file. Write handles share the node's spool;
// read handles stream from the server unless a spool exists.
type handle struct {
	n     *fileNode
	write bool
	size  int64 // read handles: the file's size at open

	mu     sync.Mutex
	rd     ftpconn.Reader // GUARDED_BY(mu): created at the first read from the server
	rdPath string         // GUARDED_BY(mu): the path rd reads
}

var (
	_ = (gofs.FileReader)((*handle)(nil))
	_ = (gofs.FileWriter)((*handle)(nil))
	_ = (gofs.FileFlusher)((*handle)(nil))
	_ = (gofs.FileFsyncer)((*handle)(nil))
	_ = (gofs.FileReleaser)((*handle)(nil))
	_ = (gofs.FileGetattrer)((*handle)(nil))
)

// bytesResult answers a read with bytes in memory. go-fuse writes a
// ReadResultVector with writev; its ReadResultData would first try to
// splice (a pipe set up and torn down per read, and for 1 MiB reads a
// failure logged each time).
func bytesResult(b []byte) fuse.ReadResult { return fuse.ReadResultVector([][]byte{b}) }

func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	p, _ := h.n.path()
	if m, ok, err := h.n.file().ReadAt(ctx, dest, off); ok {
		if err != nil {
			return nil, h.n.m.toErrno("read", p, err)
		}
		return bytesResult(dest[:m]), 0
	}
	rd, errno := h.reader()
	if errno != 0 {
		return nil, errno
	}
	m, err := rd.ReadAt(ctx, dest, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, h.n.m.toErrno("read", p, err)
	}
	return bytesResult(dest[:m]), 0
}

// reader opens the server stream at the first read, expecting the size the
// listing showed at open. The file may have been renamed since (through the
// mount): the next stream opens under its new name. An unlinked file is
// read from the temporary name it was kept under (core/unlinked.go); where
// the server refused that rename, a stream still open goes on and a new
// one finds nothing.
func (h *handle) reader() (ftpconn.Reader, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.n.file().Source()
	if p == "" {
		if h.rd != nil {
			return h.rd, 0
		}
		return nil, syscall.ENOENT
	}
	if h.rd != nil && p != h.rdPath {
		h.rd.Close()
		h.rd = nil
	}
	if h.rd == nil {
		h.rd, h.rdPath = h.n.m.core.OpenReader(p, h.size), p
	}
	return h.rd, 0
}

func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if !h.write {
		return 0, syscall.EBADF
	}
	if err := h.n.file().Write(ctx, data, off); err != nil {
		p, _ := h.n.path()
		return 0, h.n.m.toErrno("write", p, err)
	}
	return uint32(len(data)), 0
}

// Flush runs at every close(2) of a descriptor of this handle: the upload
// happens here (core.File.Close; with -o writeback, in the background),
// so close reports its failure.
func (h *handle) Flush(ctx context.Context) syscall.Errno {
	if !h.write {
		return 0
	}
	if err := h.n.file().Close(ctx); err != nil {
		p, _ := h.n.path()
		return h.n.m.toErrno("upload", p, err)
	}
	return 0
}

// Fsync waits for the server, with or without write-back, through any
// descriptor of the file (sync FILE opens it read-only).
func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if err := h.n.file().Flush(ctx); err != nil {
		p, _ := h.n.path()
		return h.n.m.toErrno("upload", p, err)
	}
	return 0
}

func (h *handle) Release(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	if h.rd != nil {
		h.rd.Close()
		h.rd = nil
	}
	h.mu.Unlock()
	if h.write {
		h.n.file().Release()
	}
	h.n.file().Closed() // the last release of an unlinked file deletes it
	return 0
}

func (h *handle) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	return h.n.Getattr(ctx, h, out)
}
