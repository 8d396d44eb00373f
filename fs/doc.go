// Package fs is the FUSE side of ftpmount: go-fuse node types that turn
// kernel requests into calls on the listing cache (package cache) and the
// FTP client (package ftpconn). It is the only package that knows FUSE.
//
// Nodes: dirNode (lookup, readdir, mkdir, create, rename, ...), fileNode
// (getattr, setattr, open) and linkNode (readlink). Each node finds its
// server path from its place in the inode tree, so renames done through the
// mount move whole subtrees for free.
//
// Reading: a read-only handle owns an ftpconn.Reader: sequential reads
// continue on one RETR stream; a jump restarts it with REST.
//
// Writing: every handle opened for writing on a file shares the file's
// spool, a local temporary file (disk, not memory). The spool is filled
// with the server's content only when something needs it (a read, a write,
// or an upload of a file that was not truncated first), so `echo x > big`
// never downloads big. Flush (every close(2), and fsync) uploads a dirty
// spool with STOR and returns only once the server confirmed it and its
// size matched: when close returns 0, the data is on the server. Flush can
// run several times for one handle (dup'ed descriptors): uploads happen only
// when the spool changed since the last one. The kernel ignores Release's
// result, so nothing is decided there: a spool still dirty at the last
// release (its upload failed) is moved to the recovery folder and logged.
//
// Errors: everything below this package speaks ftpconn's sentinel errors;
// toErrno (errno.go) is the one place they become errno values.
//
// Locks: fileNode.mu guards the node's spool state; fileNode.upMu
// serialises uploads of one file and is taken before mu. No lock is held
// across a call into the kernel.
package fs
