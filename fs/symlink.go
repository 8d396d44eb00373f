package fs

import (
	"context"
	"path"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// linkNode is a symbolic link as a LIST listing reports it ("l" lines). Its
// target is the server's text: an absolute target points into the server's
// tree, not the local one.
type linkNode struct {
	gofs.Inode
	m *mount
}

var (
	_ = (gofs.NodeReadlinker)((*linkNode)(nil))
	_ = (gofs.NodeGetattrer)((*linkNode)(nil))
)

func (l *linkNode) entry(ctx context.Context) (ftpconn.Entry, syscall.Errno) {
	p, ok := l.m.remotePath(&l.Inode)
	if !ok {
		return ftpconn.Entry{}, syscall.ENOENT
	}
	e, err := l.m.dirs.Lookup(ctx, path.Dir(p), path.Base(p))
	if err != nil {
		return e, l.m.toErrno("readlink", p, err)
	}
	return e, 0
}

func (l *linkNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	e, errno := l.entry(ctx)
	if errno != 0 {
		return nil, errno
	}
	return []byte(e.Target), 0
}

func (l *linkNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	e, errno := l.entry(ctx)
	if errno != 0 {
		return errno
	}
	l.m.fillAttr(e, &out.Attr)
	return 0
}
