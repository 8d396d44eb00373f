package fs

import (
	"fmt"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ftpmount/ftpmount/fs/core"
	"github.com/ftpmount/ftpmount/ftpconn"
)

// Options configure one mount.
type Options struct {
	Root        string        // server directory shown at the mount point ("/" by default)
	DirTTL      time.Duration // how long a listing is trusted
	KernelTTL   time.Duration // entry/attribute timeout given to the kernel
	UID, GID    uint32        // owner shown for every file
	FileMode    uint32        // permission bits of files (default 0644)
	DirMode     uint32        // permission bits of directories (default 0755)
	SpoolDir    string        // where write spools live (default os.TempDir())
	RecoverDir  string        // where spools of failed uploads are kept
	FsName      string        // shown in the mount table; must not hold a password
	AllowOther  bool
	ReadOnly    bool // mount read-only: the kernel answers EROFS to writes
	DefaultPerm bool // default_permissions: the kernel enforces the modes shown
	// Replace says how new content takes the place of a file (see
	// package core): a temporary name renamed over it by default.
	Replace core.Replace
	// Server names the server and account without the password: the
	// crash journals of spools carry it (core.Config.Server).
	Server string
	// Streams is how many uploads may run while their files are still
	// being written (see core/stream.go); 0: none, every upload starts at close.
	Streams int
	// Writeback, above 0, makes close return once the content is durable
	// in the spool, with that many uploads in the background at once
	// (core/writeback.go).
	Writeback int
	// Background is how many listings may be fetched at once for no
	// caller (prefetches of a tree walk, refreshes ahead); 0: the
	// cache's default.
	Background  int
	ReadaheadKB int // the kernel's readahead for the mount (root only); 0 leaves it alone
	// RootListing, when not nil, is a listing of Root the caller just
	// fetched (to check the mount): it seeds the cache.
	RootListing []ftpconn.Entry
	FuseDebug   bool // log every FUSE request (very verbose)
	Logf        func(format string, args ...any)
	Debugf      func(format string, args ...any) // nil unless -o debug
	Now         func() time.Time
}

// Replace says how new content takes a file's place (core.Replace).
type Replace = core.Replace

// The ways of Replace (see core).
const (
	ReplaceSafe    = core.ReplaceSafe
	ReplaceAtomic  = core.ReplaceAtomic
	ReplaceInPlace = core.ReplaceInPlace
)

// mount is the state shared by all nodes of one mount.
type mount struct {
	opts    Options
	core    *core.Core // listings, reads and the write side
	mounted time.Time  // shown as the root's times: the root has no listing entry of its own
}

// Mount mounts the server behind client at mountpoint. The caller serves
// until the returned server's Wait returns, then calls WaitUploads.
func Mount(mountpoint string, client ftpconn.Client, o Options) (*Server, error) {
	o = o.withDefaults()
	m := &mount{opts: o, mounted: o.Now()}
	// Listings leave out the temporary names of uploads (core/hide.go).
	var err error
	m.core, err = core.NewCached(client, o.DirTTL, core.Config{
		Server:     o.Server,
		SpoolDir:   o.SpoolDir,
		RecoverDir: o.RecoverDir,
		Replace:    o.Replace,
		Streams:    o.Streams,
		Writeback:  o.Writeback,
		Background: o.Background,
		Logf:       o.Logf,
		Debugf:     o.Debugf,
		Now:        o.Now,
	})
	if err != nil {
		return nil, err
	}
	if o.RootListing != nil {
		m.core.SeedListing(o.Root, o.RootListing)
	}
	root := &dirNode{m: m}
	kt := o.KernelTTL
	fopts := &gofs.Options{
		RootStableAttr:  &gofs.StableAttr{Ino: 1, Mode: syscall.S_IFDIR}, // else stat shows inode 0
		EntryTimeout:    &kt,
		AttrTimeout:     &kt,
		NegativeTimeout: &kt,
		UID:             o.UID,
		GID:             o.GID,
		MountOptions: fuse.MountOptions{
			FsName:        o.FsName,
			Name:          "ftpmount",
			AllowOther:    o.AllowOther,
			MaxWrite:      1 << 20,
			MaxReadAhead:  1 << 20,
			DisableXAttrs: true,
			DirectMount:   os.Geteuid() == 0,
			Debug:         o.FuseDebug,
		},
	}
	if o.ReadOnly {
		fopts.MountOptions.Options = append(fopts.MountOptions.Options, "ro")
	}
	if o.DefaultPerm {
		fopts.MountOptions.Options = append(fopts.MountOptions.Options, "default_permissions")
	}
	srv, err := gofs.Mount(mountpoint, root, fopts)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", mountpoint, err)
	}
	if o.ReadaheadKB > 0 {
		if err := setReadahead(mountpoint, o.ReadaheadKB); err != nil {
			m.debugf("readahead of %d KiB not set: %v", o.ReadaheadKB, err)
		}
	}
	// Spools a dead daemon of this server left behind are finished or
	// kept, in the background (each case is logged).
	if o.Server != "" {
		m.core.StartRecover()
	}
	return &Server{Server: srv, m: m}, nil
}

// Server is a running mount.
type Server struct {
	*fuse.Server
	m *mount
}

// WaitUploads blocks until uploads in flight have ended.
func (s *Server) WaitUploads() { s.m.core.WaitUploads() }

// Shutdown ends the write side once the mount is gone and WaitUploads has
// returned: spools left by handles the kernel never released are removed,
// or kept in the recovery folder when the server lacks their content.
func (s *Server) Shutdown() { s.m.core.Shutdown() }

func (o Options) withDefaults() Options {
	if o.Root == "" {
		o.Root = "/"
	}
	if o.FileMode == 0 {
		o.FileMode = 0o644
	}
	if o.DirMode == 0 {
		o.DirMode = 0o755
	}
	if o.SpoolDir == "" {
		o.SpoolDir = os.TempDir()
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FsName == "" {
		o.FsName = "ftpmount"
	}
	return o
}

func (m *mount) logf(format string, args ...any) { m.opts.Logf(format, args...) }

func (m *mount) debugf(format string, args ...any) {
	if m.opts.Debugf != nil {
		m.opts.Debugf(format, args...)
	}
}

// remotePath is the server path of an inode. ok is false for an inode that
// is no longer in the tree (unlinked): it has no path, and nothing may be
// sent to the server in its name.
func (m *mount) remotePath(in *gofs.Inode) (string, bool) {
	if in.IsRoot() {
		return m.opts.Root, true
	}
	if name, parent := in.Parent(); parent == nil || name == "" {
		return "", false
	}
	return path.Join(m.opts.Root, in.Path(nil)), true
}

// maxNameLen is the longest name accepted (statfs says so too). FUSE
// itself lets names up to 1024 bytes through.
const maxNameLen = 255

// checkName refuses names FTP cannot carry (CR and LF end a command) and
// names longer than maxNameLen.
func checkName(name string) syscall.Errno {
	if len(name) > maxNameLen {
		return syscall.ENAMETOOLONG
	}
	if strings.ContainsAny(name, "\r\n") {
		return syscall.EINVAL
	}
	return 0
}

// fillAttr fills out from a listing entry.
func (m *mount) fillAttr(e ftpconn.Entry, out *fuse.Attr) {
	switch e.Type {
	case ftpconn.TypeDir:
		out.Mode = syscall.S_IFDIR | m.modeOf(e, m.opts.DirMode)
		out.Nlink = 2
	case ftpconn.TypeSymlink:
		out.Mode = syscall.S_IFLNK | 0o777
		out.Nlink = 1
	default:
		out.Mode = syscall.S_IFREG | m.modeOf(e, m.opts.FileMode)
		out.Nlink = 1
	}
	out.Size = uint64(e.Size)
	out.Blocks = (out.Size + 511) / 512
	out.Blksize = 1 << 16
	if !e.ModTime.IsZero() {
		out.SetTimes(&e.ModTime, &e.ModTime, &e.ModTime) // FTP keeps no access time
	}
	out.Uid, out.Gid = m.opts.UID, m.opts.GID
}

// stableMode is the file type bits for go-fuse's StableAttr.
func stableMode(t ftpconn.EntryType) uint32 {
	switch t {
	case ftpconn.TypeDir:
		return syscall.S_IFDIR
	case ftpconn.TypeSymlink:
		return syscall.S_IFLNK
	}
	return syscall.S_IFREG
}
