package core

import (
	"context"
	"path"
	"time"
)

// SetTime sets the modification time of p on the server (MFMT, or
// vsftpd's MDTM) and in the listing cache. Where the server refuses, the
// time is still shown while p stays as the server lists it now (see
// cache.KeepTime); nothing fails: tar, cp -p and rsync must go on.
func (c *Core) SetTime(ctx context.Context, p string, t time.Time) {
	dir, name := path.Dir(p), path.Base(p)
	err := c.client.SetTime(ctx, p, t)
	if err == nil {
		if e, lerr := c.dirs.Lookup(ctx, dir, name); lerr == nil {
			c.dirs.SetTime(dir, name, t, e.Size)
		}
		return
	}
	c.debugf("set time of %s: %v (kept in this mount only)", p, err)
	c.dirs.Invalidate(dir) // the server's time of p, as it is now
	if e, lerr := c.dirs.Lookup(ctx, dir, name); lerr == nil {
		c.dirs.KeepTime(dir, e, t)
	}
}
