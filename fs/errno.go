package fs

import (
	"context"
	"errors"
	"syscall"

	"github.com/ftpmount/ftpmount/fs/core"
	"github.com/ftpmount/ftpmount/ftpconn"
)

// toErrno is the one place where errors become errno values. Failures that
// a user needs to hear about (EIO and the like) are logged here, once, with
// the server's reply; expected ones (ENOENT) only in debug mode.
func (m *mount) toErrno(op, p string, err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	var e syscall.Errno
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e = syscall.EINTR
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
