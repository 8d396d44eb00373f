package fs

import (
	"context"
	"path"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ftpmount/ftpmount/fs/core"
	"github.com/ftpmount/ftpmount/ftpconn"
)

// dirNode is a directory on the server (the root too).
type dirNode struct {
	gofs.Inode
	m *mount

	// served is the listing version the kernel holds in its directory
	// cache (0: none; unknownServed: one it must not keep); see dirhandle.go.
	served atomic.Uint64
}

var (
	_ = (gofs.NodeGetattrer)((*dirNode)(nil))
	_ = (gofs.NodeSetattrer)((*dirNode)(nil))
	_ = (gofs.NodeLookuper)((*dirNode)(nil))
	_ = (gofs.NodeReaddirer)((*dirNode)(nil))
	_ = (gofs.NodeMkdirer)((*dirNode)(nil))
	_ = (gofs.NodeRmdirer)((*dirNode)(nil))
	_ = (gofs.NodeUnlinker)((*dirNode)(nil))
	_ = (gofs.NodeRenamer)((*dirNode)(nil))
	_ = (gofs.NodeCreater)((*dirNode)(nil))
	_ = (gofs.NodeStatfser)((*dirNode)(nil))
)

func (d *dirNode) path() (string, syscall.Errno) {
	p, ok := d.m.remotePath(&d.Inode)
	if !ok {
		return "", syscall.ENOENT
	}
	return p, 0
}

func (d *dirNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	p, errno := d.path()
	if errno != 0 {
		return errno
	}
	e := ftpconn.Entry{Name: path.Base(p), Type: ftpconn.TypeDir, ModTime: d.m.mounted}
	if !d.IsRoot() {
		got, err := d.m.core.Lookup(ctx, path.Dir(p), path.Base(p))
		if err != nil {
			return d.m.toErrno("getattr", p, err)
		}
		if got.Type != ftpconn.TypeDir {
			return syscall.ENOENT // replaced by a file on the server
		}
		e = got
	}
	d.m.fillAttr(e, &out.Attr)
	return 0
}

// Setattr sets a directory's modification time on the server where it can
// (MFMT, or vsftpd's MDTM), and accepts chmod and chown without doing
// anything: FTP has no portable way to keep them, and cp -p, tar and rsync
// must not fail because of that.
func (d *dirNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if mtime, ok := in.GetMTime(); ok && !d.IsRoot() {
		if p, errno := d.path(); errno == 0 {
			d.m.core.SetTime(ctx, p, mtime)
		}
	}
	if mode, ok := in.GetMode(); ok && !d.IsRoot() {
		if p, errno := d.path(); errno == 0 {
			d.m.chmod(ctx, p, mode) // see chmod.go
		}
	}
	return d.Getattr(ctx, fh, out)
}

func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	p, errno := d.path()
	if errno != 0 {
		return nil, errno
	}
	switch checkName(name) {
	case 0:
	case syscall.ENAMETOOLONG:
		return nil, syscall.ENAMETOOLONG
	default:
		return nil, syscall.ENOENT // no such name can exist on the server
	}
	e, err := d.m.core.Lookup(ctx, p, name)
	if err != nil {
		return nil, d.m.toErrno("lookup", path.Join(p, name), err)
	}
	return d.entryOut(ctx, e, d.m.core.FreshUntil(p), d.m.opts.Now(), out), 0
}

// entryOut answers a lookup of e: its inode and attributes. The kernel
// may keep them (and the name) until fresh, when the listing they came
// from goes stale (KernelTTL at least): until then we would answer the
// same anyway. A warm `ls -l` of a huge directory then costs the kernel
// no request per entry, though listing it took longer than KernelTTL.
func (d *dirNode) entryOut(ctx context.Context, e ftpconn.Entry, fresh, now time.Time, out *fuse.EntryOut) *gofs.Inode {
	ch := d.child(ctx, e)
	d.m.fillAttr(e, &out.Attr)
	if f, ok := ch.Operations().(*fileNode); ok {
		f.overlay(&out.Attr)
	}
	if ttl := fresh.Sub(now); ttl > d.m.opts.KernelTTL {
		out.SetEntryTimeout(ttl)
		out.SetAttrTimeout(ttl)
	}
	return ch
}

// child returns the inode for entry e, reusing the one the tree has when
// its type still matches (an inode cannot change type).
func (d *dirNode) child(ctx context.Context, e ftpconn.Entry) *gofs.Inode {
	mode := stableMode(e.Type)
	if ch := d.GetChild(e.Name); ch != nil && ch.StableAttr().Mode == mode {
		return ch
	}
	var node gofs.InodeEmbedder
	switch e.Type {
	case ftpconn.TypeDir:
		node = &dirNode{m: d.m}
	case ftpconn.TypeSymlink:
		node = &linkNode{m: d.m}
	default:
		node = d.m.newFileNode()
	}
	return d.NewInode(ctx, node, gofs.StableAttr{Mode: mode})
}

// Readdir is go-fuse's fallback; our opendir gives a dirHandle that lists.
func (d *dirNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	snap, errno := d.snapshot(ctx)
	if errno != 0 {
		return nil, errno
	}
	out := make([]fuse.DirEntry, 0, len(dots)+snap.Len())
	for _, name := range dots {
		out = append(out, fuse.DirEntry{Name: name, Mode: syscall.S_IFDIR})
	}
	for i := range snap.Len() {
		out = append(out, fuse.DirEntry{Name: snap.Name(i), Mode: stableMode(snap.Type(i))})
	}
	return gofs.NewListDirStream(out), 0
}

// snapshot lists the directory (see dirHandle), and starts fetching its
// sibling directories for a tree walk (cache/prefetch.go).
func (d *dirNode) snapshot(ctx context.Context) (*core.Snapshot, syscall.Errno) {
	p, errno := d.path()
	if errno != 0 {
		return nil, errno
	}
	snap, err := d.m.core.Snapshot(ctx, p)
	if err != nil {
		return nil, d.m.toErrno("readdir", p, err)
	}
	if !d.IsRoot() {
		d.m.core.PrefetchSiblings(p)
	}
	return snap, 0
}

func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if errno := checkName(name); errno != 0 {
		return nil, errno
	}
	p, errno := d.path()
	if errno != 0 {
		return nil, errno
	}
	e, err := d.m.core.Mkdir(ctx, p, name)
	if err != nil {
		return nil, d.m.toErrno("mkdir", path.Join(p, name), err)
	}
	if d.m.chmod(ctx, path.Join(p, name), mode&0o7777) { // the mode asked for, where SITE CHMOD works (chmod.go)
		e.Mode = mode & 0o7777
	}
	d.m.fillAttr(e, &out.Attr)
	return d.NewInode(ctx, &dirNode{m: d.m}, gofs.StableAttr{Mode: syscall.S_IFDIR}), 0
}

func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	p, errno := d.path()
	if errno != 0 {
		return errno
	}
	if err := d.m.core.Rmdir(ctx, p, name); err != nil {
		return d.m.toErrno("rmdir", path.Join(p, name), err)
	}
	return 0
}

func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno {
	p, errno := d.path()
	if errno != 0 {
		return errno
	}
	if err := d.m.core.Unlink(ctx, p, name, d.childFile(name)); err != nil {
		return d.m.toErrno("unlink", path.Join(p, name), err)
	}
	return 0
}

// childFile is the write state of the child file name, nil when the tree
// has no such file node.
func (d *dirNode) childFile(name string) *core.File {
	if ch := d.GetChild(name); ch != nil {
		if f, ok := ch.Operations().(*fileNode); ok {
			if s := f.st.Load(); s != nil {
				s.mu.Lock()
				defer s.mu.Unlock()
				return s.w
			}
		}
	}
	return nil
}

func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	statfs(out)
	return 0
}
