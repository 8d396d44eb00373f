package core

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// Streamed uploads. A file written from its first byte to its last in
// order (cp, dd, tar, a download saved into the mount) need not wait for
// its close to start its upload: once the spool holds streamMin bytes, a
// STOR starts and sends the spool's bytes as they are written, waiting for
// more when it has caught up. The STOR goes to a temporary name (unless
// ReplaceInPlace): the target keeps its old content until the close has
// sealed the stream at the spool's size, the server has confirmed that
// size, and the temporary file was renamed over it. "close returned 0"
// still means "the server has the file", and a reader of the target never
// sees a part.
//
// A stream starts only while no other upload of the file runs, and only
// when the server's copy is to be replaced anyway (a new file, or one
// truncated to empty): once a close has confirmed part of the file, the
// rest goes up at the next close as an append.
//
// Anything that is not a plain append (a write elsewhere, a truncate, the
// file deleted or renamed) abandons the stream: its temporary file is
// removed once its STOR has ended, and the close uploads the spool as
// usual. That upload (or a new stream) waits until the abandoned STOR has
// ended, so that one file never has two STORs at once.
// A stream holds a connection while the writer is busy elsewhere, so only
// a few run at once (Config.Streams), leaving connections for everything
// else.

// streamMin is how much a new file must hold before its upload starts
// early: small files go up at close, with one STOR and no waiting.
const streamMin = 4 << 20

var errStreamAbandoned = errors.New("streamed upload abandoned")

// upstream is one streamed upload. Fields marked so are guarded by the
// owning File's mu; cond uses that lock.
// notSealed is an upstream's sealed size until its writer closes: it is
// also what the stream's final() tells ftpconn (the size is not known yet).
const notSealed = ftpconn.SizeUnknown

type upstream struct {
	sp     *spool
	path   string // the target
	to     string // where the STOR goes: a temporary name beside path, or path itself
	cond   *sync.Cond
	cancel context.CancelFunc
	done   chan struct{} // closed when the upload has ended
	err    error         // the upload's result, set before done is closed

	sealed    int64 // GUARDED_BY(f.mu): the final size, notSealed until sealed
	abandoned bool  // GUARDED_BY(f.mu)
}

// maybeStream starts a streamed upload of the spool when it qualifies.
// Needs f.mu held.
func (f *File) maybeStream(p string) {
	sp := f.sp
	if sp.stream != nil || !sp.sequential || sp.size < streamMin || f.gone || f.c.streams == nil {
		return
	}
	if sp.base > 0 && sp.low > 0 {
		// The server holds this file's first base bytes already (an
		// upload succeeded): the close appends the rest with REST+STOR.
		return
	}
	if f.uploading {
		return // a close is uploading the file: one STOR at a time
	}
	if f.abandoned != nil {
		select {
		case <-f.abandoned.done:
			f.abandoned = nil
		default:
			return // the abandoned STOR is still running
		}
	}
	select {
	case f.c.streams <- struct{}{}:
	default:
		return // enough streams running
	}
	to := p
	if f.c.cfg.Replace != ReplaceInPlace {
		to = tempName(p, f.c.cfg.Now())
		sp.jr.Temp = to
		f.saveJournal()
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &upstream{sp: sp, path: p, to: to, cond: sync.NewCond(&f.mu), cancel: cancel, done: make(chan struct{}), sealed: notSealed}
	sp.stream = u
	// Not counted in c.uploads: a stream ends at the close that seals it
	// (which is counted), or is abandoned when the file is released.
	go func() {
		defer func() { <-f.c.streams }()
		u.err = f.c.client.UploadStream(ctx, to, streamSource{f, u}, func() int64 {
			f.mu.Lock()
			defer f.mu.Unlock()
			return u.sealed
		})
		cancel()
		f.mu.Lock()
		drop := u.abandoned || u.err != nil
		f.mu.Unlock()
		if drop && to != p {
			f.c.removeTemp(context.Background(), to)
		}
		close(u.done)
	}()
	f.c.debugf("upload of %s started while it is written (to %s)", p, to)
}

// abandonStream gives up the spool's streamed upload, if any: the spool
// will be uploaded whole at its close. Needs f.mu held.
func (f *File) abandonStream() {
	if sp := f.sp; sp != nil && sp.stream != nil {
		u := sp.stream
		sp.stream = nil
		u.abandoned = true
		u.cancel()
		u.cond.Broadcast()
		f.abandoned = u
	}
}

// StopStream abandons the streamed upload, if any, and waits until its
// STOR has ended (before a DELE of the file, say).
func (f *File) StopStream() {
	f.mu.Lock()
	var u *upstream
	if f.sp != nil {
		u = f.sp.stream
	}
	f.abandonStream()
	f.mu.Unlock()
	if u != nil {
		<-u.done
	}
}

// finishStream seals the spool's stream at size, waits for its result and
// puts the upload in place as p; nil means the server has the spool's
// first size bytes as p. It takes the stream off the spool. tried is
// false when there was no stream to finish. Needs f.mu held; releases it
// while waiting.
func (f *File) finishStream(p string, size int64) (tried bool, err error) {
	u := f.sp.stream
	if u == nil {
		return false, nil
	}
	f.sp.stream = nil
	if p != u.path {
		u.abandoned = true // renamed meanwhile: the stream went to the old name
		u.cancel()
		f.abandoned = u
	}
	u.sealed = size
	u.cond.Broadcast()
	f.mu.Unlock()
	<-u.done
	if !u.abandoned && u.err == nil && u.to != u.path {
		err = f.c.renameOver(context.Background(), u.to, u.path, size, nil)
	}
	f.mu.Lock()
	if u.abandoned {
		return false, nil
	}
	if u.err != nil {
		return true, u.err
	}
	return true, err
}

// streamSource is the spool as the streamed upload reads it: reads wait
// for bytes not written yet, and end at the sealed size.
type streamSource struct {
	f *File
	u *upstream
}

func (s streamSource) ReadAt(p []byte, off int64) (int, error) {
	f, u := s.f, s.u
	f.mu.Lock()
	for !u.abandoned && u.sealed == notSealed && u.sp.size <= off {
		u.cond.Wait()
	}
	if u.abandoned {
		f.mu.Unlock()
		return 0, errStreamAbandoned
	}
	end, sealed := u.sp.size, u.sealed != notSealed
	if sealed {
		end = u.sealed
	}
	f.mu.Unlock()
	if off >= end {
		return 0, io.EOF
	}
	want := min(int64(len(p)), end-off)
	// Bytes below the spool's size are written and, while the stream
	// lives, never change (only appends keep it), so they are read
	// without the lock. Before the seal a short read returns no error:
	// more may come.
	m, err := u.sp.f.ReadAt(p[:want], off)
	if err == nil && sealed && off+int64(m) == end && m < len(p) {
		err = io.EOF
	}
	return m, err
}
