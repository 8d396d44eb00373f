package fs

import (
	"context"
	"errors"
	"net"
	"syscall"

	"github.com/ftpmount/ftpmount/fs/core"
	"github.com/ftpmount/ftpmount/ftpconn"
)

// toErrno is the one place where errors become errno values. Failures that
// a user needs to hear about (EIO and the like) are logged here, once, with
// the server's reply; expected ones (ENOENT) only in debug mode.
//
// An errno inside a network error (ECONNREFUSED, ECONNRESET, ...) is the
// cause, not the answer: the server could not be reached, which is EIO,
// with that cause in the log. Only an errno of our own (a bare
// syscall.Errno returned by fs itself, or a local file's error) passes
// through.
func (m *mount) toErrno(op, p string, err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var errno syscall.Errno
	var opErr *net.OpError // every failure of a socket (dial, read, write)
	if errors.As(err, &errno) && !errors.As(err, &opErr) {
		return errno
	}
	var e syscall.Errno
	switch {
	case errors.Is(err, context.Canceled):
		e = syscall.EINTR
	case errors.Is(err, ftpconn.ErrNameTooLong):
		e = syscall.ENAMETOOLONG
	case errors.Is(err, ftpconn.ErrNotFound):
		e = syscall.ENOENT
	case errors.Is(err, ftpconn.ErrPermission), errors.Is(err, ftpconn.ErrLogin):
		e = syscall.EACCES
	case errors.Is(err, ftpconn.ErrExists):
		e = syscall.EEXIST
	case errors.Is(err, ftpconn.ErrNotEmpty):
		e = syscall.ENOTEMPTY
	case errors.Is(err, ftpconn.ErrNoSpace):
		e = syscall.ENOSPC
	case errors.Is(err, ftpconn.ErrInvalidName):
		e = syscall.EINVAL
	case errors.Is(err, ftpconn.ErrNotSupported):
		e = syscall.ENOTSUP
	case errors.Is(err, core.ErrNotDir):
		e = syscall.ENOTDIR
	case errors.Is(err, core.ErrIsDir):
		e = syscall.EISDIR
	case errors.Is(err, core.ErrNotOpen):
		e = syscall.EBADF
	case errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &opErr):
		e = syscall.EINTR // a caller's deadline, not a network timeout
	default:
		e = syscall.EIO
	}
	if e == syscall.ENOENT || e == syscall.EEXIST || e == syscall.ENOTEMPTY || e == syscall.EINTR {
		m.debugf("%s %s: %v (%v)", op, p, err, e)
	} else {
		m.logf("%s %s: %v (%v)", op, p, err, e)
	}
	return e
}
