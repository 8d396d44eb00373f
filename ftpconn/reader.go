package ftpconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// skipMax is how far ahead of the stream a read may land and still be
// reached by reading on (keeping the skipped bytes in the window) rather
// than restarting the transfer with REST. It covers the kernel's readahead
// (4 MiB, see fs/readahead.go), whose 1 MiB requests arrive together and
// in any order: a restart per misordered request costs four round trips.
const skipMax = 6 << 20

// failShare is how long a failed read's error is also the answer to the
// next reads of the same open file.
const failShare = 2 * time.Second

// closeWait bounds the wait for the server's reply after we cut a transfer
// short. Some servers never send one; the connection is then dropped.
const closeWait = 5 * time.Second

// reader is a Reader over one RETR stream at a time.
//
// Lock order: mu, then the pool's mu.
type reader struct {
	c    *client
	path string
	size int64 // expected size; SizeUnknown if unknown

	mu     sync.Mutex
	cn     *conn    // GUARDED_BY(mu): the stream's connection, nil when none is open
	resp   transfer // GUARDED_BY(mu): the open download (retrpipe.go)
	pos    int64    // GUARDED_BY(mu): offset of the next byte resp yields
	win    window   // GUARDED_BY(mu): the bytes just before pos
	closed bool     // GUARDED_BY(mu)
	// failed and failedAt are the last failure of a read and when it
	// happened: reads that were waiting then share it.
	failed   error     // GUARDED_BY(mu)
	failedAt time.Time // GUARDED_BY(mu)
}

// fail records err for the reads queued behind this one. Needs mu held.
func (r *reader) fail(err error) error {
	r.failed, r.failedAt = err, r.c.cfg.Now()
	return err
}

func (c *client) OpenReader(p string, size int64) Reader {
	r := &reader{c: c, path: p, size: size}
	if c.cfg.ParallelReads > 1 && size >= pgetMinSize {
		return &pgetReader{c: c, path: p, size: size, n: c.cfg.ParallelReads, seq: r, chunks: map[int64]*chunk{}}
	}
	if size >= 0 && size < windowSize {
		r.win.size = int(max(size, 1)) // a small file needs no 4 MiB window
	}
	return r
}

// ReadAt fills p from offset off. It returns fewer bytes than len(p) only at
// the end of the file, with io.EOF. A transfer that ends early is resumed
// where it stopped (REST); only when that keeps failing does ReadAt fail,
// with ErrShortTransfer: a cut transfer never looks like the end of file.
//
// ctx only bounds the wait for a connection: a transfer in progress is not
// abandoned because the caller was interrupted.
func (r *reader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	start := r.c.cfg.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, errors.New("read on closed reader")
	}
	if r.failed != nil && start.Sub(r.failedAt) < failShare {
		// This read waited while another one failed, or comes right
		// after it (the kernel sends readahead and then the read itself):
		// it would only wait out the same timeout again.
		return 0, r.failed
	}
	want := len(p)
	if r.size >= 0 {
		if off >= r.size {
			return 0, io.EOF
		}
		if rem := r.size - off; int64(want) > rem {
			want = int(rem)
		}
	}
	n := r.win.readAt(p[:want], off)
	// The retry policy's waits are not cut short by ctx: a signal to the
	// reading process must not fail a transfer that is being resumed.
	var rt retrier
	for n < want {
		at := off + int64(n)
		if r.resp != nil && at != r.pos {
			if at > r.pos && at-r.pos <= skipMax {
				if err := r.skip(at); err != nil {
					r.dropStream(err)
				}
			} else {
				r.abortStream()
			}
		}
		if r.resp == nil {
			if err := r.open(ctx, at); err != nil {
				if !rt.again(context.Background(), err) {
					return n, r.fail(err)
				}
				continue
			}
		}
		m, err := r.resp.Read(p[n:want])
		if m > 0 {
			// Bytes read for the caller are not needed again (the
			// kernel caches them); only skipped ones go in the window.
			r.win.gap(m)
			r.pos += int64(m)
			n += m
			rt.progress()
		}
		if err == nil {
			continue
		}
		eof, ferr := r.finish(err)
		if ferr == nil && eof {
			if n < want {
				return n, io.EOF // the file really is shorter than we thought
			}
			break
		}
		if !rt.again(context.Background(), ferr) {
			return n, r.fail(&NoReplyError{Op: "RETR", Path: r.path, Msg: fmt.Sprintf("stopped at byte %d: %v", r.pos, ferr), Kind: ErrShortTransfer, Err: ferr})
		}
		r.c.cfg.debugf("RETR %s cut at %d (%v): resuming", r.path, r.pos, ferr)
	}
	if r.resp != nil && r.size >= 0 && r.pos >= r.size {
		// All expected bytes are here: collect the 226 now and free the
		// connection rather than holding it until the next read.
		_, _ = r.finish(io.EOF)
	}
	if n < len(p) {
		return n, io.EOF // the end of the file came first (as io.ReaderAt says)
	}
	return n, nil
}

// open starts a transfer at off.
func (r *reader) open(ctx context.Context, off int64) error {
	if err := checkPath("RETR", r.path); err != nil {
		return err
	}
	cn, err := r.c.pool.get(ctx)
	if err != nil {
		return err
	}
	// Not abandoned on ctx (see ReadAt): a signal must not kill the
	// control connection in the middle of a reply.
	resp, err := cn.retr(context.Background(), r.path, off)
	if err != nil {
		if replyCode(err) == 550 {
			// Missing, or there but refused: the listing tells.
			if _, found, _ := cn.lookup(r.path); found {
				err = refine(wrap("RETR", r.path, err), ErrPermission)
			}
		}
		r.c.pool.put(cn, err)
		return wrap("RETR", r.path, err)
	}
	r.cn, r.resp, r.pos = cn, resp, off
	r.win.reset(off)
	r.c.pool.register(r)
	return nil
}

// skip reads on from pos to at, keeping the bytes in the window.
func (r *reader) skip(at int64) error {
	buf := make([]byte, 64<<10)
	for r.pos < at {
		lim := at - r.pos
		if lim > int64(len(buf)) {
			lim = int64(len(buf))
		}
		m, err := r.resp.Read(buf[:lim])
		r.win.add(buf[:m])
		r.pos += int64(m)
		if err != nil {
			return err
		}
	}
	return nil
}

// finish ends the stream after its data connection reported readErr (io.EOF
// when the server closed it). eof is true when the whole file has arrived:
// the byte count matches the expected size, or (size unknown, or the file
// changed) the server's SIZE equals what we received.
func (r *reader) finish(readErr error) (eof bool, err error) {
	closeErr := transferEnd(r.resp.Close())
	cn := r.cn
	r.release()
	if readErr != io.EOF {
		r.c.pool.put(cn, readErr)
		return false, readErr
	}
	code := replyCode(closeErr)
	if closeErr != nil && code == 0 {
		r.c.pool.put(cn, closeErr)
		return false, closeErr
	}
	if r.size >= 0 && r.pos >= r.size {
		r.c.pool.put(cn, nil)
		return true, nil
	}
	// The server stopped before the expected size (perhaps with a 226).
	// Believe it only if the file is now that short.
	n, serr := cn.sc.FileSize(r.path)
	r.c.pool.put(cn, serr)
	if serr == nil && n == r.pos && closeErr == nil {
		r.size = n
		return true, nil
	}
	if closeErr == nil {
		closeErr = fmt.Errorf("server ended the transfer early (size %d, got %d)", r.size, r.pos)
	}
	return false, closeErr
}

// abortStream cuts the transfer short, without waiting: the reply to that
// (426, 451, 550 or 551 from most servers; nothing at all from a few) is
// collected in the background, and the connection goes back to the pool,
// or is dropped when no reply comes within closeWait. Meanwhile a new
// transfer can start on another connection.
func (r *reader) abortStream() {
	cn, resp := r.cn, r.resp
	r.release()
	r.c.pool.background(func() { r.c.closeAborted(cn, resp) })
}

// Once the reply is in, the connection gets its next data connection
// opened ahead (EPSV, then a dial in the background: dataahead.go), so
// that the next read on it, typically at another offset of the same file,
// costs one round trip.
//
// On a server that reads no command during a transfer (vsftpd: see
// pipeline.go), the EPSV goes out together with the close of the data
// connection, and its reply comes right behind the transfer's: the
// connection is free one round trip sooner.
func (c *client) closeAborted(cn *conn, resp transfer) {
	cn.ctrl.setTimeout(min(closeWait, c.cfg.Timeout))
	if s, ok := resp.(*retrStream); ok && cn.traits.quietDuringTransfer && !cn.traits.noPipelining && !cn.noEPSV && !cn.hasSpare() {
		err := cn.abortWithEPSV(s)
		cn.ctrl.setTimeout(c.cfg.Timeout)
		c.pool.put(cn, err)
		return
	}
	err := transferEnd(resp.Close())
	switch replyCode(err) {
	case 226, 225, 426, 450, 451, 550, 551:
		err = nil
	}
	if err == nil && !cn.noEPSV && !cn.hasSpare() {
		var code int
		var msg string
		code, msg, err = cn.Cmd(context.Background(), "EPSV")
		if err == nil {
			cn.prepareSpare(code, msg)
		}
	}
	cn.ctrl.setTimeout(c.cfg.Timeout)
	c.pool.put(cn, err)
}

// dropStream throws the stream and its connection away.
func (r *reader) dropStream(cause error) {
	cn := r.cn
	r.release()
	r.c.pool.put(cn, &NoReplyError{Op: "RETR", Path: r.path, Msg: cause.Error(), Kind: ErrTransient})
}

func (r *reader) release() {
	r.c.pool.unregister(r)
	r.cn, r.resp = nil, nil
}

// tryRelease gives the connection back to the pool if no read is under way.
func (r *reader) tryRelease() bool {
	if !r.mu.TryLock() {
		return false
	}
	defer r.mu.Unlock()
	if r.resp == nil {
		return false
	}
	r.c.cfg.debugf("RETR %s: giving the connection back at %d", r.path, r.pos)
	r.abortStream()
	return true
}

func (r *reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.resp != nil {
		r.abortStream()
	}
	r.closed = true
	return nil
}
