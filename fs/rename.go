package fs

import (
	"context"
	"errors"
	"path"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// renameNoReplace and renameExchange are renameat2(2) flags.
const (
	renameNoReplace = 0x1
	renameExchange  = 0x2
)

// Rename maps to RNFR/RNTO. POSIX semantics FTP does not give by itself are
// made up here: a file being written is uploaded first (RNFR needs it on the
// server); an empty directory target is removed first; a server that refuses
// to overwrite a file target gets the target deleted and the rename again
// (not atomic, documented). Cached listings follow the move.
func (d *dirNode) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if errno := checkName(newName); errno != 0 {
		return errno
	}
	if flags&renameExchange != 0 {
		return syscall.EINVAL
	}
	dp, errno := d.path()
	if errno != 0 {
		return errno
	}
	np, ok := d.m.remotePath(newParent.EmbeddedInode())
	if !ok {
		return syscall.ENOENT
	}
	from, to := path.Join(dp, name), path.Join(np, newName)
	src, err := d.m.dirs.Lookup(ctx, dp, name)
	if err != nil {
		return d.m.toErrno("rename", from, err)
	}
	if from == to {
		return 0
	}
	dst, derr := d.m.dirs.Lookup(ctx, np, newName)
	exists := derr == nil
	if exists {
		switch {
		case flags&renameNoReplace != 0:
			return syscall.EEXIST
		case src.Type == ftpconn.TypeDir && dst.Type != ftpconn.TypeDir:
			return syscall.ENOTDIR
		case src.Type != ftpconn.TypeDir && dst.Type == ftpconn.TypeDir:
			return syscall.EISDIR
		case dst.Type == ftpconn.TypeDir:
			if err := d.m.client.Rmdir(ctx, to); err != nil {
				return d.m.toErrno("rename", to, err)
			}
			d.m.dirs.Remove(np, newName)
		}
	}
	if ch := d.GetChild(name); ch != nil {
		if f, ok := ch.Operations().(*fileNode); ok {
			if err := f.w.Flush(ctx); err != nil {
				return d.m.toErrno("rename", from, err)
			}
		}
	}
	err = d.m.client.Rename(ctx, from, to)
	if errors.Is(err, ftpconn.ErrPermission) && exists && dst.Type != ftpconn.TypeDir {
		if derr := d.m.client.Delete(ctx, to); derr == nil {
			err = d.m.client.Rename(ctx, from, to)
		}
	}
	if err != nil {
		return d.m.toErrno("rename", from+" -> "+to, err)
	}
	d.m.dirs.Remove(dp, name)
	src.Name = newName
	d.m.dirs.Put(np, src)
	if src.Type == ftpconn.TypeDir {
		d.m.dirs.Invalidate(from, true)
		d.m.dirs.Invalidate(to, true)
	}
	return 0
}
