package core

import (
	"context"
	"time"

	"github.com/ftpmount/ftpmount/cache"
	"github.com/ftpmount/ftpmount/ftpconn"
)

// The read side: lookups, directory snapshots and file reads. They are
// passed through to the listing cache and the client unchanged, so that
// package fs reaches the server only through Core and imports neither
// cache nor ftpconn's client (only ftpconn's types).

// Snapshot is a directory's entries at one moment (cache.Snapshot): what
// one readdir serves.
type Snapshot = cache.Snapshot

// NewCached is New over a listing cache of its own: listings of client
// with the temporary names of uploads left out (hide.go), trusted for
// dirTTL. cfg.Now, cfg.Logf and cfg.Background are the cache's too.
func NewCached(client ftpconn.Client, dirTTL time.Duration, cfg Config) (*Core, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := HideTemp(client, cfg.Now, cfg.Logf).(*hidingClient)
	dirs := cache.NewDirs(h, cache.DirsConfig{TTL: dirTTL, Now: cfg.Now, Background: cfg.Background})
	c, err := New(client, dirs, cfg)
	if err != nil {
		return nil, err
	}
	h.ours = c.holdsTemp // not stale, however old: this mount still uses it
	return c, nil
}

// SeedListing puts a listing of dir just fetched (entries, in any order)
// into the cache, without temporary names.
func (c *Core) SeedListing(dir string, entries []ftpconn.Entry) {
	c.dirs.SetListing(dir, WithoutTemp(entries))
}

// Lookup finds name in dir (cache.Dirs.Lookup); ftpconn.ErrNotFound when
// it is not there.
func (c *Core) Lookup(ctx context.Context, dir, name string) (ftpconn.Entry, error) {
	return c.dirs.Lookup(ctx, dir, name)
}

// FreshUntil is when the cached listing of dir goes stale, zero when there
// is none or it holds files being written (cache.Dirs.FreshUntil).
func (c *Core) FreshUntil(dir string) time.Time { return c.dirs.FreshUntil(dir) }

// ListingVersion is the version of dir's cached listing while it is fresh,
// else 0 (cache.Dirs.Version).
func (c *Core) ListingVersion(dir string) uint64 { return c.dirs.Version(dir) }

// Snapshot returns the entries of dir from a listing no older than the
// TTL (cache.Dirs.Snapshot).
func (c *Core) Snapshot(ctx context.Context, dir string) (*Snapshot, error) {
	return c.dirs.Snapshot(ctx, dir)
}

// PrefetchSiblings fetches, in the background, the listings of the
// directories beside dir that its parent's cached listing names (for a
// tree walk; cache/prefetch.go).
func (c *Core) PrefetchSiblings(dir string) { c.dirs.Prefetch(c.dirs.SiblingDirs(dir)) }

// OpenReader prepares ranged reads of the server file p, expected to be
// size bytes long (see ftpconn.Client.OpenReader).
func (c *Core) OpenReader(p string, size int64) ftpconn.Reader { return c.client.OpenReader(p, size) }

// ModTime asks the server for p's modification time (MDTM), to the second.
func (c *Core) ModTime(ctx context.Context, p string) (time.Time, error) {
	return c.client.ModTime(ctx, p)
}
