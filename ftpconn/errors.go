package ftpconn

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"

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
	// ErrNameTooLong: the command carrying the path would be longer than
	// the server takes (see maxCommandLine); nothing was sent.
	ErrNameTooLong = errors.New("file name too long for the server")
	// ErrRefused: a final (5xx) reply that says nothing more specific.
	ErrRefused = errors.New("refused by the server")
)

// ReplyError is a failed FTP operation with the server's reply: the
// reply's code and text, and the kind classify gave it.
type ReplyError struct {
	Op   string // FTP command or operation, e.g. "STOR"
	Path string
	Code int    // the reply code (RFC 959 §4.2), never 0
	Msg  string // reply text
	Kind error  // one of the sentinels above
	Err  error  // the underlying failure, when there was one
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Op, e.Path, e.Code, e.Msg)
}

// Unwrap gives both the sentinel and the cause: errors.Is(err, ErrNotFound)
// and errors.Is(err, os.ErrDeadlineExceeded) both work.
func (e *ReplyError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// NoReplyError is a failed operation that is no reply of the server: a
// check made here before sending (a command the server lacks, a name it
// cannot take), a transfer that came out short, a connection that failed
// or went silent. It has the same kinds as ReplyError (errors.Is works
// alike) and no reply code.
type NoReplyError struct {
	Op   string // FTP command or operation, e.g. "STOR"
	Path string
	Msg  string // what went wrong
	Kind error  // one of the sentinels above
	Err  error  // the underlying failure, when there was one (a timeout, say)
}

func (e *NoReplyError) Error() string { return fmt.Sprintf("%s %s: %s", e.Op, e.Path, e.Msg) }

// Unwrap gives both the sentinel and the cause, like ReplyError's.
func (e *NoReplyError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// failure is the error of op on path that failed with err, of the kind
// the caller chose (dialing and login, where the kind depends on more than
// the reply): a *ReplyError when err carries the server's reply, a
// *NoReplyError when none came (a refused or timed-out connection, a
// failed handshake). Both keep err as the cause.
func failure(op, path string, kind, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &ReplyError{Op: op, Path: path, Code: te.Code, Msg: te.Msg, Kind: kind, Err: err}
	}
	return &NoReplyError{Op: op, Path: path, Msg: err.Error(), Kind: kind, Err: err}
}

// replyCode returns the FTP reply code inside err, or 0.
func replyCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// classify is the one place where a reply becomes a kind of failure: the
// reply code, and where the code alone is ambiguous the command (cmd, as
// sent: "MKD", "STOR"...) and the server's words (msg), give one of the
// sentinels. RFC 959 §4.2 defines the codes; the choices for the
// ambiguous ones:
//
//   - 550 ("file unavailable") means both "no such file" and "permission
//     denied". For commands that name an existing file (RETR, SIZE, DELE,
//     RMD, CWD, LIST, RNFR, MFMT...) it is ErrNotFound; for commands that
//     create one (STOR, APPE, MKD, RNTO) ErrPermission. The operations
//     then look at the parent's listing and refine it (see refine).
//   - 553 ("file name not allowed") is ErrPermission: pure-ftpd and
//     proftpd send it for a write the user may not do.
//   - 500 is ErrNameTooLong when the server says the line was too long
//     (vsftpd: "500 Input line too long."), else ErrNotSupported, like 502
//     and 504 (command not implemented) and 202 (superfluous).
//   - Other 4xx are ErrTransient (try again later), other 5xx ErrRefused.
func classify(cmd string, code int, msg string) error {
	switch code {
	case 550:
		switch cmd {
		case "STOR", "APPE", "MKD", "RNTO", "STOU":
			return ErrPermission
		}
		return ErrNotFound
	case 553, 530, 532, 534:
		return ErrPermission
	case 452, 552:
		return ErrNoSpace
	case 501:
		return ErrInvalidName
	case 500:
		if strings.Contains(strings.ToLower(msg), "too long") {
			return ErrNameTooLong
		}
		return ErrNotSupported
	case 502, 504, 202:
		return ErrNotSupported
	}
	switch {
	case code >= 400 && code < 500:
		return ErrTransient
	case code >= 500 && code < 600:
		return ErrRefused
	}
	return ErrRefused // a reply this package did not expect (1xx, 2xx, 3xx as a failure)
}

// wrap turns any error from the library into a *ReplyError (a reply) or
// a *NoReplyError (a refusal made here, a connection failure). It returns
// nil for nil and leaves an existing *ReplyError or *NoReplyError alone.
// op is the command sent (the first word decides, see classify).
func wrap(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var re *ReplyError
	var ne *NoReplyError
	if errors.As(err, &re) || errors.As(err, &ne) {
		return err
	}
	if errors.Is(err, ftp.ErrInvalidCommand) {
		return &NoReplyError{Op: op, Path: path, Msg: "name contains CR or LF", Kind: ErrInvalidName}
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		cmd, _, _ := strings.Cut(op, "/")
		return &ReplyError{Op: op, Path: path, Code: te.Code, Msg: te.Msg, Kind: classify(cmd, te.Code, te.Msg)}
	}
	return &NoReplyError{Op: op, Path: path, Msg: err.Error(), Kind: ErrTransient, Err: err}
}

// connKeeper is a failure that is no reply and still leaves the connection
// in step (an upload that came out short: the server answered, and SIZE
// was asked after).
type connKeeper interface {
	keepsConn() bool
}

// connBroken reports whether err means the control connection can no longer
// be trusted. A reply other than 421 leaves the connection usable; anything
// else (dead socket, timeout, EOF, a reply stream that may be out of step)
// does not, and such a connection is closed instead of going back to the pool.
func connBroken(err error) bool {
	var keeper connKeeper
	if err == nil || errors.Is(err, ftp.ErrInvalidCommand) || errors.As(err, &keeper) && keeper.keepsConn() {
		return false
	}
	if errors.Is(err, ErrNameTooLong) {
		return false // refused before sending
	}
	if code := replyCode(err); code != 0 {
		return code == 421
	}
	var re *ReplyError
	if errors.As(err, &re) {
		return re.Code == 421
	}
	var ne *NoReplyError
	if errors.As(err, &ne) {
		return ne.Kind == ErrTransient
	}
	return true
}

// maxCommandLine is the longest command line (CR LF included) this package
// sends. Servers differ and few say: vsftpd answers "500 Input line too
// long" above 4096 bytes, pure-ftpd "421 Line too long" (and hangs up),
// and proftpd never answers at all (the operation waited out the timeout);
// all three take 4000 (tried on the test servers). Servers with a shorter
// limit that say so are understood too: pyftpdlib's "500 Command too long"
// above 2048 bytes is classified ErrNameTooLong (see classify).
const maxCommandLine = 4000

// longestPrefix is the longest command and argument prefix sent before a
// path ("LIST -a /dir").
const longestPrefix = len("LIST -a ")

// checkPath fails with ErrNameTooLong when a command naming p would be
// longer than maxCommandLine: the caller gets ENAMETOOLONG at once instead
// of a refusal that reads like a missing file, or a wait.
func checkPath(op, p string) error {
	if longestPrefix+len(p)+len("\r\n") <= maxCommandLine {
		return nil
	}
	short := p
	if len(short) > 60 {
		short = short[:30] + "..." + short[len(short)-27:]
	}
	return fmt.Errorf("%s %s (%d bytes; the server takes lines of %d): %w", op, short, len(p), maxCommandLine, ErrNameTooLong)
}
