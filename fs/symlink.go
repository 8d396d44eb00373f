package fs

import (
	"context"
	"errors"
	"path"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// linkNode is a symbolic link as the server lists it: LIST "l" lines with
// "name -> target", MLSD "type=OS.unix=slink:target" (pure-ftpd). Its
// target is the server's text: an absolute target points into the server's
// tree, not the local one. (Links whose target the server does not name,
// such as proftpd's MLSD "OS.unix=symlink", are shown by ftpconn as what
// they point to and never get here.)
//
// ln -s makes one with SITE SYMLINK where the server has it (proftpd's
// mod_site_misc); elsewhere it fails with EPERM, as on filesystems that
// have no symlinks.
type linkNode struct {
	gofs.Inode
	m *mount
}

var (
	_ = (gofs.NodeSymlinker)((*dirNode)(nil))
	_ = (gofs.NodeReadlinker)((*linkNode)(nil))
	_ = (gofs.NodeGetattrer)((*linkNode)(nil))
)

func (l *linkNode) entry(ctx context.Context) (ftpconn.Entry, syscall.Errno) {
	p, ok := l.m.remotePath(&l.Inode)
	if !ok {
		return ftpconn.Entry{}, syscall.ENOENT
	}
	e, err := l.m.core.Lookup(ctx, path.Dir(p), path.Base(p))
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

func (d *dirNode) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if errno := checkName(name); errno != 0 {
		return nil, errno
	}
	p, errno := d.path()
	if errno != 0 {
		return nil, errno
	}
	lp := path.Join(p, name)
	e, err := d.m.core.Symlink(ctx, p, name, target)
	if err != nil {
		if errors.Is(err, ftpconn.ErrNotSupported) {
			d.m.debugf("symlink %s -> %s: %v", lp, target, err)
			return nil, syscall.EPERM
		}
		return nil, d.m.toErrno("symlink", lp, err)
	}
	d.m.fillAttr(e, &out.Attr)
	return d.child(ctx, e), 0
}
