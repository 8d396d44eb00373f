package fs

import (
	"context"
	"path"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"

	"github.com/ftpmount/ftpmount/fs/core"
)

// renameNoReplace and renameExchange are renameat2(2) flags.
const (
	renameNoReplace = 0x1
	renameExchange  = 0x2
)

// Rename maps to RNFR/RNTO (core.Rename says how POSIX's rules are kept).
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
	var dst *core.File // the target's write state: it loses its name
	if nd, ok := newParent.(*dirNode); ok {
		dst = nd.childFile(newName)
	}
	err := d.m.core.Rename(ctx, dp, name, np, newName, flags&renameNoReplace != 0, d.childFile(name), dst)
	if err != nil {
		return d.m.toErrno("rename", path.Join(dp, name)+" -> "+path.Join(np, newName), err)
	}
	return 0
}
