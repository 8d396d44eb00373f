package ftpconn

import (
	"context"
	"errors"
	"net"
	"net/textproto"
	"os"
	"strings"
	"testing"

	"github.com/jlaffaye/ftp"
)

// TestClassify is the reply table: code, and where it matters the command
// and the server's words, to kind.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		cmd  string
		code int
		msg  string
		want error
	}{
		{"RETR", 550, "No such file", ErrNotFound},
		{"SIZE", 550, "Could not get file size.", ErrNotFound},
		{"DELE", 550, "", ErrNotFound},
		{"RMD", 550, "", ErrNotFound},
		{"RNFR", 550, "", ErrNotFound},
		{"STOR", 550, "Permission denied", ErrPermission},
		{"MKD", 550, "Create directory operation failed.", ErrPermission},
		{"RNTO", 550, "", ErrPermission},
		{"STOR", 553, "Could not create file.", ErrPermission},
		{"PASS", 530, "Login incorrect.", ErrPermission},
		{"STOR", 452, "", ErrNoSpace},
		{"STOR", 552, "", ErrNoSpace},
		{"MKD", 501, "", ErrInvalidName},
		{"SIZE", 500, "Input line too long.", ErrNameTooLong},
		{"MLSD", 500, "Unknown command.", ErrNotSupported},
		{"MFMT", 502, "", ErrNotSupported},
		{"REST", 504, "", ErrNotSupported},
		{"RETR", 421, "Timeout.", ErrTransient},
		{"RETR", 425, "", ErrTransient},
		{"RETR", 426, "", ErrTransient},
		{"RETR", 450, "", ErrTransient},
		{"STOR", 451, "", ErrTransient},
		{"SITE", 455, "", ErrTransient},
		{"SITE", 599, "", ErrRefused},
		{"NOOP", 331, "", ErrRefused},
	} {
		if got := classify(c.cmd, c.code, c.msg); got != c.want {
			t.Errorf("%s -> %d %s: %v, want %v", c.cmd, c.code, c.msg, got, c.want)
		}
	}
	// wrap reads the command from ops like "RNFR/RNTO".
	err := wrap("RNFR/RNTO", "/a", &textproto.Error{Code: 550, Msg: "x"})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("wrap RNFR/RNTO 550: %v", err)
	}
}

// TestRetryable: which failures are tried again.
func TestRetryable(t *testing.T) {
	timeout := &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}
	reset := &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"421", &textproto.Error{Code: 421}, true},
		{"426", wrap("RETR", "/f", &textproto.Error{Code: 426}), true},
		{"550", &textproto.Error{Code: 550}, false},
		{"reset", wrap("LIST", "/", reset), true},
		{"timeout", wrap("LIST", "/", timeout), false},
		{"dial timeout", &ReplyError{Op: "connect", Kind: ErrTransient, Err: &net.OpError{Op: "dial", Err: context.DeadlineExceeded}}, false},
		{"login", &ReplyError{Op: "login", Code: 530, Kind: ErrLogin}, false},
		{"name too long", checkPath("STOR", "/"+strings.Repeat("a", maxCommandLine)), false},
		{"short upload", &shortUpload{got: 1, want: 2}, true},
		{"no spare", errNoSpareConn, false},
	} {
		if got := retryable(c.err); got != c.want {
			t.Errorf("%s: retryable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
	if connBroken(&shortUpload{got: 1, want: 2}) {
		t.Error("a short upload must leave the connection in the pool")
	}
}

// TestRetrier: maxAttempts tries in a row, progress resets the count, a
// final error stops at once.
func TestRetrier(t *testing.T) {
	var r retrier
	tries := 1
	for r.again(context.Background(), &textproto.Error{Code: 421}) {
		tries++
	}
	if tries != maxAttempts {
		t.Errorf("%d tries, want %d", tries, maxAttempts)
	}
	r = retrier{}
	if !r.again(context.Background(), &textproto.Error{Code: 421}) {
		t.Fatal("first retry refused")
	}
	r.progress()
	if r.retry() {
		t.Error("progress did not reset the count")
	}
	if r.again(context.Background(), &textproto.Error{Code: 550}) {
		t.Error("a 550 is final")
	}
}

// TestCheckPath: paths up to the command line bound pass; longer ones fail
// with ErrNameTooLong before anything is sent.
func TestCheckPath(t *testing.T) {
	ok := "/" + strings.Repeat("a", maxCommandLine-longestPrefix-3)
	if err := checkPath("LIST", ok); err != nil {
		t.Errorf("%d bytes: %v", len(ok), err)
	}
	if err := checkPath("LIST", ok+"b"); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("%d bytes: %v, want ErrNameTooLong", len(ok)+1, err)
	}
}

// TestReplyOrNot: wrap makes a *ReplyError of a reply only; a refusal made here and a failed
// connection become *NoReplyError with the same kinds, causes and text as before.
func TestReplyOrNot(t *testing.T) {
	reset := &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}
	var re *ReplyError
	var ne *NoReplyError

	err := wrap("STOR", "/f", &textproto.Error{Code: 550, Msg: "Permission denied"})
	if !errors.As(err, &re) || re.Code != 550 || !errors.Is(err, ErrPermission) || errors.As(err, &ne) {
		t.Errorf("a 550 reply: %#v", err)
	}
	err = wrap("LIST", "/d", reset)
	if errors.As(err, &re) || !errors.As(err, &ne) || !errors.Is(err, ErrTransient) || !errors.Is(err, reset) ||
		err.Error() != "LIST /d: "+reset.Error() || !connBroken(err) || !retryable(err) {
		t.Errorf("a reset: %#v (%v)", err, err)
	}
	err = wrap("STOR", "/a\nb", ftp.ErrInvalidCommand)
	if errors.As(err, &re) || !errors.As(err, &ne) || !errors.Is(err, ErrInvalidName) || connBroken(err) {
		t.Errorf("CR/LF in a name: %#v", err)
	}
	if again := wrap("RETR", "/x", err); again != err {
		t.Errorf("wrap changed a NoReplyError: %v", again)
	}
	short := &NoReplyError{Op: "STOR", Path: "/f", Msg: "file missing after upload", Kind: ErrShortTransfer}
	if r := refine(short, ErrNotSupported); !errors.Is(r, ErrNotSupported) || errors.Is(r, ErrShortTransfer) || !errors.Is(short, ErrShortTransfer) {
		t.Errorf("refine of a NoReplyError: %v", r)
	}
}
