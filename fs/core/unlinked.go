package core

import (
	"context"
	"path"
	"strings"
	"time"
)

// Files unlinked while open. On a local disk a file whose last name is
// removed lives on, nameless, until its last descriptor is closed: reads
// go on, writes land (and are dropped at the end), fstat answers. FTP has
// no nameless files, so ftpmount does what NFS clients do ("silly
// rename"): when the last name of a file with open handles goes (unlink,
// or a rename over it) through this mount, the file is renamed on the
// server to a temporary name of ours (tmpname.go) instead of deleted.
//
//   - Listings leave such names out (hide.go), so the old name vanishes at
//     once, and a new file may be made under it meanwhile.
//   - The open handles read from the temporary name (Source); writes go
//     to the spool as before and are never uploaded (gone).
//   - The last handle's release (Closed) deletes the temporary name.
//   - A journal in the spool folder says "unlinked" and names the
//     temporary file (setHidden), and so does the spool's own, if the file
//     has one: after a crash Recover removes the temporary file and drops
//     the spool, and uploads nothing.
//   - A server that refuses the rename gets DELE, as before: handles then
//     read on only while their RETR is open. So does a hidden file whose
//     directory is removed (RMD needs it empty; rm -r must work).
//   - A rename of the directory moves the temporary name with it.
//
// The handles are counted by package fs (Opened at each open, Closed at
// each release); a file nobody has open is deleted at once.

// hideTimeout bounds the DELE of a hidden file at its last release and
// at unmount: a stalled server must not hold up the kernel's RELEASE.
const hideTimeout = time.Minute

// Opened counts one more open handle of the file, for reading or writing.
func (f *File) Opened() {
	f.mu.Lock()
	f.handles++
	f.mu.Unlock()
}

// Closed drops one open handle. The last one of a file hidden by an
// unlink deletes its temporary name on the server.
func (f *File) Closed() {
	f.mu.Lock()
	f.handles--
	last := f.handles == 0 && f.hidden != ""
	f.mu.Unlock()
	if !last {
		return
	}
	// upMu: an unlink or rename hiding or restoring the file is over.
	f.upMu.Lock()
	defer f.upMu.Unlock()
	f.mu.Lock()
	tmp, mark := "", (*spool)(nil)
	if f.handles == 0 {
		tmp, mark = f.hidden, f.mark
		f.hidden, f.mark = "", nil
	}
	f.mu.Unlock()
	if tmp == "" {
		return
	}
	f.c.hiding(f, false)
	ctx, cancel := context.WithTimeout(context.Background(), hideTimeout)
	defer cancel()
	f.c.removeTemp(ctx, tmp)
	if mark != nil {
		mark.discard() // only now: a crash before the DELE leaves it for Recover
	}
}

// Source is where the file's bytes are read on the server: its
// temporary name once hidden, else its path ("" when it has none).
func (f *File) Source() string {
	f.mu.Lock()
	hidden := f.hidden
	f.mu.Unlock()
	if hidden != "" {
		return hidden
	}
	if p, ok := f.path(); ok {
		return p
	}
	return ""
}

// source is Source with f.mu held.
func (f *File) source() string {
	if f.hidden != "" {
		return f.hidden
	}
	if p, ok := f.path(); ok {
		return p
	}
	return ""
}

// hide moves the file from p, its name about to go (an unlink, a rename
// over it), to a temporary name when handles have it open. It reports
// whether p is gone from the server now; false when nobody has the file
// open or the server refused (the caller deletes p as before). Needs
// f.upMu held.
func (f *File) hide(ctx context.Context, p string) bool {
	f.mu.Lock()
	open := f.handles > 0
	f.mu.Unlock()
	if !open {
		return false
	}
	tmp := tempName(p, f.c.cfg.Now())
	if err := f.c.client.Rename(ctx, p, tmp); err != nil {
		f.c.debugf("%s is open: keeping it as %s failed (%v); deleting it instead", p, tmp, err)
		return false
	}
	f.mu.Lock()
	if f.handles == 0 { // the last handle went meanwhile
		f.mu.Unlock()
		f.c.removeTemp(ctx, tmp)
		return true
	}
	f.setHidden(tmp)
	f.mu.Unlock()
	f.c.hiding(f, true)
	f.c.debugf("%s is open: kept as %s until its last close", p, tmp)
	return true
}

// unhide puts a file hidden from p back (a rename over p that failed
// after hiding it). Needs f.upMu held.
func (f *File) unhide(ctx context.Context, p string) {
	f.mu.Lock()
	tmp := f.hidden
	f.setHidden("")
	f.mu.Unlock()
	if tmp == "" {
		return
	}
	f.c.hiding(f, false)
	if err := f.c.client.Rename(ctx, tmp, p); err != nil {
		f.c.logf("%s could not be put back from %s after a failed rename over it: %v", p, tmp, err)
	}
}

// setHidden records tmp as the temporary name the file is kept under ("":
// none), and keeps a journal that says so in the spool folder (an empty,
// locked spool with a journal in state unlinked): if the daemon dies, the
// next Recover of the server removes tmp. Needs f.mu held.
func (f *File) setHidden(tmp string) {
	f.hidden = tmp
	if tmp == "" {
		if f.mark != nil {
			f.mark.discard()
			f.mark = nil
		}
		return
	}
	if f.mark == nil {
		mark, err := newSpool(f.c.cfg.SpoolDir)
		if err != nil {
			f.c.logf("%v (a crash now would leave %s on the server for a day)", err, tmp)
			return
		}
		f.mark = mark
	}
	target, _ := TempTarget(tmp)
	f.mark.jr = journal{Server: f.c.cfg.Server, Path: target, State: stateUnlinked, Temp: tmp}
	if err := f.mark.save(f.c.cfg.Now()); err != nil {
		f.c.logf("%v (a crash now would leave %s on the server for a day)", err, tmp)
	}
}

// hiding records whether f has a hidden temporary name (for Shutdown).
func (c *Core) hiding(f *File, has bool) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if has {
		c.hidden[f] = true
	} else {
		delete(c.hidden, f)
	}
}

// holdsTemp reports whether p is the temporary name of a file this mount
// keeps open (hide.go must not remove it as stale, however old).
func (c *Core) holdsTemp(p string) bool {
	for _, f := range c.hiddenFiles() {
		f.mu.Lock()
		held := f.hidden == p
		f.mu.Unlock()
		if held {
			return true
		}
	}
	return false
}

// hiddenFiles returns the files kept under a temporary name.
func (c *Core) hiddenFiles() []*File {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	files := make([]*File, 0, len(c.hidden))
	for f := range c.hidden {
		files = append(files, f)
	}
	return files
}

// moveHidden follows a rename of the directory from to to: files kept
// under a temporary name below it are read from their new place.
func (c *Core) moveHidden(from, to string) {
	prefix := strings.TrimSuffix(from, "/") + "/"
	for _, f := range c.hiddenFiles() {
		f.mu.Lock()
		if strings.HasPrefix(f.hidden, prefix) {
			f.setHidden(path.Join(to, strings.TrimPrefix(f.hidden, prefix)))
		}
		f.mu.Unlock()
	}
}

// dropHiddenIn deletes the temporary names of open, unlinked files kept
// in dir, so that dir can be removed (RMD refuses a directory that is not
// empty), and reports whether there were any. Their handles then read on
// only while their RETR is open, as where the server refuses renames.
func (c *Core) dropHiddenIn(ctx context.Context, dir string) bool {
	dropped := false
	for _, f := range c.hiddenFiles() {
		f.upMu.Lock()
		f.mu.Lock()
		tmp := f.hidden
		in := tmp != "" && path.Dir(tmp) == dir
		if in {
			f.setHidden("")
		}
		f.mu.Unlock()
		if in {
			c.hiding(f, false)
			c.removeTemp(ctx, tmp)
			dropped = true
		}
		f.upMu.Unlock()
	}
	return dropped
}

// dropHidden deletes the temporary names of unlinked files still open at
// the end of the mount (the kernel released no handle of them).
func (c *Core) dropHidden() {
	for _, f := range c.hiddenFiles() {
		c.hiding(f, false)
		f.mu.Lock()
		tmp, mark := f.hidden, f.mark
		f.hidden, f.mark = "", nil
		f.mu.Unlock()
		if tmp != "" {
			ctx, cancel := context.WithTimeout(context.Background(), hideTimeout)
			c.removeTemp(ctx, tmp)
			cancel()
		}
		if mark != nil {
			mark.discard()
		}
	}
}
