package ftpconn

import (
	"context"
	"errors"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// A STOR on ftpconn's own command path, pipelined (see pipeline.go):
//
//	STOR p                 ─┐ one write, or the data after the 150
//	data, data close        │ where the server may accept early
//	SIZE p                 ─┘ when the mount still pipelines SIZE
//	← 150, 226, 213 n       one round trip (with the data connection
//	                        opened ahead: dataahead.go)
//
// Its result reads like the library's StorFrom, so that storeChecked
// classifies both alike, plus the server's size when the pipelined SIZE
// gave a reply that can be trusted.

// storResult is what one STOR came to.
type storResult struct {
	// err is nil after a 2xx, the reply as a *textproto.Error otherwise
	// (also when the STOR was refused before any transfer), joined with
	// the failure of the data connection if there was one; a failure of
	// the control connection alone is a plain error.
	err   error
	size  int64 // the server's size of p after the transfer, when sized
	sized bool
}

// storPipelined stores all of src (size known) as p, from offset 0.
func (cn *conn) storPipelined(ctx context.Context, p string, src source) storResult {
	dc, err := cn.openData(ctx)
	if err != nil {
		return storResult{err: err}
	}
	// Under FTPS the data goes after the 150: a TLS handshake started
	// early and cut short (the STOR refused) makes Go drop the cached
	// session, and servers that want data connections to resume the
	// control connection's session (vsftpd's require_ssl_reuse) then
	// refuse every later one with 522 (seen here).
	early := cn.traits.acceptLate && !cn.traits.noPipelining && cn.tlsConf == nil
	sizeAhead := !cn.traits.noPipelining && !cn.traits.readsDuring && !cn.pp.noSizeAfterData.Load()
	if err := cn.writeLines("STOR " + p); err != nil {
		dc.Close()
		return storResult{err: err}
	}
	sent := time.Now()
	w := &dataWriter{cn: cn, dc: dc, src: src, size: p, sizeAhead: sizeAhead, done: make(chan struct{})}
	if early {
		go w.run()
	}
	code, msg, err := cn.readReply(ctx)
	if err != nil {
		w.abort(early)
		return storResult{err: err}
	}
	if code < 100 || code >= 200 {
		// Refused before any transfer (553, 550, 452...). The data went
		// nowhere; a SIZE the writer sent still gets its reply.
		w.abort(early)
		res := storResult{err: &textproto.Error{Code: code, Msg: msg}}
		if early && w.sizeSent {
			c2, m2, err := cn.readPipelined(ctx, time.Since(sent))
			if err != nil {
				cn.learn(&cn.pp.noSizeAfterData, "SIZE behind an upload", err.Error())
				return storResult{err: err}
			}
			res.size, res.sized = sizeReply(c2, m2)
		}
		return res
	}
	if !early {
		go w.run()
	}
	// The final reply comes once all the data is in: it is read after
	// the writer is done, so that a long upload waits on the data
	// connection (whose deadline moves with every write), not on a
	// control connection that says nothing until the end.
	select {
	case <-w.done:
	case <-ctx.Done():
		w.abort(true)
		return storResult{err: ctx.Err()}
	}
	a, am, err := cn.readReply(ctx)
	if err != nil {
		return storResult{err: err}
	}
	if !w.sizeSent {
		return storResult{err: transferReply(a, am, w.err)}
	}
	b, bm, err := cn.readPipelined(ctx, time.Since(sent))
	if err != nil {
		cn.learn(&cn.pp.noSizeAfterData, "SIZE behind an upload", err.Error())
		return storResult{err: err}
	}
	switch {
	case b == 213 && a != 213:
		// In step: the transfer's final reply, then SIZE's, which the
		// server could only have answered after the transfer ended.
		res := storResult{err: transferReply(a, am, w.err)}
		res.size, res.sized = sizeReply(b, bm)
		return res
	case a >= 200 && a < 300 && a != 213:
		// In step, but SIZE failed (not offered, or refused): the
		// size is asked the old way.
		cn.learn(&cn.pp.noSizeAfterData, "SIZE behind an upload", strconv.Itoa(b)+" "+bm)
		return storResult{err: transferReply(a, am, w.err)}
	case b >= 200 && b < 300:
		// Out of step: SIZE was answered during the transfer (213 with
		// the size so far, pyftpdlib and proftpd; 500 from pure-ftpd),
		// the transfer's final reply came after.
		cn.learn(&cn.pp.noSizeAfterData, "SIZE behind an upload", "answered during the transfer: "+strconv.Itoa(a)+" "+am)
		return storResult{err: transferReply(b, bm, w.err)}
	default:
		// Both failed; which was which is not certain. The one that
		// does not look like an answer to SIZE is the transfer's.
		cn.learn(&cn.pp.noSizeAfterData, "SIZE behind an upload", "two failures: "+strconv.Itoa(a)+", "+strconv.Itoa(b))
		if sizeLike(a) && !sizeLike(b) {
			return storResult{err: transferReply(b, bm, w.err)}
		}
		return storResult{err: transferReply(a, am, w.err)}
	}
}

// transferReply is a transfer's final reply as the library reports it:
// nil for 2xx, else the reply, joined with the data connection's failure.
func transferReply(code int, msg string, dataErr error) error {
	var rerr error
	if code < 200 || code >= 300 {
		rerr = &textproto.Error{Code: code, Msg: msg}
	}
	return errors.Join(dataErr, rerr)
}

// sizeReply reads "213 n" (RFC 3659 §4).
func sizeReply(code int, msg string) (int64, bool) {
	if code != 213 {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(msg), 10, 64)
	return n, err == nil && n >= 0
}

// sizeLike tells replies that answer a command the server did not take
// during a transfer (213, 500-504) from a transfer's own end.
func sizeLike(code int) bool {
	return code == 213 || code >= 500 && code <= 504
}

// dataWriter sends an upload's bytes on its data connection, closes it,
// and, if asked, sends SIZE right behind. err and sizeSent are set before
// done is closed.
type dataWriter struct {
	cn        *conn
	dc        net.Conn
	src       source
	size      string // the path SIZE asks about
	sizeAhead bool

	done     chan struct{}
	err      error
	sizeSent bool
}

func (w *dataWriter) run() {
	defer close(w.done)
	n, err := io.Copy(w.dc, bigCopy{w.src.from(0)})
	if err == nil && n == 0 {
		// An empty file: the TLS handshake comes with the first write,
		// and some servers (proftpd) want it even with nothing to send.
		if hs, ok := w.dc.(interface{ Handshake() error }); ok {
			err = hs.Handshake()
		}
	}
	if cerr := w.dc.Close(); err == nil {
		err = cerr
	}
	w.err = err
	if err == nil && w.sizeAhead {
		if werr := w.cn.writeLines("SIZE " + w.size); werr == nil {
			w.sizeSent = true
		} else {
			w.err = werr
		}
	}
}

// abort ends the writer: a writer blocked on a data connection the
// server no longer reads fails at once. started says whether run was
// started; abort waits for it to end.
func (w *dataWriter) abort(started bool) {
	if !started {
		w.dc.Close()
		return
	}
	select {
	case <-w.done:
		return
	default:
	}
	if t, ok := w.dc.(*tlsDataConn); ok {
		t.raw.Close()
	} else {
		w.dc.Close()
	}
	<-w.done
}
