package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// ErrMangledName is returned when the server stored a file under another
// name than the one asked for (pure-ftpd turns a trailing space into "_",
// Windows servers drop trailing dots and spaces). The stray file is
// removed. It is an ftpconn.ErrInvalidName (EINVAL).
var ErrMangledName = fmt.Errorf("the server stores this name under another one: %w", ftpconn.ErrInvalidName)

// replace puts bytes [0, size) of src on the server as p, the way the
// mount's Replace says: under a temporary name renamed over p once its
// size is checked, or (ReplaceInPlace) straight onto p. temp is told the
// temporary name before anything is sent, so that the journal can name
// it. stale, when not nil, is asked once the upload is over: true means
// src changed meanwhile, and the upload, which may mix two versions, is
// not renamed over p (errSuperseded).
func (c *Core) replace(ctx context.Context, p string, src io.ReaderAt, size int64, temp func(string), stale func() bool) error {
	before := c.listIfRisky(ctx, p)
	overtaken := func() bool { return stale != nil && stale() }
	if c.cfg.Replace == ReplaceInPlace {
		err := c.client.Upload(ctx, p, src, size)
		if overtaken() {
			return errSuperseded // in place: the next upload mends it
		}
		return c.checkName(ctx, p, size, before, err)
	}
	tmp := tempName(p, c.cfg.Now())
	temp(tmp)
	err := c.client.Upload(ctx, tmp, src, size)
	if err == nil && overtaken() {
		err = errSuperseded
	}
	if err != nil {
		c.removeTemp(ctx, tmp)
		return err
	}
	return c.renameOver(ctx, tmp, p, size, before)
}

// renameOver renames the checked upload tmp over p (RNFR/RNTO; RNTO onto
// an existing file replaces it on vsftpd, proftpd, pure-ftpd, pyftpdlib and
// most Unix servers), and gives p back the permission bits the listing
// showed for the old file (SITE CHMOD, where the server has it). A server that refuses to replace gets DELE p, then
// RNTO again: for that moment p does not exist. If the second RNTO fails
// too, the new content stays on the server as tmp and the error says so.
func (c *Core) renameOver(ctx context.Context, tmp, p string, size int64, before []ftpconn.Entry) error {
	mode := c.listedMode(ctx, p)
	err := c.client.Rename(ctx, tmp, p)
	if errors.Is(err, ftpconn.ErrPermission) {
		if derr := c.client.Delete(ctx, p); derr == nil {
			c.debugf("rename over %s refused; removed it and renamed again", p)
			if err = c.client.Rename(ctx, tmp, p); err != nil {
				return fmt.Errorf("%s was removed to make room for its new content, which is on the server as %s: %w", p, tmp, err)
			}
		}
	}
	if err != nil {
		c.removeTemp(ctx, tmp)
		return err
	}
	if mode != 0 {
		// The new file has the modes the server gives new files: give it
		// back the old file's permission bits where the server can.
		if err := c.client.Chmod(ctx, p, mode); err != nil && !errors.Is(err, ftpconn.ErrNotSupported) {
			c.logf("%s: its permission bits (%o) could not be kept: %v", p, mode, err)
		}
	}
	return c.checkName(ctx, p, size, before, nil)
}

// listedMode is the permission bits the listing shows for the file p (0
// when it does not exist or the server does not say).
func (c *Core) listedMode(ctx context.Context, p string) uint32 {
	e, err := c.dirs.Lookup(ctx, path.Dir(p), path.Base(p))
	if err != nil || e.Type != ftpconn.TypeFile {
		return 0
	}
	return e.Mode
}

// removeTemp deletes a temporary upload that will not be renamed.
func (c *Core) removeTemp(ctx context.Context, tmp string) {
	if err := c.client.Delete(ctx, tmp); err != nil && !errors.Is(err, ftpconn.ErrNotFound) {
		c.logf("could not remove the temporary upload %s: %v", tmp, err)
	}
}

// riskyName reports whether servers are known to store name under another
// one: leading or trailing white space (pure-ftpd: "name " becomes
// "name_"), a trailing dot, characters Windows does not allow in names.
func riskyName(name string) bool {
	return name != strings.TrimSpace(name) || strings.HasSuffix(name, ".") ||
		strings.ContainsAny(name, `\:*?"<>|`)
}

// listIfRisky lists the directory of p when p's name is risky: checkName
// compares that listing with the one after the upload.
func (c *Core) listIfRisky(ctx context.Context, p string) []ftpconn.Entry {
	if !riskyName(path.Base(p)) {
		return nil
	}
	before, err := c.client.List(ctx, path.Dir(p))
	if err != nil {
		c.debugf("list %s before uploading a risky name: %v", path.Dir(p), err)
	}
	return before
}

// checkName makes sure that, for a risky name, the upload that just ended
// (with error err) left p on the server under that very name. If the
// server stored it under another name, the stray is found (a file that was
// not in the listing before, of the size sent) and removed, and the result
// is ErrMangledName.
func (c *Core) checkName(ctx context.Context, p string, size int64, before []ftpconn.Entry, err error) error {
	dir, name := path.Dir(p), path.Base(p)
	if !riskyName(name) {
		return err
	}
	now, lerr := c.client.List(ctx, dir)
	if lerr != nil {
		return errors.Join(err, lerr)
	}
	known := map[string]bool{}
	for _, e := range before {
		known[e.Name] = true
	}
	for _, e := range now {
		if e.Name == name {
			return err
		}
	}
	for _, e := range now {
		if !known[e.Name] && e.Type == ftpconn.TypeFile && e.Size == size {
			stray := path.Join(dir, e.Name)
			if derr := c.client.Delete(ctx, stray); derr != nil {
				c.logf("%s was stored as %s, which could not be removed: %v", p, stray, derr)
			} else {
				c.logf("%s: the server stored it as %s; removed it", p, e.Name)
			}
		}
	}
	c.dirs.Invalidate(dir)
	return fmt.Errorf("%s: %w", p, ErrMangledName)
}
