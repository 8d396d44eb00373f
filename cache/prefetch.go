package cache

import (
	"context"
	"path"
)

// Prefetching: a tree walk (find, du, cp -r, rsync) lists directories one
// after another, each a round trip or more to the server; on a slow link
// that adds up. When a directory is listed, the fs layer passes its
// sibling directories here, and their listings are fetched in the
// background, prefetchParallel at a time, so that the walk finds them
// ready. A plain `ls` of one directory triggers nothing.

// prefetchParallel bounds the background listings at once, leaving
// connections for the caller's own requests.
const prefetchParallel = 2

// prefetchMax bounds how many directories one call may queue.
const prefetchMax = 64

// Prefetch fetches, in the background, the listings of dirs that are not
// cached, queued or being fetched already.
func (d *Dirs) Prefetch(dirs []string) {
	if len(dirs) > prefetchMax {
		dirs = dirs[:prefetchMax]
	}
	for _, dir := range dirs {
		if l, ok := d.lru.Peek(dir); ok && l.fresh(d.now(), d.ttl) {
			continue
		}
		d.mu.Lock()
		_, running := d.inflight[dir]
		skip := running || d.queued[dir]
		if !skip {
			d.queued[dir] = true
		}
		d.mu.Unlock()
		if skip {
			continue
		}
		go func(dir string) {
			d.prefetchSem <- struct{}{}
			defer func() { <-d.prefetchSem }()
			d.get(context.Background(), dir, d.ttl)
			d.mu.Lock()
			delete(d.queued, dir)
			d.mu.Unlock()
		}(dir)
	}
}

// SiblingDirs returns the directories beside dir, from its parent's
// cached listing (nothing when that is not cached).
func (d *Dirs) SiblingDirs(dir string) []string {
	parent := path.Dir(dir)
	l, ok := d.lru.Peek(parent)
	if !ok || dir == parent {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	l.entries.dirNames(func(name string) {
		if name != path.Base(dir) {
			out = append(out, path.Join(parent, name))
		}
	})
	return out
}
