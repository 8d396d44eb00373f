package fs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Directory contents in the kernel's cache. With FOPEN_CACHE_DIR (and
// KEEP_CACHE) on opendir the kernel answers readdir from what it cached
// at an earlier one, without asking us: a warm `ls -l` costs no request at
// all. That is right only while our listing is the one the kernel cached,
// so each dirNode remembers the version of the listing it served under
// CACHE_DIR, and opendir asks the kernel to keep its cache only when the
// listing cache still holds that very version (fresh, unchanged). Changes
// made through the mount (create, unlink, rename, mkdir ...) make the
// kernel drop its cache by itself.

var _ = (gofs.NodeOpendirHandler)((*dirNode)(nil))

func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	p, errno := d.path()
	if errno != 0 {
		return nil, 0, errno
	}
	var fuseFlags uint32
	if v := d.m.dirs.Version(p); v != 0 && v == d.served.Load() {
		fuseFlags = fuse.FOPEN_CACHE_DIR | fuse.FOPEN_KEEP_CACHE
	} else {
		d.served.Store(0) // opened without KEEP_CACHE: the kernel drops what it had
	}
	return &dirHandle{d: d, cacheDir: fuseFlags != 0}, fuseFlags, 0
}

// dirHandle is one opendir. It lists at the first readdir.
type dirHandle struct {
	d        *dirNode
	cacheDir bool // opened with CACHE_DIR: what we list, the kernel keeps
	ds       gofs.DirStream
}

var (
	_ = (gofs.FileReaddirenter)((*dirHandle)(nil))
	_ = (gofs.FileSeekdirer)((*dirHandle)(nil))
	_ = (gofs.FileReleasedirer)((*dirHandle)(nil))
)

func (h *dirHandle) open(ctx context.Context) syscall.Errno {
	if h.ds != nil {
		return 0
	}
	ds, version, errno := h.d.readdir(ctx)
	if errno != 0 {
		return errno
	}
	if h.cacheDir {
		h.d.served.Store(version)
	}
	h.ds = ds
	return 0
}

func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if errno := h.open(ctx); errno != 0 {
		return nil, errno
	}
	if !h.ds.HasNext() {
		return nil, 0
	}
	e, errno := h.ds.Next()
	return &e, errno
}

func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if errno := h.open(ctx); errno != 0 {
		return errno
	}
	if sd, ok := h.ds.(gofs.FileSeekdirer); ok {
		return sd.Seekdir(ctx, off)
	}
	return syscall.ENOTSUP
}

func (h *dirHandle) Releasedir(ctx context.Context, flags uint32) {
	if h.ds != nil {
		h.ds.Close()
	}
}
