package ftpconn

import (
	"context"
	"errors"
	"io"
	"net/textproto"
	"path"
	"time"
)

// SizeUnknown is the size of a file whose length is not known (yet): for
// OpenReader, for UploadStream's final before its source has ended, and
// in UploadState.Total while a streamed file is still being written.
const SizeUnknown int64 = -1

// Client is what the rest of ftpmount sees of the server. Every method that
// may block takes a context first; all are safe for concurrent use.
type Client interface {
	// List returns the entries of a directory, without "." and "..".
	// ErrNotFound when the directory does not exist. When the server says
	// it cut the listing short, List returns the entries it got and an
	// error wrapping ErrIncomplete: a name not among them may exist (Stat).
	List(ctx context.Context, dir string) ([]Entry, error)
	// Stat asks the server about one name (MLST, else SIZE/MDTM, CWD).
	Stat(ctx context.Context, p string) (Entry, error)
	// OpenReader prepares ranged reads of a file expected to be size bytes
	// long (SizeUnknown if unknown). No connection is used until the first read.
	OpenReader(p string, size int64) Reader
	// Upload stores size bytes read from src as the file p and checks the
	// server's size afterwards.
	Upload(ctx context.Context, p string, src io.ReaderAt, size int64) error
	// Append stores bytes [from, size) of src at offset from of the file p
	// (REST+STOR), which must already hold exactly from bytes, and checks
	// the server's size afterwards. ErrNotSupported when the server
	// refuses to resume uploads: upload the whole file instead.
	Append(ctx context.Context, p string, src io.ReaderAt, from, size int64) error
	// UploadStream stores as p the bytes src yields up to its io.EOF:
	// src may make reads wait for bytes still being written. final is
	// the size to check the server's against: known once src has
	// returned io.EOF, SizeUnknown before (it is also asked after a transfer cut
	// short, to resume it). Cancelling ctx (src should then fail its reads)
	// abandons the upload; the server may keep a partial file.
	UploadStream(ctx context.Context, p string, src io.ReaderAt, final func() int64) error
	Mkdir(ctx context.Context, p string) error
	Rmdir(ctx context.Context, p string) error
	Delete(ctx context.Context, p string) error
	Rename(ctx context.Context, from, to string) error
	// ModTime asks the server for a file's modification time (RFC 3659
	// MDTM: UTC, to the second or better), where a LIST line gives only
	// minutes. ErrNotSupported when the server has no MDTM.
	ModTime(ctx context.Context, p string) (time.Time, error)
	// SetTime sets a file's modification time (MFMT or vsftpd's MDTM).
	// ErrNotSupported when the server can do neither.
	SetTime(ctx context.Context, p string, t time.Time) error
	// Chmod sets the permission bits of p (SITE CHMOD). ErrNotSupported
	// when the server has no such command.
	Chmod(ctx context.Context, p string, mode uint32) error
	// Symlink makes p a symbolic link to target (SITE SYMLINK).
	// ErrNotSupported when the server has no such command.
	Symlink(ctx context.Context, target, p string) error
	// Close drops idle connections. Open Readers must be closed first.
	Close() error
}

// Reader reads one remote file at any offset. Sequential reads continue on
// one open data connection; a jump restarts the transfer with REST.
type Reader interface {
	ReadAt(ctx context.Context, p []byte, off int64) (int, error)
	Close() error
}

type client struct {
	cfg      Config
	pool     *pool
	loginDir string // PWD after the first login (logindir.go)
	site     siteSupport
}

// Dial connects and logs in once, so that a wrong password or an unreachable
// server is reported now, and returns a Client whose pool keeps that
// connection.
func Dial(ctx context.Context, cfg Config) (Client, error) {
	c := &client{cfg: cfg.withDefaults()}
	c.pool = newPool(c.cfg)
	c.cfg.Activity.setPool(c.pool)
	cn, err := c.pool.get(ctx)
	if err != nil {
		return nil, err
	}
	c.loginDir, err = cn.askLoginDir(ctx)
	c.pool.put(cn, err)
	if c.cfg.Encoding != nil {
		return &codecClient{Client: c, enc: c.cfg.Encoding, debug: c.cfg.debugf}, nil
	}
	return c, nil
}

// do runs fn on a pooled connection. When the connection dies under it, fn
// is run again on a fresh one, as the retry policy says (retry.go); fn is
// told whether this is a retry so that non-idempotent operations can accept
// "already done".
func (c *client) do(ctx context.Context, op, p string, fn func(cn *conn, retry bool) error) error {
	return c.doAs(ctx, forOperation, op, p, fn)
}

// doAs is do with the connection checked out as how says.
func (c *client) doAs(ctx context.Context, how checkout, op, p string, fn func(cn *conn, retry bool) error) error {
	if err := checkPath(op, p); err != nil {
		return err
	}
	var r retrier
	for {
		retry := r.retry()
		err := c.once(ctx, how, func(cn *conn) error { return fn(cn, retry) })
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil && errors.Is(err, ctx.Err()), errors.Is(err, errNoSpareConn):
			return err
		case !r.again(ctx, err):
			return wrap(op, p, err)
		}
		c.cfg.debugf("retrying %s %s after: %v", op, p, err)
	}
}

// once runs fn on a connection checked out as how says, and puts the
// connection back (or drops it, when err says it is broken).
func (c *client) once(ctx context.Context, how checkout, fn func(cn *conn) error) error {
	cn, err := c.pool.checkout(ctx, how)
	if err != nil {
		return err
	}
	err = fn(cn)
	c.pool.put(cn, err)
	return err
}

func (c *client) List(ctx context.Context, dir string) ([]Entry, error) {
	var out []Entry
	err := c.do(ctx, "LIST", dir, func(cn *conn, _ bool) error {
		var err error
		out, err = cn.listCtx(ctx, dir)
		return err
	})
	if err != nil && !errors.Is(err, ErrIncomplete) {
		out = nil
	}
	return out, err
}

func (c *client) Mkdir(ctx context.Context, p string) error {
	return c.do(ctx, "MKD", p, func(cn *conn, retry bool) error {
		err := cn.sc.MakeDir(p)
		if err == nil || replyCode(err) == 0 {
			return err
		}
		e, found, lerr := cn.lookup(p)
		switch {
		case lerr != nil && errors.Is(lerr, ErrNotFound):
			return wrap("MKD", p, lerr) // the parent is missing
		case found && retry && e.Type == TypeDir:
			return nil // our first attempt made it
		case found:
			return &ReplyError{Op: "MKD", Path: p, Code: replyCode(err), Msg: errText(err), Kind: ErrExists}
		}
		return refine(wrap("MKD", p, err), ErrPermission)
	})
}

func (c *client) Rmdir(ctx context.Context, p string) error {
	return c.do(ctx, "RMD", p, func(cn *conn, retry bool) error {
		err := cn.sc.RemoveDir(p)
		if err == nil || replyCode(err) == 0 {
			return err
		}
		e, found, _ := cn.lookup(p)
		if !found {
			if retry {
				return nil
			}
			return refine(wrap("RMD", p, err), ErrNotFound)
		}
		if e.Type != TypeDir {
			// Not a directory (vsftpd lists a file when asked to list
			// it: it must not look "not empty").
			return refine(wrap("RMD", p, err), ErrPermission)
		}
		if kids, lerr := cn.list(p); lerr == nil && len(kids) > 0 {
			return refine(wrap("RMD", p, err), ErrNotEmpty)
		}
		return refine(wrap("RMD", p, err), ErrPermission)
	})
}

func (c *client) Delete(ctx context.Context, p string) error {
	return c.do(ctx, "DELE", p, func(cn *conn, retry bool) error {
		err := cn.sc.Delete(p)
		if err == nil || replyCode(err) == 0 {
			return err
		}
		if _, found, _ := cn.lookup(p); !found {
			if retry {
				return nil
			}
			return refine(wrap("DELE", p, err), ErrNotFound)
		}
		return refine(wrap("DELE", p, err), ErrPermission)
	})
}

func (c *client) Rename(ctx context.Context, from, to string) error {
	if err := checkPath("RNTO", to); err != nil {
		return err
	}
	return c.do(ctx, "RNFR/RNTO", from, func(cn *conn, retry bool) error {
		err := cn.rename(ctx, from, to) // renamepipe.go
		if err == nil || replyCode(err) == 0 {
			return err
		}
		if ok, cerr := cn.renameCaseOnly(ctx, from, to); ok {
			return cerr // see renamecase.go
		}
		_, srcFound, _ := cn.lookup(from)
		if !srcFound {
			if _, dstFound, _ := cn.lookup(to); retry && dstFound {
				return nil
			}
			return refine(wrap("RNFR", from, err), ErrNotFound)
		}
		if _, lerr := cn.list(path.Dir(to)); errors.Is(lerr, ErrNotFound) {
			return refine(wrap("RNTO", to, err), ErrNotFound)
		}
		return refine(wrap("RNTO", to, err), ErrPermission)
	})
}

func (c *client) ModTime(ctx context.Context, p string) (time.Time, error) {
	var t time.Time
	err := c.do(ctx, "MDTM", p, func(cn *conn, _ bool) error {
		if !cn.sc.IsGetTimeSupported() {
			return &NoReplyError{Op: "MDTM", Path: p, Msg: "server has no MDTM", Kind: ErrNotSupported}
		}
		code, msg, err := cn.Cmd(ctx, "MDTM "+p)
		if err != nil {
			return err
		}
		if code != 213 {
			return &textproto.Error{Code: code, Msg: msg}
		}
		var ok bool
		if t, ok = cn.mdtmTime(msg); !ok {
			return &NoReplyError{Op: "MDTM", Path: p, Msg: "reply not understood: " + msg, Kind: ErrNotSupported}
		}
		return nil
	})
	return t, err
}

func (c *client) SetTime(ctx context.Context, p string, t time.Time) error {
	return c.do(ctx, "MFMT", p, func(cn *conn, _ bool) error {
		if !cn.sc.IsSetTimeSupported() {
			return &NoReplyError{Op: "MFMT", Path: p, Msg: "server cannot set times", Kind: ErrNotSupported}
		}
		if _, mfmt := cn.feat["MFMT"]; !mfmt && c.cfg.TimeZone != nil {
			return cn.setTimeLocal(ctx, p, t, c.cfg.TimeZone) // see timezone.go
		}
		return cn.sc.SetTime(p, t)
	})
}

func (c *client) Close() error {
	c.pool.closeAll()
	return nil
}

// refine replaces the sentinel of a 550/553-style reply error (or of a
// failure without a reply, such as a short transfer) once the caller
// found out what it meant. A reply that said the line was too long keeps
// saying so.
func refine(err error, kind error) error {
	var re *ReplyError
	if errors.As(err, &re) {
		if re.Kind == ErrNameTooLong {
			return err
		}
		cp := *re
		cp.Kind = kind
		return &cp
	}
	var ne *NoReplyError
	if errors.As(err, &ne) && ne.Kind != ErrNameTooLong {
		cp := *ne
		cp.Kind = kind
		return &cp
	}
	return err
}
