package fs

import "github.com/hanwen/go-fuse/v2/fuse"

// statfs reports fixed figures: FTP cannot tell free space. They are large
// enough that df shows the mount and tools that check for room before
// writing (cp, rsync, installers) go ahead; a full server answers 452/552,
// which becomes ENOSPC at close.
func statfs(out *fuse.StatfsOut) {
	const blocks = 1 << 32 // 16 TiB of 4 KiB blocks
	out.Bsize = 4096
	out.Frsize = 4096
	out.Blocks = blocks
	out.Bfree = blocks
	out.Bavail = blocks
	out.Files = 1 << 24
	out.Ffree = 1 << 24
	out.NameLen = 255
}
