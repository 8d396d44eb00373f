package fs

import (
	"context"
	"errors"
	"io"
	"sync"
)

// Streamed uploads. A file written from its first byte to its last in
// order (cp, dd, tar, a download saved into the mount) need not wait for
// its close to start its upload: once the spool holds streamMin bytes, a
// STOR starts and sends the spool's bytes as they are written, waiting for
// more when it has caught up. At close (or fsync) the stream is sealed at
// the spool's size and the close waits for the server to confirm that
// size, exactly as a close-time upload would: "close returned 0" still
// means "the server has the file".
//
// A stream starts only while no other upload of the file runs, and only
// when the server's copy is to be replaced anyway (a new file, or one
// truncated to empty): once a close has confirmed part of the file, the
// rest goes up at the next close as an append.
//
// Anything that is not a plain append (a write elsewhere, a truncate, the
// file deleted or renamed) abandons the stream; the close then uploads the
// spool as usual, replacing what the abandoned STOR left on the server.
// That upload (or a new stream) waits until the abandoned STOR has ended:
// the server may still be writing bytes of it that were in flight, and
// they must not land in the file after the new upload's.
// A stream holds a connection while the writer is busy elsewhere, so only
// a few run at once (Options.Streams), leaving connections for everything
// else.

// streamMin is how much a new file must hold before its upload starts
// early: small files go up at close, with one STOR and no waiting.
const streamMin = 4 << 20

var errStreamAbandoned = errors.New("streamed upload abandoned")

// upstream is one streamed upload. Fields marked so are guarded by the
// owning fileNode's mu; cond uses that lock.
type upstream struct {
	sp     *spool
	path   string
	cond   *sync.Cond
	cancel context.CancelFunc
	done   chan struct{} // closed when the upload has ended
	err    error         // the upload's result, set before done is closed

	sealed    int64 // GUARDED_BY(n.mu): the final size, -1 until sealed
	abandoned bool  // GUARDED_BY(n.mu)
}

// maybeStream starts a streamed upload of the spool when it qualifies.
// Needs n.mu held.
func (n *fileNode) maybeStream(p string) {
	sp := n.sp
	if sp.stream != nil || !sp.sequential || sp.size < streamMin || n.gone || n.m.opts.Atomic || n.m.streams == nil {
		return
	}
	if sp.base > 0 && sp.low > 0 {
		// The server holds this file's first base bytes already (an
		// upload succeeded): the close appends the rest with REST+STOR.
		// A STOR from byte 0 would truncate what it confirmed.
		return
	}
	if n.uploading {
		return // a close is uploading the file: one STOR at a time
	}
	if n.abandoned != nil {
		select {
		case <-n.abandoned.done:
			n.abandoned = nil
		default:
			return // the server may still be writing the abandoned STOR's bytes
		}
	}
	select {
	case n.m.streams <- struct{}{}:
	default:
		return // enough streams running
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &upstream{sp: sp, path: p, cond: sync.NewCond(&n.mu), cancel: cancel, done: make(chan struct{}), sealed: -1}
	sp.stream = u
	// Not counted in m.uploads: a stream ends at the close that seals it
	// (which is counted), or is abandoned when the file is released.
	go func() {
		defer func() { <-n.m.streams }()
		u.err = n.m.client.UploadStream(ctx, p, streamSource{n, u}, func() int64 {
			n.mu.Lock()
			defer n.mu.Unlock()
			return u.sealed
		})
		cancel()
		close(u.done)
	}()
	n.m.debugf("upload of %s started while it is written", p)
}

// abandonStream gives up the spool's streamed upload, if any: the spool
// will be uploaded whole at its close. Needs n.mu held.
func (n *fileNode) abandonStream() {
	if sp := n.sp; sp != nil && sp.stream != nil {
		u := sp.stream
		sp.stream = nil
		u.abandoned = true
		u.cancel()
		u.cond.Broadcast()
		n.abandoned = u
	}
}

// stopStream abandons the streamed upload, if any, and waits until its
// STOR has ended.
func (n *fileNode) stopStream() {
	n.mu.Lock()
	var u *upstream
	if n.sp != nil {
		u = n.sp.stream
	}
	n.abandonStream()
	n.mu.Unlock()
	if u != nil {
		<-u.done
	}
}

// finishStream seals the spool's stream at size and waits for its result;
// nil means the server has the spool's first size bytes. It takes the
// stream off the spool. Needs n.mu held; releases it while waiting.
func (n *fileNode) finishStream(size int64) (tried bool, err error) {
	u := n.sp.stream
	if u == nil {
		return false, nil
	}
	n.sp.stream = nil
	if p, _ := n.path(); p != u.path {
		u.abandoned = true // renamed meanwhile: the stream went to the old name
		u.cancel()
		n.abandoned = u
	}
	u.sealed = size
	u.cond.Broadcast()
	n.mu.Unlock()
	<-u.done
	n.mu.Lock()
	if u.abandoned {
		return false, nil
	}
	return true, u.err
}

// streamSource is the spool as the streamed upload reads it: reads wait
// for bytes not written yet, and end at the sealed size.
type streamSource struct {
	n *fileNode
	u *upstream
}

func (s streamSource) ReadAt(p []byte, off int64) (int, error) {
	n, u := s.n, s.u
	n.mu.Lock()
	for !u.abandoned && u.sealed < 0 && u.sp.size <= off {
		u.cond.Wait()
	}
	if u.abandoned {
		n.mu.Unlock()
		return 0, errStreamAbandoned
	}
	end, sealed := u.sp.size, u.sealed >= 0
	if sealed {
		end = u.sealed
	}
	n.mu.Unlock()
	if off >= end {
		return 0, io.EOF
	}
	want := min(int64(len(p)), end-off)
	// Bytes below the spool's size are written and, while the stream
	// lives, never change (only appends keep it), so they are read
	// without the lock. Before the seal a short read returns no error:
	// more may come. (The upload reads through an io.SectionReader,
	// which passes that on as a short Read.)
	m, err := u.sp.f.ReadAt(p[:want], off)
	if err == nil && sealed && off+int64(m) == end && m < len(p) {
		err = io.EOF
	}
	return m, err
}
