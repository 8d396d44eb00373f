package core

import (
	"sort"
	"strings"
)

// The files of a mount that have a spool. Two things need them all: a
// directory renamed while files in it are written or uploaded
// (holdUnder), and the end of the mount (Shutdown).

// track records whether f has a spool.
func (c *Core) track(f *File, has bool) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if has {
		c.open[f] = true
	} else {
		delete(c.open, f)
	}
}

// spooled returns the files that have a spool.
func (c *Core) spooled() []*File {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	files := make([]*File, 0, len(c.open))
	for f := range c.open {
		files = append(files, f)
	}
	return files
}

// holdUnder stops the streamed uploads of the files below dir and waits
// for their uploads in flight, and keeps further uploads of them from
// starting until release is called: their STORs and renames name paths
// below dir, which a rename of dir would pull away under them (leaving a
// temporary file in the moved directory, or failing the upload).
func (c *Core) holdUnder(dir string) (release func()) {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	type held struct {
		p string
		f *File
	}
	var hs []held
	for _, f := range c.spooled() {
		if p, ok := f.path(); ok && strings.HasPrefix(p, prefix) {
			hs = append(hs, held{p, f})
		}
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].p < hs[j].p }) // one lock order
	for _, h := range hs {
		h.f.StopStream()
		h.f.upMu.Lock()
	}
	return func() {
		for _, h := range hs {
			h.f.upMu.Unlock()
		}
	}
}

// Shutdown ends the mount's write side, after the kernel has let go
// (every handle released or the connection gone) and WaitUploads: a spool
// whose content is on the server is removed with its journal; one that is
// not (a handle the kernel never released, an upload that failed) goes to
// the recovery folder, logged. Nothing is left for Recover to mistake for
// a crash. The temporary names of unlinked files still open are deleted.
func (c *Core) Shutdown() {
	defer c.dropHidden()
	for _, f := range c.spooled() {
		f.mu.Lock()
		sp := f.sp
		f.sp, f.writers = nil, 0
		f.abandonStream()
		f.mu.Unlock()
		c.track(f, false)
		if sp == nil {
			continue
		}
		p, ok := f.path()
		if !sp.dirty || f.gone || !ok {
			sp.discard()
			continue
		}
		if where, err := sp.keep(c.cfg.RecoverDir, p, c.cfg.Now()); err != nil {
			c.logf("at unmount %s had changes the server does not have, and they could not be kept: %v", p, err)
		} else {
			c.logf("at unmount %s had changes the server does not have: kept in %s", p, where)
		}
	}
}
