package core

import (
	"context"
	"errors"
	"path"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// Namespace changes. Each method makes one change on the server and
// records it in the listing cache, so that the mount sees its own change at
// once and no caller patches the cache by hand.

// Errors of namespace changes that are no server reply (package fs maps
// them to ENOTDIR and EISDIR).
var (
	ErrNotDir = errors.New("not a directory")
	ErrIsDir  = errors.New("is a directory")
)

// Mkdir makes the directory name in dir (MKD) and records it, empty.
func (c *Core) Mkdir(ctx context.Context, dir, name string) (ftpconn.Entry, error) {
	p := path.Join(dir, name)
	if err := c.client.Mkdir(ctx, p); err != nil {
		return ftpconn.Entry{}, err
	}
	e := ftpconn.Entry{Name: name, Type: ftpconn.TypeDir, ModTime: c.cfg.Now()}
	c.dirs.Put(dir, e)
	c.dirs.SetListing(p, nil) // a new directory is empty: no need to ask
	return e, nil
}

// Rmdir removes the directory name from dir (RMD) and forgets the
// listings of it and below it. Files unlinked while open and kept in it
// under temporary names (unlinked.go) are deleted when RMD refuses.
func (c *Core) Rmdir(ctx context.Context, dir, name string) error {
	p := path.Join(dir, name)
	err := c.client.Rmdir(ctx, p)
	if err != nil && c.onlyHidden(ctx, p) && c.dropHiddenIn(ctx, p) {
		err = c.client.Rmdir(ctx, p) // it held only files unlinked while open
	}
	if err != nil {
		return err
	}
	c.dirs.Remove(dir, name)
	c.dirs.InvalidateTree(p)
	return nil
}

// Unlink deletes the file name from dir (DELE). f, when not nil, is the
// file's write state: its streamed upload is stopped and its upload in
// flight waited for first (neither may land after the DELE), and its
// pending writes are dropped after. A file with open handles is moved to
// a temporary name instead of deleted, read from there until its last
// release (unlinked.go).
func (c *Core) Unlink(ctx context.Context, dir, name string, f *File) error {
	p := path.Join(dir, name)
	if f != nil {
		f.StopStream()
		// An upload in flight (a close's, or write-back's in the
		// background) would rename its content over p after the DELE:
		// wait for it, and let none start after.
		f.upMu.Lock()
		defer f.upMu.Unlock()
	}
	pending := c.dirs.IsPending(dir, name)
	if f == nil || pending || !f.hide(ctx, p) {
		err := c.client.Delete(ctx, p)
		if errors.Is(err, ftpconn.ErrNotFound) && pending {
			err = nil // created here and not uploaded yet: nothing on the server
		}
		if err != nil {
			return err
		}
	}
	if f != nil {
		f.Unlinked()
	}
	c.dirs.ClearPending(dir, name)
	c.dirs.Remove(dir, name)
	return nil
}

// onlyHidden reports whether the directory p lists nothing: RMD refused
// it for the temporary names it holds, if any (listings leave them out).
func (c *Core) onlyHidden(ctx context.Context, p string) bool {
	snap, err := c.dirs.Snapshot(ctx, p)
	return err == nil && snap.Len() == 0
}

// Rename moves name in dir to newName in newDir (RNFR/RNTO), with the
// POSIX rules FTP does not give by itself: a file being written (f, when
// not nil) is uploaded first, since RNFR needs it on the server; an empty
// directory target is removed first; a server that refuses to overwrite a
// file target gets the target deleted and the rename again (not atomic,
// documented). A file target (its write state dstF, when not nil) loses
// its name as in Unlink: its uploads are waited for and stopped, and if
// handles have it open it is first moved to a temporary name, read from
// there until its last release. With noReplace an existing target is
// ErrExists. Cached listings follow the move.
func (c *Core) Rename(ctx context.Context, dir, name, newDir, newName string, noReplace bool, f, dstF *File) error {
	from, to := path.Join(dir, name), path.Join(newDir, newName)
	src, err := c.dirs.Lookup(ctx, dir, name)
	if err != nil {
		return err
	}
	if from == to {
		return nil
	}
	dst, derr := c.dirs.Lookup(ctx, newDir, newName)
	exists := derr == nil
	if exists {
		switch {
		case noReplace:
			return ftpconn.ErrExists
		case src.Type == ftpconn.TypeDir && dst.Type != ftpconn.TypeDir:
			return ErrNotDir
		case src.Type != ftpconn.TypeDir && dst.Type == ftpconn.TypeDir:
			return ErrIsDir
		case dst.Type == ftpconn.TypeDir:
			if err := c.Rmdir(ctx, newDir, newName); err != nil {
				return err
			}
		}
	}
	if f != nil {
		if err := f.Flush(ctx); err != nil {
			return err
		}
	}
	if src.Type == ftpconn.TypeDir {
		defer c.holdUnder(from)()
	}
	hidden := false
	if exists && dst.Type != ftpconn.TypeDir && dstF != nil && dstF != f {
		// The target's own upload must not land over the renamed file.
		dstF.StopStream()
		dstF.upMu.Lock()
		defer dstF.upMu.Unlock()
		hidden = !c.dirs.IsPending(newDir, newName) && dstF.hide(ctx, to)
	}
	err = c.client.Rename(ctx, from, to)
	if errors.Is(err, ftpconn.ErrPermission) && exists && dst.Type != ftpconn.TypeDir && !hidden {
		err = c.renameOverRefused(ctx, from, to)
	}
	if err != nil {
		if hidden {
			dstF.unhide(ctx, to)
		}
		return err
	}
	if exists && dst.Type != ftpconn.TypeDir {
		if dstF != nil && dstF != f {
			dstF.Unlinked()
		}
		c.dirs.ClearPending(newDir, newName) // a target created here and not uploaded
	}
	c.dirs.Remove(dir, name)
	src.Name = newName
	c.dirs.Put(newDir, src)
	c.dirs.MoveTime(from, to)
	if src.Type == ftpconn.TypeDir {
		c.dirs.InvalidateTree(from)
		c.dirs.InvalidateTree(to)
		c.moveHidden(from, to)
	}
	return nil
}

// renameOverRefused renames from to to on a server that refused to
// rename over the existing file to: the target is moved aside to a
// temporary name first, and deleted once the rename went through, or put
// back when it did not (the refusal had another cause). Where even that
// is refused, the target is deleted before the rename, as before: for
// that moment neither exists.
func (c *Core) renameOverRefused(ctx context.Context, from, to string) error {
	aside := tempName(to, c.cfg.Now())
	if err := c.client.Rename(ctx, to, aside); err != nil {
		if derr := c.client.Delete(ctx, to); derr != nil {
			return derr
		}
		return c.client.Rename(ctx, from, to)
	}
	if err := c.client.Rename(ctx, from, to); err != nil {
		if berr := c.client.Rename(ctx, aside, to); berr != nil {
			c.logf("%s could not be put back from %s after a failed rename over it: %v", to, aside, berr)
		}
		return err
	}
	c.removeTemp(ctx, aside)
	return nil
}

// Chmod sets p's permission bits on the server (SITE CHMOD) and, when the
// server took them, in the listing cache. ErrNotSupported where the server
// has no SITE CHMOD.
func (c *Core) Chmod(ctx context.Context, p string, mode uint32) error {
	if err := c.client.Chmod(ctx, p, mode); err != nil {
		return err
	}
	dir, name := path.Dir(p), path.Base(p)
	if e, err := c.dirs.Lookup(ctx, dir, name); err == nil {
		e.Mode = mode
		c.dirs.Put(dir, e)
	}
	return nil
}

// Symlink makes name in dir a symbolic link to target (SITE SYMLINK) and
// records it. ErrNotSupported where the server cannot.
func (c *Core) Symlink(ctx context.Context, dir, name, target string) (ftpconn.Entry, error) {
	if err := c.client.Symlink(ctx, target, path.Join(dir, name)); err != nil {
		return ftpconn.Entry{}, err
	}
	e := ftpconn.Entry{Name: name, Type: ftpconn.TypeSymlink, Target: target, Size: int64(len(target)), ModTime: c.cfg.Now()}
	c.dirs.Put(dir, e)
	return e, nil
}

// Created records a file made in dir that is not on the server before its
// first upload: listings show it (pending) until then.
func (c *Core) Created(dir string, e ftpconn.Entry) { c.dirs.SetPending(dir, e) }
