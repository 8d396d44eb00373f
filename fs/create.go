package fs

import (
	"context"
	"path"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// Create makes a new file that exists, until its first upload, only in the
// spool and as a pending entry of the listing cache. Nothing is sent to the
// server before close: a new file costs one STOR.
func (d *dirNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	if errno := checkName(name); errno != 0 {
		return nil, nil, 0, errno
	}
	p, errno := d.path()
	if errno != 0 {
		return nil, nil, 0, errno
	}
	n := d.m.newFileNode()
	st := n.state() // not yet shared: no lock needed
	st.mode = mode & 0o7777
	cp := path.Join(p, name)
	w, err := d.m.core.Create(cp, n.remotePath)
	if err != nil {
		return nil, nil, 0, d.m.toErrno("create", cp, err)
	}
	st.w = w
	w.Opened()
	ch := d.NewInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFREG})
	_, mtime, _ := w.Writing()
	e := ftpconn.Entry{Name: name, Type: ftpconn.TypeFile, ModTime: mtime}
	d.m.core.Created(p, e)
	d.m.fillAttr(e, &out.Attr)
	n.overlay(&out.Attr)
	return ch, &handle{n: n, write: true}, 0, 0
}
