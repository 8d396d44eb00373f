package fs

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// TestToErrno: each kind of failure gets its errno, and network errnos
// (the server down, a connection reset) become EIO instead of leaking.
func TestToErrno(t *testing.T) {
	var logged []string
	m := &mount{opts: Options{Logf: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }}}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	// A failure without a reply maps like a reply of the same kind.
	wrapped := func(kind, cause error) error {
		return &ftpconn.NoReplyError{Op: "LIST", Path: "/d", Msg: "x", Kind: kind, Err: cause}
	}
	reply := func(kind error) error {
		return &ftpconn.ReplyError{Op: "LIST", Path: "/d", Code: 550, Msg: "x", Kind: kind}
	}
	for _, c := range []struct {
		name string
		err  error
		want syscall.Errno
	}{
		{"not found", wrapped(ftpconn.ErrNotFound, nil), syscall.ENOENT},
		{"reply not found", reply(ftpconn.ErrNotFound), syscall.ENOENT},
		{"reply permission", reply(ftpconn.ErrPermission), syscall.EACCES},
		{"reply refused", reply(ftpconn.ErrRefused), syscall.EIO},
		{"short transfer", wrapped(ftpconn.ErrShortTransfer, nil), syscall.EIO},
		{"not supported", wrapped(ftpconn.ErrNotSupported, nil), syscall.ENOTSUP},
		{"invalid name", wrapped(ftpconn.ErrInvalidName, nil), syscall.EINVAL},
		{"permission", wrapped(ftpconn.ErrPermission, nil), syscall.EACCES},
		{"exists", wrapped(ftpconn.ErrExists, nil), syscall.EEXIST},
		{"no space", wrapped(ftpconn.ErrNoSpace, nil), syscall.ENOSPC},
		{"name too long", fmt.Errorf("STOR /x: %w", ftpconn.ErrNameTooLong), syscall.ENAMETOOLONG},
		{"refused", wrapped(ftpconn.ErrRefused, nil), syscall.EIO},
		{"connection refused", wrapped(ftpconn.ErrTransient, refused), syscall.EIO},
		{"bare connection refused", refused, syscall.EIO},
		{"connection reset", reset, syscall.EIO},
		{"network timeout", wrapped(ftpconn.ErrTransient, timeout), syscall.EIO},
		{"dial timeout", wrapped(ftpconn.ErrTransient, &net.OpError{Op: "dial", Err: context.DeadlineExceeded}), syscall.EIO},
		{"interrupted", context.Canceled, syscall.EINTR},
		{"our own errno", syscall.EISDIR, syscall.EISDIR},
		{"local file", &os.PathError{Op: "open", Path: "/spool", Err: syscall.ENOSPC}, syscall.ENOSPC},
	} {
		logged = nil
		if got := m.toErrno("op", "/p", c.err); got != c.want {
			t.Errorf("%s: %v gives %v, want %v", c.name, c.err, got, c.want)
		}
		if c.want == syscall.EIO && len(logged) != 1 {
			t.Errorf("%s: EIO logged %d times, want once with the cause: %q", c.name, len(logged), logged)
		}
	}
}
