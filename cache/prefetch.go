package cache

import (
	"context"
	"path"
	"slices"
)

// Prefetching: a tree walk (find, du, cp -r, rsync) lists directories one
// after another, each a round trip or more to the server; on a slow link
// that adds up. When a directory is listed, the fs layer passes the
// directories after it in its parent (by name, the order readdir gives
// and walkers follow) here, and their listings are fetched in the
// background, DirsConfig.Background at a time, so that the walk finds them
// ready. A plain `ls` of one directory triggers nothing.
//
// Only the next prefetchAhead siblings are fetched, not all of them:
// with all, each directory listed queued its whole family again, and on
// a slow link (a LIST of vsftpd costs three round trips) the prefetches
// ran so far ahead of the walk that their listings went stale before it
// came, and were fetched again for the next sibling's sake, behind the
// ones the walk was waiting for: `find` over 100 directories at 40 ms
// round trip listed 163 times and took 9.4 s.

// defaultBackground bounds the background listings at once when
// DirsConfig.Background does not, maxBackground in any case (ftpmount
// gives one less than its connections, leaving one for the caller's own
// requests). The walker mostly waits for the listing of the directory it
// has reached, so three at a time make the walk about three times as
// fast as one listing after another; with two, `find` over 100
// directories at 40 ms round trip took 7.1 s, with three 5.0-5.2 s.
const defaultBackground = 2

// maxBackground is the most background listings worth running at once.
const maxBackground = 3

// prefetchMax bounds how many directories one call may queue.
const prefetchMax = 64

// prefetchAhead is how many siblings after a listed directory are
// prefetched: at maxBackground at a time, enough to keep ahead of a
// walker that spends no time of its own per directory.
const prefetchAhead = 8

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

// SiblingDirs returns the next prefetchAhead directories after dir in
// its parent, by name, from the parent's cached listing (nothing when
// that is not cached).
func (d *Dirs) SiblingDirs(dir string) []string {
	parent := path.Dir(dir)
	l, ok := d.lru.Peek(parent)
	if !ok || dir == parent {
		return nil
	}
	base := path.Base(dir)
	var names []string
	l.mu.Lock()
	l.entries.dirNames(func(name string) {
		if name > base {
			names = append(names, name)
		}
	})
	l.mu.Unlock()
	slices.Sort(names) // entries added since the listing come last
	out := make([]string, 0, min(len(names), prefetchAhead))
	for _, name := range names[:min(len(names), prefetchAhead)] {
		out = append(out, path.Join(parent, name))
	}
	return out
}
