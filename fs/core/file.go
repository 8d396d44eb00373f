package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sync"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// ErrNotOpen is a write to a file no handle has open for writing (EBADF).
var ErrNotOpen = errors.New("not open for writing")

// File is the write state of one server file (one inode of the mount).
// While any handle has it open for writing it owns a spool (spool.go),
// shared by all of them. Its server path is asked of the caller each time
// (the file may be renamed while open): ok false means the file has no
// name any more (unlinked).
type File struct {
	c    *Core
	path func() (p string, ok bool)

	// upMu is held by the one upload of this file in progress, across its
	// network I/O.
	upMu sync.Mutex

	mu      sync.Mutex
	sp      *spool // GUARDED_BY(mu): nil when no handle writes
	writers int    // GUARDED_BY(mu): handles sharing sp
	gone    bool   // GUARDED_BY(mu): unlinked; nothing more goes to the server
	// abandoned is the last streamed upload given up (stream.go). Until
	// its STOR has ended, no other upload of this file may start.
	abandoned *upstream // GUARDED_BY(mu)
	// uploading is set while Flush uploads (or waits for a sealed
	// stream): no stream may start then.
	uploading bool // GUARDED_BY(mu)
	// bg counts the background uploads of this file scheduled or running
	// (writeback.go); while there are some, the last Release leaves the
	// spool to the last of them. bgErr is the failure of one, returned by
	// the next Close.
	bg    int   // GUARDED_BY(mu)
	bgErr error // GUARDED_BY(mu)
	// lastErr is the last upload's failure, named when the spool goes to
	// the recovery folder.
	lastErr error // GUARDED_BY(mu)
	// handles counts the open handles, readers and writers (Opened,
	// Closed). hidden is the temporary name the file was moved to on the
	// server when its last name went while handles were open, "" else
	// (unlinked.go).
	handles int    // GUARDED_BY(mu)
	hidden  string // GUARDED_BY(mu)
	// mark is the journal naming hidden, for Recover after a crash: an
	// empty spool of its own (setHidden).
	mark *spool // GUARDED_BY(mu)
}

// File returns the write state of an existing server file whose path
// function is path. Nothing is read or sent until it is opened.
func (c *Core) File(path func() (string, bool)) *File {
	return &File{c: c, path: path}
}

// Create returns the write state of a new file p, open for writing once:
// it exists only in its spool until its first upload. path gives its path
// from then on.
func (c *Core) Create(p string, path func() (string, bool)) (*File, error) {
	sp, err := newSpool(c.cfg.SpoolDir)
	if err != nil {
		return nil, err
	}
	now := c.cfg.Now()
	sp.mtime = now
	sp.sequential = true
	sp.touch(now)
	sp.jr = journal{Server: c.cfg.Server, Path: p, State: stateOpen, BaseSize: baseAbsent}
	f := &File{c: c, path: path, sp: sp, writers: 1}
	f.saveJournal()
	c.track(f, true)
	return f, nil
}

// Writing reports the size and time writers see while a spool exists; ok
// is false when nobody writes (the listing tells).
func (f *File) Writing() (size int64, mtime time.Time, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sp == nil {
		return 0, time.Time{}, false
	}
	return f.sp.size, f.sp.mtime, true
}

// lookup is the file as the (cached) parent listing shows it.
func (f *File) lookup(ctx context.Context) (string, ftpconn.Entry, error) {
	p, ok := f.path()
	if !ok {
		return "", ftpconn.Entry{}, fmt.Errorf("the file was removed: %w", ftpconn.ErrNotFound)
	}
	e, err := f.c.dirs.Lookup(ctx, path.Dir(p), path.Base(p))
	return p, e, err
}

// OpenWrite counts one more writer and makes sure a spool exists. With
// trunc (O_TRUNC) the spool becomes empty without fetching anything; the
// server's file is untouched until the next upload.
func (f *File) OpenWrite(ctx context.Context, trunc bool) error {
	f.mu.Lock()
	has := f.sp != nil
	f.mu.Unlock()
	var e ftpconn.Entry
	var p string
	if !has {
		var err error
		if p, e, err = f.lookup(ctx); err != nil {
			return err
		}
		if !trunc && e.Size > 0 {
			// The listing may be dir_cache seconds old: bytes the spool
			// will be filled with, or appended after, are the server's
			// as they are now (another client may have appended).
			if st, err := f.c.client.Stat(ctx, p); err == nil && st.Size != e.Size {
				n := st.Size
				f.c.debugf("%s: listed with %d bytes, the server has %d", p, e.Size, n)
				e.Size, e.ModTime = n, time.Time{}
				f.c.dirs.Invalidate(path.Dir(p))
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sp == nil && has {
		// The last writer left between the two locks (the kernel's RELEASE
		// of a closed handle meeting this OPEN): e was not looked up.
		f.mu.Unlock()
		err := f.OpenWrite(ctx, trunc)
		f.mu.Lock()
		return err
	}
	if f.sp == nil {
		sp, err := newSpool(f.c.cfg.SpoolDir)
		if err != nil {
			return err
		}
		sp.size, sp.need, sp.base, sp.mtime = e.Size, e.Size, e.Size, e.ModTime
		sp.sequential = e.Size == 0
		if err := sp.f.Truncate(e.Size); err != nil {
			sp.discard()
			return fmt.Errorf("spool: %w", err)
		}
		sp.jr = journal{Server: f.c.cfg.Server, Path: p, State: stateOpen, BaseSize: e.Size, BaseTime: e.ModTime}
		f.sp = sp
		f.saveJournal()
		f.c.track(f, true)
	}
	f.writers++
	f.sp.settled = false // a new writer: its O_TRUNC may follow
	if trunc && f.sp.size != 0 {
		f.abandonStream()
		if err := f.sp.truncate(0, f.c.cfg.Now()); err != nil {
			return err
		}
	}
	return nil
}

// Release drops one writer. The last one uploads changes no upload has
// tried yet, then removes the spool, or, when its last upload failed,
// moves it to the recovery folder.
func (f *File) Release() {
	f.mu.Lock()
	if f.writers == 1 && f.bg == 0 && f.sp != nil && f.sp.dirty && f.lastErr == nil && !f.gone {
		// Changed since its last upload and not tried since: a truncate(2)
		// between close(2) and the kernel's RELEASE, or one during a
		// background upload. Nothing failed, so it goes to the server now.
		f.mu.Unlock()
		f.Flush(context.Background()) // a failure lands in lastErr
		f.mu.Lock()
	}
	f.writers--
	if f.writers > 0 || f.bg > 0 {
		f.mu.Unlock()
		return
	}
	f.abandonStream() // not sealed by a close: nothing waits for it
	sp, gone, why := f.sp, f.gone, f.lastErr
	f.sp = nil
	f.mu.Unlock()
	f.c.queue(f, false)
	f.c.track(f, false)
	p, ok := f.path()
	if ok {
		f.c.dirs.ClearPending(path.Dir(p), path.Base(p))
	}
	if sp.dirty && !gone && ok {
		where, err := sp.keep(f.c.cfg.RecoverDir, p, f.c.cfg.Now())
		if err != nil {
			f.c.logf("upload of %s failed (%v); its data could not be moved to the recovery folder and stays in %s: %v", p, why, where, err)
			return
		}
		f.c.logf("upload of %s failed (%v); its data is kept in %s", p, why, where)
		return
	}
	sp.discard()
}

// Truncate changes the size. While a writer has the file open and has
// not closed it since its open or its last change, only the spool changes
// and that writer's close uploads it: O_TRUNC arrives as an OPEN without
// the flag and then a truncate to 0 (go-fuse does not ask for
// atomic_o_trunc), and ftruncate before the close is the writer's own.
// Otherwise the truncated content is uploaded at once: nobody writes, or
// every writer's data is on the server already (close(2) returned; the
// kernel's RELEASE, which comes asynchronously, has not).
func (f *File) Truncate(ctx context.Context, size int64) error {
	f.mu.Lock()
	open := f.sp != nil && f.writers > 0 && !f.sp.settled
	f.mu.Unlock()
	if err := f.OpenWrite(ctx, size == 0); err != nil {
		return err
	}
	f.upMu.Lock() // an upload in flight reads the spool up to its size: let it end first
	f.mu.Lock()
	f.abandonStream()
	err := f.sp.truncate(size, f.c.cfg.Now())
	f.mu.Unlock()
	f.upMu.Unlock()
	if err == nil && !open {
		err = f.Flush(ctx)
	}
	f.Release()
	return err
}

// TruncateHandle changes the size through a handle open for writing:
// ftruncate(2), and the kernel's truncate after an open with O_TRUNC
// (both carry the handle; truncate(2) by path does not). It is that
// writer's own change, like a write: only the spool changes, and the
// writer's next close or fsync uploads it. Without a spool (none was
// opened, or the mount is ending) it is Truncate.
//
// An upload in flight (another descriptor's close, a close-on-exec copy
// of this one in a forked child, write-back) reads the spool without the
// lock up to the size it started with: the truncate waits for it to end,
// or the spool would shrink under it and the upload fail its size check.
func (f *File) TruncateHandle(ctx context.Context, size int64) error {
	f.upMu.Lock()
	f.mu.Lock()
	if f.sp == nil || f.writers == 0 {
		f.mu.Unlock()
		f.upMu.Unlock()
		return f.Truncate(ctx, size)
	}
	defer f.upMu.Unlock()
	defer f.mu.Unlock()
	f.abandonStream()
	return f.sp.truncate(size, f.c.cfg.Now())
}

// SetMtime sets the modification time: applied after the next upload when
// the file has changes not uploaded yet, else on the server now.
func (f *File) SetMtime(ctx context.Context, t time.Time) {
	f.mu.Lock()
	if f.sp != nil && f.sp.dirty {
		f.sp.setTime = &t
		f.sp.mtime = t
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	if p, ok := f.path(); ok {
		f.c.SetTime(ctx, p, t)
	}
}

// errSuperseded says that the spool changed while it was being uploaded
// (another descriptor wrote or truncated the file; with write-back, the
// file was opened and written again after the close whose upload this
// was). What went up may mix the two versions, so it was not renamed over
// the file; the spool stays dirty and goes up again.
var errSuperseded = errors.New("the file changed while it was uploaded")

// maxSuperseded is how many uploads in a row one Flush lets a change
// overtake before it gives up with errSuperseded.
const maxSuperseded = 3

// Flush uploads the spool if it changed since the last upload; nil means
// the server has the content and its size was checked. It is called from
// every close, fsync, and truncate(2). A signal does not abandon an
// upload: that would waste it (the server's file is never partial). An
// upload that a change overtakes is done again (errSuperseded).
func (f *File) Flush(ctx context.Context) error {
	f.upMu.Lock()
	defer f.upMu.Unlock()
	for try := 1; ; try++ {
		err := f.flushOnce(ctx)
		if !errors.Is(err, errSuperseded) || try == maxSuperseded {
			return err
		}
	}
}

// flushBackground is Flush for a write-back upload: an upload that a
// change overtakes is not done again here, as the change comes from a
// descriptor whose own close (or last release) uploads the file again.
func (f *File) flushBackground(ctx context.Context) error {
	f.upMu.Lock()
	defer f.upMu.Unlock()
	err := f.flushOnce(ctx)
	if errors.Is(err, errSuperseded) {
		f.c.debugf("%v; its next close uploads it", err)
		return nil
	}
	return err
}

// flushOnce is one try of Flush. Needs f.upMu held.
func (f *File) flushOnce(ctx context.Context) error {
	p, ok := f.path()
	f.mu.Lock()
	sp := f.sp
	if sp == nil || !sp.dirty || f.gone || !ok {
		if sp != nil && !sp.dirty {
			sp.settled = true
		}
		f.mu.Unlock()
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	appending, appendFrom := sp.appendOnly() && f.c.cfg.Replace != ReplaceAtomic, sp.base
	if !appending {
		if err := sp.fill(ctx, f.c.client, p); err != nil {
			f.mu.Unlock()
			return err
		}
	}
	gen, size, mtime, setTime := sp.gen, sp.size, sp.mtime, sp.setTime
	f.uploading = true
	f.c.uploads.Add(1)
	defer f.c.uploads.Done()
	sp.jr.State, sp.jr.Path, sp.jr.Appending = stateClosing, p, appending
	f.saveJournal()
	streamed, err := f.finishStream(p, size)
	prev := f.abandoned
	f.mu.Unlock()
	if !streamed || err != nil {
		if streamed {
			f.c.debugf("streamed upload of %s: %v; uploading it again", p, err)
		}
		if prev != nil {
			<-prev.done // its STOR must be over before ours begins
		}
		if appending {
			err = f.uploadAppend(ctx, p, sp, appendFrom, size, gen)
		} else {
			err = f.upload(ctx, p, sp, size, gen)
		}
	}
	f.mu.Lock()
	f.uploading = false
	if sp.gen != gen && err != nil && !errors.Is(err, errSuperseded) {
		// A failure of an upload that a change overtook (the spool shrank
		// under it: "server has 0 of N bytes") says nothing of the next.
		err = fmt.Errorf("%s: %w (%v)", p, errSuperseded, err)
	}
	f.lastErr = err
	if errors.Is(err, errSuperseded) {
		f.lastErr = nil
	}
	if err == nil && sp.gen == gen {
		// A write during the upload keeps the spool dirty, and base where
		// it was: the server may hold a mix of before and after.
		sp.dirty = false
		sp.settled = true
		sp.setTime = nil
		sp.uploaded(size)
		f.bgErr = nil // superseded: the server has the content
		sp.jr.BaseSize, sp.jr.BaseTime = size, time.Time{}
	}
	sp.jr.State, sp.jr.Temp, sp.jr.Appending = stateOpen, "", false
	f.saveJournal()
	f.mu.Unlock()
	if err != nil {
		return err
	}
	dir, name := path.Dir(p), path.Base(p)
	e := ftpconn.Entry{Name: name, Type: ftpconn.TypeFile, Size: size, ModTime: mtime}
	if old, err := f.c.dirs.Lookup(ctx, dir, name); err == nil && old.Type == ftpconn.TypeFile {
		e.Mode = old.Mode // kept by the upload (renameOver restores it)
	}
	f.c.dirs.Put(dir, e)
	f.c.dirs.Wrote(dir, name, mtime, size) // no jump when listed again (cache/times.go)
	f.c.dirs.ClearPending(dir, name)
	if setTime != nil {
		f.c.SetTime(ctx, p, *setTime)
	}
	return nil
}

// uploadAppend sends only the spool's bytes [from, size), appended to the
// server's file of from bytes (REST+STOR), where the server can resume
// uploads and its file still has that size; else the whole file (upload),
// after fetching what the spool lacks.
func (f *File) uploadAppend(ctx context.Context, p string, sp *spool, from, size int64, gen uint64) error {
	// REST+STOR at a size the server's file no longer has would cut off or
	// overwrite what another client did meanwhile: then the whole file goes
	// up instead (the last writer wins, whole).
	if st, serr := f.c.client.Stat(ctx, p); serr == nil && st.Size != from {
		f.c.logf("%s has %d bytes on the server, not the %d it had when opened: another client changed it; uploading this mount's version whole", p, st.Size, from)
	} else {
		err := f.c.client.Append(ctx, p, sp.f, from, size)
		if !errors.Is(err, ftpconn.ErrNotSupported) {
			return err
		}
		f.c.debugf("append to %s: %v; uploading the whole file", p, err)
	}
	f.mu.Lock()
	err := sp.fill(ctx, f.c.client, p)
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return f.upload(ctx, p, sp, size, gen)
}

// upload sends the whole spool (complete: see spool.fill), replaced as
// the mount's Replace says.
func (f *File) upload(ctx context.Context, p string, sp *spool, size int64, gen uint64) error {
	return f.c.replace(ctx, p, sp.f, size, func(tmp string) {
		f.mu.Lock()
		sp.jr.Temp = tmp
		f.saveJournal()
		f.mu.Unlock()
	}, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return sp.gen != gen
	})
}

// saveJournal rewrites the spool's journal. Needs f.mu held.
func (f *File) saveJournal() {
	if err := f.sp.save(f.c.cfg.Now()); err != nil {
		f.c.logf("%v (a crash now would leave this spool unrecognised)", err)
	}
}

// Unlinked marks the file deleted: pending writes are dropped, as POSIX
// says for data written to a file after its last name is gone. Its
// journal says so (with the temporary name it is hidden under, if any),
// so that a crash leaves nothing to upload under the old name.
func (f *File) Unlinked() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gone = true
	f.abandonStream()
	if f.sp != nil {
		f.sp.jr.State, f.sp.jr.Temp = stateUnlinked, f.hidden
		f.saveJournal()
	}
}

// ReadAt serves a read from the spool when one exists. ok is false when
// there is no spool and the caller should read from the server.
func (f *File) ReadAt(ctx context.Context, dest []byte, off int64) (n int, ok bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sp == nil {
		return 0, false, nil
	}
	if off < f.sp.need {
		if err := f.sp.fill(context.WithoutCancel(ctx), f.c.client, f.source()); err != nil {
			return 0, true, err
		}
	}
	if off >= f.sp.size {
		return 0, true, nil
	}
	dest = dest[:min(int64(len(dest)), f.sp.size-off)]
	n, err = f.sp.f.ReadAt(dest, off)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, true, err
}

// Write puts data into the spool at off.
func (f *File) Write(ctx context.Context, data []byte, off int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	sp := f.sp
	if sp == nil {
		return ErrNotOpen
	}
	if off < sp.need { // overwrites old bytes: they must be here first
		if err := sp.fill(context.WithoutCancel(ctx), f.c.client, f.source()); err != nil {
			return err
		}
	}
	if off != sp.size {
		f.abandonStream() // not an append: the stream cannot follow
	}
	if err := sp.writeAt(data, off, f.c.cfg.Now()); err != nil {
		return err
	}
	if sp.stream != nil {
		sp.stream.cond.Broadcast()
	} else if sp.sequential && sp.size >= streamMin {
		if p, ok := f.path(); ok {
			f.maybeStream(p)
		}
	}
	return nil
}
