package ftpconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Parallel ranged downloads (lftp's pget idea). Where the server throttles
// each connection, or one TCP stream cannot fill a long, fat link, one
// RETR at a time is slower than the link. With Config.ParallelReads = N > 1,
// a file of at least pgetMinSize read from the start onward is fetched in
// chunks of pgetChunk bytes, N at a time on N connections (each a RETR with
// REST, cut short at the chunk's end), ahead of the reader. Reads that
// jump around go to an ordinary streaming reader instead.

const (
	pgetChunk   = 8 << 20
	pgetMinSize = 4 * pgetChunk
)

type pgetReader struct {
	c    *client
	path string
	size int64
	n    int     // chunks fetched at once
	seq  *reader // for reads that are not sequential

	mu     sync.Mutex
	chunks map[int64]*chunk // GUARDED_BY(mu): by index (offset / pgetChunk)
	next   int64            // GUARDED_BY(mu): where the next sequential read is expected
}

// chunk is one range being fetched; buf and err are set before done closes.
type chunk struct {
	done chan struct{}
	buf  []byte
	err  error
}

func (r *pgetReader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	r.mu.Lock()
	// The kernel's readahead may run a little ahead or behind: "near the
	// expected offset" is sequential enough.
	if off < r.next-pgetChunk || off > r.next+pgetChunk {
		r.mu.Unlock()
		return r.seq.ReadAt(ctx, p, off)
	}
	r.mu.Unlock()
	n := 0
	for n < len(p) && off+int64(n) < r.size {
		at := off + int64(n)
		ch := r.schedule(at / pgetChunk)
		<-ch.done // not abandoned on ctx: the fetch finishes for the next reader anyway
		if ch.err != nil {
			r.forget(at / pgetChunk)
			return n, ch.err
		}
		n += copy(p[n:], ch.buf[at-(at/pgetChunk)*pgetChunk:])
	}
	r.mu.Lock()
	r.next = max(r.next, off+int64(n))
	r.mu.Unlock()
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// schedule makes sure chunk idx and the n-1 after it are being fetched,
// forgets chunks well behind, and returns chunk idx.
func (r *pgetReader) schedule(idx int64) *chunk {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.chunks == nil { // closed
		ch := &chunk{done: make(chan struct{}), err: errors.New("read on closed reader")}
		close(ch.done)
		return ch
	}
	for i := range r.chunks {
		if i < idx-1 {
			delete(r.chunks, i)
		}
	}
	for i := idx; i < idx+int64(r.n) && i*pgetChunk < r.size; i++ {
		if r.chunks[i] == nil {
			ch := &chunk{done: make(chan struct{})}
			r.chunks[i] = ch
			go r.fetch(i, ch)
		}
	}
	return r.chunks[idx]
}

func (r *pgetReader) forget(idx int64) {
	r.mu.Lock()
	delete(r.chunks, idx)
	r.mu.Unlock()
}

// fetch downloads chunk idx, resuming where a transfer was cut.
func (r *pgetReader) fetch(idx int64, ch *chunk) {
	defer close(ch.done)
	start := idx * pgetChunk
	length := min(int64(pgetChunk), r.size-start)
	buf := make([]byte, length)
	var got int64
	var rt retrier
	for got < length {
		m, err := r.c.fetchRange(r.path, start+got, buf[got:], start+length == r.size)
		got += int64(m)
		if m > 0 {
			rt.progress()
		}
		if err == nil {
			continue
		}
		if !rt.again(context.Background(), err) {
			ch.err = &NoReplyError{Op: "RETR", Path: r.path, Msg: fmt.Sprintf("range at %d: %v", start+got, err), Kind: ErrShortTransfer, Err: err}
			return
		}
		r.c.cfg.debugf("RETR %s: range cut at %d (%v): resuming", r.path, start+got, err)
	}
	ch.buf = buf
}

// fetchRange reads len(buf) bytes from offset off with one RETR. last says
// the range ends at the end of the file (the transfer then ends by itself;
// otherwise it is cut short).
func (c *client) fetchRange(p string, off int64, buf []byte, last bool) (int, error) {
	if err := checkPath("RETR", p); err != nil {
		return 0, err
	}
	cn, err := c.pool.get(context.Background())
	if err != nil {
		return 0, err
	}
	resp, err := cn.retr(context.Background(), p, off)
	if err != nil {
		c.pool.put(cn, err)
		return 0, wrap("RETR", p, err)
	}
	n, rerr := io.ReadFull(resp, buf)
	switch {
	case rerr == nil && !last:
		c.pool.background(func() { c.closeAborted(cn, resp) })
		return n, nil
	case rerr == nil || errors.Is(rerr, io.ErrUnexpectedEOF) || errors.Is(rerr, io.EOF):
		// The whole range, or the server ended the transfer: its reply says
		// whether that was all (226) or a cut (426).
		cerr := transferEnd(resp.Close())
		c.pool.put(cn, cerr)
		if n == len(buf) {
			return n, nil
		}
		if cerr == nil {
			cerr = errors.New("server ended the transfer early")
		}
		return n, wrap("RETR", p, cerr)
	default:
		c.pool.put(cn, rerr)
		return n, wrap("RETR", p, rerr)
	}
}

func (r *pgetReader) Close() error {
	r.mu.Lock()
	r.chunks = nil
	r.mu.Unlock()
	return r.seq.Close()
}
