package ftpconn

import (
	"errors"
	"fmt"
	"net/textproto"

	"github.com/jlaffaye/ftp"
)

// Sentinel errors. Every error returned by this package wraps one of them
// (test with errors.Is) or is a plain I/O failure.
var (
	ErrNotFound      = errors.New("no such file or directory")
	ErrPermission    = errors.New("permission denied")
	ErrExists        = errors.New("file exists")
	ErrNotEmpty      = errors.New("directory not empty")
	ErrNoSpace       = errors.New("no space left on server")
	ErrInvalidName   = errors.New("name not allowed")
	ErrLogin         = errors.New("login refused")
	ErrNotSupported  = errors.New("not supported by the server")
	ErrShortTransfer = errors.New("transfer incomplete")
	ErrTransient     = errors.New("connection lost")
	ErrTLS           = errors.New("TLS failed")
	// ErrIncomplete comes with the entries of a listing the server said it
	// cut short (List returns both): a name missing from it may exist.
	ErrIncomplete = errors.New("listing incomplete")
)

// ReplyError is a failed FTP operation with the server's reply.
type ReplyError struct {
	Op   string // FTP command or operation, e.g. "STOR"
	Path string
	Code int    // reply code, 0 when the failure was not a reply
	Msg  string // reply text or cause
	Kind error  // one of the sentinels above
	Err  error  // the underlying failure, when there was one (a timeout, say)
}

func (e *ReplyError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("%s %s: %d %s", e.Op, e.Path, e.Code, e.Msg)
	}
	return fmt.Sprintf("%s %s: %s", e.Op, e.Path, e.Msg)
}

// Unwrap gives both the sentinel and the cause: errors.Is(err, ErrNotFound)
// and errors.Is(err, os.ErrDeadlineExceeded) both work.
func (e *ReplyError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// replyCode returns the FTP reply code inside err, or 0.
func replyCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// kindOf maps a reply code to a sentinel. 550 maps to ErrNotFound here;
// callers that can tell "missing" from "refused" refine it (see refine550).
func kindOf(code int) error {
	switch code {
	case 550:
		return ErrNotFound
	case 553, 530, 532, 534:
		return ErrPermission
	case 452, 552:
		return ErrNoSpace
	case 501:
		return ErrInvalidName
	case 500, 502, 504, 202:
		return ErrNotSupported
	case 421, 425, 426, 450, 451:
		return ErrTransient
	}
	return errors.New("unexpected server reply")
}

// wrap turns any error from the library into a *ReplyError. It returns nil
// for nil and leaves an existing *ReplyError alone.
func wrap(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var re *ReplyError
	if errors.As(err, &re) {
		return err
	}
	if errors.Is(err, ftp.ErrInvalidCommand) {
		return &ReplyError{Op: op, Path: path, Msg: "name contains CR or LF", Kind: ErrInvalidName}
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return &ReplyError{Op: op, Path: path, Code: te.Code, Msg: te.Msg, Kind: kindOf(te.Code)}
	}
	return &ReplyError{Op: op, Path: path, Msg: err.Error(), Kind: ErrTransient, Err: err}
}

// connBroken reports whether err means the control connection can no longer
// be trusted. A reply other than 421 leaves the connection usable; anything
// else (dead socket, timeout, EOF, a reply stream that may be out of step)
// does not, and such a connection is closed instead of going back to the pool.
func connBroken(err error) bool {
	var short *shortUpload
	if err == nil || errors.Is(err, ftp.ErrInvalidCommand) || errors.As(err, &short) {
		return false
	}
	if code := replyCode(err); code != 0 {
		return code == 421
	}
	var re *ReplyError
	if errors.As(err, &re) {
		if re.Code != 0 {
			return re.Code == 421
		}
		return re.Kind == ErrTransient
	}
	return true
}

// retryable reports whether an operation that failed with err may succeed
// on a fresh connection. A timeout is final: the user set how long a silent
// server may take, and trying again would multiply it.
func retryable(err error) bool {
	var short *shortUpload
	if isTimeout(err) || errors.As(err, &short) {
		return false // a short upload is handled by store, which resumes it
	}
	if code := replyCode(err); code != 0 {
		return code == 421 || code == 425 || code == 426 || code == 450
	}
	var re *ReplyError
	if errors.As(err, &re) && re.Code != 0 {
		return re.Code == 421 || re.Code == 425 || re.Code == 426 || re.Code == 450
	}
	return connBroken(err)
}
