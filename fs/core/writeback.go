package core

import (
	"context"
	"fmt"
	"os"
)

// Write-back (-o writeback). close() returns once the content is safe on
// local disk: the spool file and its journal fsynced, the journal saying
// "closing". The upload then runs in the background, several files at
// once (Config.Writeback uploads in parallel), the usual safe way. fsync()
// still waits for the server, and so does unmount (WaitUploads). If the
// daemon dies first, the next mount of the server finds the journal and
// uploads the file (Recover), as for any close that was under way.
//
// A background upload that fails is logged at warning level; the next
// close or fsync of the file returns its error, and tries again. When the
// last writer has released the file meanwhile, the spool goes to the
// recovery folder, as after any failed upload.

// Close is what close(2) does to a file open for writing: Flush, or with
// write-back a durable spool and an upload in the background. It returns
// the error of a background upload of this file that failed since the
// last Close or Flush.
func (f *File) Close(ctx context.Context) error {
	if f.c.wb == nil {
		return f.Flush(ctx)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	sp := f.sp
	if err := f.bgErr; err != nil {
		f.bgErr = nil
		if sp != nil && sp.dirty {
			f.startBackground()
		}
		return err
	}
	if sp == nil || !sp.dirty || f.gone {
		return nil
	}
	if err := sp.f.Sync(); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	sp.jr.State = stateClosing
	if p, ok := f.path(); ok {
		sp.jr.Path = p
	}
	if err := sp.save(f.c.cfg.Now()); err != nil {
		return err // not durable: the close must not claim it is
	}
	if err := syncFile(journalPath(sp.f.Name())); err != nil {
		return err
	}
	f.startBackground()
	return nil
}

// Queued is a file closed with write-back whose upload has not ended
// well yet (for `ftpmount status`).
type Queued struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	Err  string `json:"error,omitempty"` // the last background upload's failure
}

// Queued lists the files closed with write-back that the server does not
// have yet: waiting for an upload slot, uploading, or failed.
func (c *Core) Queued() []Queued {
	c.qmu.Lock()
	files := make([]*File, 0, len(c.queued))
	for f := range c.queued {
		files = append(files, f)
	}
	c.qmu.Unlock()
	var out []Queued
	for _, f := range files {
		p, _ := f.path()
		f.mu.Lock()
		q := Queued{Path: p}
		if f.sp != nil {
			q.Size = f.sp.size
		}
		if f.bgErr != nil {
			q.Err = f.bgErr.Error()
		}
		f.mu.Unlock()
		out = append(out, q)
	}
	return out
}

// queue records whether f has write-back work the server does not have yet.
func (c *Core) queue(f *File, pending bool) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if pending {
		c.queued[f] = true
	} else {
		delete(c.queued, f)
	}
}

// startBackground schedules one background upload of the file. Needs f.mu
// held.
func (f *File) startBackground() {
	f.bg++
	f.c.queue(f, true)
	f.c.uploads.Add(1)
	go func() {
		defer f.c.uploads.Done()
		f.c.wb <- struct{}{}
		err := f.flushBackground(context.Background())
		<-f.c.wb
		f.mu.Lock()
		f.bg--
		if err != nil {
			p, _ := f.path()
			f.c.logf("background upload of %s failed: %v (the next close or fsync reports it)", p, err)
			f.bgErr = err
		}
		if f.bg == 0 && err == nil {
			f.c.queue(f, false)
		}
		finish := f.bg == 0 && f.writers == 0 && f.sp != nil
		if finish {
			f.writers = 1 // the release the last writer left to us
		}
		f.mu.Unlock()
		if finish {
			f.Release()
		}
	}()
}

func syncFile(name string) error {
	fd, err := os.Open(name)
	if err != nil {
		return err
	}
	defer fd.Close()
	return fd.Sync()
}
