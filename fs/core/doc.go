// Package core is ftpmount's write side without FUSE: what happens to a
// file between the first write and the moment the server holds the new
// content, how the server's copy is replaced, and every namespace change
// (mkdir, rmdir, unlink, rename) together with its listing-cache update
// (namespace.go). It is also the way package fs reads: lookups, directory
// snapshots and file readers are passed through to the listing cache and
// the client (read.go), so fs imports no package below core but ftpconn's
// types. Package fs translates
// kernel requests into calls here (inode identity, attributes, errno);
// nothing in this package knows FUSE, so the whole write path is tested
// directly against ftpfake, without root.
//
// # The promise
//
// No operation removes, shortens or garbles data on the server before the
// content that replaces it is there and checked (RFC 3659 SIZE, or the
// listing). Concretely:
//
//   - Truncation is not a server operation by itself. O_TRUNC at open,
//     ftruncate(2) on a writer's handle, and truncate(2) while a writer has
//     changes not closed yet change only the local spool; the server's file
//     is replaced when the new content is uploaded (close, fsync, or a
//     streamed upload). truncate(2) with no writer open, or after every
//     writer closed, is an upload of the truncated content.
//   - Replacement goes through a temporary name beside the target (see
//     tmpname.go): STOR to it, check its size, then RNFR/RNTO over the
//     target. A server that refuses to rename over an existing file gets
//     DELE then RNTO (a short window without the file; documented in the
//     README). ReplaceInPlace (-o inplace) stores onto the target instead,
//     for servers without RNFR/RNTO or quotas that can't hold two copies.
//   - Appends (the server's file is a prefix of the new content) send only
//     the new bytes with REST+STOR at the old size, which never rewrites an
//     old byte; ReplaceAtomic (-o atomic) sends them through a temporary
//     name too, so that readers never see a part of the appended bytes.
//   - A file whose last name goes (unlink, rename over) while this mount
//     has it open is renamed to a hidden temporary name and deleted at
//     its last release (unlinked.go), as on a local disk.
//   - Every spool has a journal beside it (journal.go) saying what it is:
//     the next start of ftpmount for the same server finds the spools of a
//     daemon that died (Recover) and finishes or keeps them.
//
// # Concurrency
//
// Each File has two locks. upMu serialises the uploads of one file and is
// held across the whole upload (network I/O); Unlink holds it across its
// DELE (or the RNFR/RNTO that hides an open file), a rename over a file
// holds the target's across the rename, the last release of a hidden file
// holds it across the DELE of the hidden name, and a directory rename holds the upMu of every file below the
// directory across its RNFR/RNTO (in path order), so that no upload lands
// after or under them. mu guards the spool and the upload state; it is held
// across the download that fills a spool (spool.fill), so that a write
// cannot land in bytes being fetched, and across write-back's fsync of the
// spool and its journal; it is released while an upload runs. Lock order:
// upMu, then mu; Core.qmu (the registries of files) is taken alone. No lock
// of this package is held while calling back into package fs.
package core
