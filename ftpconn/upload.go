package ftpconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
)

// Upload stores the file with STOR, then asks the server how many bytes it
// has. The size decides, not the reply: servers answer 426 or 451 after a
// transfer they did store, and some answer 226 after one they truncated.
// A file that came out short is completed with REST+STOR from where the
// server stopped, or, where the server refuses that, sent again, as the
// retry policy allows (retry.go); a refusal (permission, no space, missing directory)
// fails at once.
func (c *client) Upload(ctx context.Context, p string, src io.ReaderAt, size int64) error {
	return c.store(ctx, p, source{src, size, nil}, 0)
}

func (c *client) UploadStream(ctx context.Context, p string, src io.ReaderAt, final func() int64) error {
	return c.store(ctx, p, source{src, SizeUnknown, final}, 0)
}

// source is what an upload sends: bytes [0, size) of r, or, with size
// SizeUnknown (a stream), all r yields until io.EOF, final() bytes.
type source struct {
	r     io.ReaderAt
	size  int64
	final func() int64
}

// total is the size the server must end up with; for a stream, known
// once r has returned io.EOF, and SizeUnknown before (a transfer cut short).
func (s source) total() int64 {
	if s.size >= 0 {
		return s.size
	}
	return s.final()
}

// checkout is how a transfer of s holds its connection: a stream waits on
// its writer (see forStream).
func (s source) checkout() checkout {
	if s.size == SizeUnknown {
		return forStream
	}
	return forOperation
}

// from returns a reader of the bytes from off on.
func (s source) from(off int64) io.Reader {
	if s.size >= 0 {
		return io.NewSectionReader(s.r, off, s.size-off)
	}
	return io.NewSectionReader(s.r, off, math.MaxInt64-off)
}

func (c *client) Append(ctx context.Context, p string, src io.ReaderAt, from, size int64) error {
	err := c.store(ctx, p, source{src, size, nil}, from)
	var re *ReplyError
	if errors.As(err, &re) && !errors.Is(err, ErrNoSpace) {
		// REST refused (502, 504), STOR after REST refused (451, 550 on
		// proftpd without AllowStoreRestart).
		return refine(err, ErrNotSupported)
	}
	if errors.Is(err, ErrShortTransfer) {
		return refine(err, ErrNotSupported)
	}
	return err
}

// shortUpload is a STOR after which the server holds got bytes instead of
// the size sent.
type shortUpload struct {
	got, want int64
	reply     error // what the server answered to the transfer, if not 226
}

// keepsConn: the server answered and SIZE was asked; the connection is in
// step (see connBroken).
func (e *shortUpload) keepsConn() bool { return true }

func (e *shortUpload) Error() string {
	if e.want < 0 {
		return fmt.Sprintf("server has %d bytes of a stream cut short (reply: %v)", e.got, e.reply)
	}
	return fmt.Sprintf("server has %d of %d bytes (reply: %v)", e.got, e.want, e.reply)
}

// store makes p hold the bytes of src, given that the server holds
// [0, from) already, and checks the resulting size. Its one loop follows
// the retry policy (retry.go) for connections that die, uploads that come
// out short (resumed where the server stopped) and resumes the server
// refuses (sent again from the start).
func (c *client) store(ctx context.Context, p string, src source, from int64) error {
	if err := checkPath("STOR", p); err != nil {
		return err
	}
	src, done := c.cfg.Activity.track(p, src) // activity.go
	defer done()
	offset := from
	var r retrier
	var last error
	for {
		err := c.once(ctx, src.checkout(), func(cn *conn) error {
			return cn.storeChecked(ctx, p, src, offset)
		})
		if ctx.Err() != nil {
			return ctx.Err() // abandoned (a streamed upload given up)
		}
		var short *shortUpload
		switch {
		case err == nil:
			if last != nil {
				c.cfg.debugf("STOR %s: complete after %v", p, last)
			}
			return nil
		case errors.Is(err, errNoSpareConn):
			return err
		case errors.As(err, &short):
			last = err
			if !r.wait(ctx, maxAttempts) {
				return &NoReplyError{Op: "STOR", Path: p, Msg: last.Error(), Kind: ErrShortTransfer, Err: last}
			}
			if total := src.total(); short.got > offset && (total < 0 || short.got < total) {
				c.cfg.debugf("STOR %s: %v; resuming at %d", p, err, short.got)
				offset = short.got
			} else {
				c.cfg.debugf("STOR %s: %v; sending it again", p, err)
				offset = from
			}
		case offset > from && replyCode(err) != 0 && !errors.Is(err, ErrNoSpace):
			// The server would not resume (REST+STOR refused): start over.
			last = err
			if !r.wait(ctx, maxAttempts) {
				return &NoReplyError{Op: "STOR", Path: p, Msg: last.Error(), Kind: ErrShortTransfer, Err: last}
			}
			c.cfg.debugf("STOR %s: resuming refused (%v); sending it again", p, err)
			offset = from
		case !r.again(ctx, err):
			return wrap("STOR", p, err)
		default:
			c.cfg.debugf("retrying STOR %s after: %v", p, err)
		}
	}
}

// storeChecked sends the bytes of src from offset on to offset of p and
// checks that the server then has them all.
//
// A whole upload of known size goes through our own command path,
// pipelined (storpipe.go); a resumed one (REST, which must be answered
// before STOR may go: a refused REST would make the STOR overwrite the
// file from its start) and a streamed one through the library's.
func (cn *conn) storeChecked(ctx context.Context, p string, src source, offset int64) error {
	var res storResult
	if offset == 0 && src.size >= 0 {
		res = cn.storPipelined(ctx, p, src)
	} else {
		res.err = cn.sc.StorFrom(p, bigCopy{src.from(offset)}, uint64(offset))
	}
	err := transferEnd(res.err)
	switch code := replyCode(err); {
	case err != nil && code == 0:
		return err // the connection died: do() retries on a fresh one
	case code == 550 || code == 553:
		if _, perr := cn.list(path.Dir(p)); errors.Is(perr, ErrNotFound) {
			return refine(wrap("STOR", p, err), ErrNotFound)
		}
		return refine(wrap("STOR", p, err), ErrPermission)
	case err != nil && code != 426 && code != 451 && code != 450:
		return wrap("STOR", p, err)
	}
	size := src.total()
	got := res.size
	if !res.sized {
		var serr error
		if got, serr = cn.remoteSize(p); serr != nil {
			return serr
		}
	}
	if got != size {
		return &shortUpload{got: got, want: size, reply: err}
	}
	if err != nil {
		cn.debugf("STOR %s: %v, but the server has all %d bytes", p, err, size)
	}
	return nil
}

// remoteSize asks SIZE, or the parent's listing where SIZE is not offered.
func (cn *conn) remoteSize(p string) (int64, error) {
	n, err := cn.sc.FileSize(p)
	if err == nil {
		return n, nil
	}
	if replyCode(err) == 0 {
		return 0, err
	}
	e, found, lerr := cn.lookup(p)
	if lerr != nil {
		return 0, lerr
	}
	if !found {
		return 0, &NoReplyError{Op: "STOR", Path: p, Msg: "file missing after upload", Kind: ErrShortTransfer}
	}
	return e.Size, nil
}

// bigCopy makes io.Copy move data in 1 MiB chunks instead of 32 KiB: fewer
// system calls and larger TCP writes for uploads.
type bigCopy struct{ r io.Reader }

func (b bigCopy) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b bigCopy) WriteTo(w io.Writer) (int64, error) {
	return io.CopyBuffer(w, struct{ io.Reader }{b.r}, make([]byte, 1<<20))
}
