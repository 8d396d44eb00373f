// Package fs is the FUSE side of ftpmount: go-fuse node types that turn
// kernel requests into calls on the write side (package fs/core: spools,
// uploads, namespace changes) and the listing cache (package cache). It is
// the only package that knows FUSE; it calls the server only through core,
// and uses ftpconn for its types.
//
// Nodes: dirNode (lookup, readdir, mkdir, create, rename, ...), fileNode
// (getattr, setattr, open) and linkNode (readlink). Each node finds its
// server path from its place in the inode tree, so renames done through the
// mount move whole subtrees for free, and a file's write state (core.File)
// asks its node for the path each time.
//
// Reading: a read-only handle owns an ftpconn.Reader: sequential reads
// continue on one RETR stream; a jump restarts it with REST. The kernel's
// page cache is kept across opens only while the file is known unchanged
// (pagecache.go).
//
// Writing: every handle opened for writing on a file shares the file's
// core.File; package core says what happens until the server has the new
// content (spool, temporary name, size check, rename, crash journal).
// Flush (every close(2), and fsync) uploads; the kernel ignores Release's
// result, so nothing is decided there.
//
// Errors: everything below this package speaks sentinel errors (ftpconn's,
// and core's ErrNotDir, ErrIsDir, ErrNotOpen); toErrno (errno.go) is the one
// place they become errno values, once per handler.
//
// Locks: fileNode.mu guards the node's mode and page-cache state; core.File
// has its own (see package core). No lock is held across a call into the
// kernel.
package fs
