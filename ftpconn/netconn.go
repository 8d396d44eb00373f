package ftpconn

import (
	"bytes"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineConn keeps a deadline of Config.Timeout ahead of every Read and
// Write, so that a server that stops answering (or stops sending data)
// fails the call after the timeout instead of blocking it forever.
// jlaffaye/ftp sets no deadline of its own after dialing. The timeout can
// be shortened for one phase (for example while waiting for the reply
// after an early close).
//
// Moving a deadline costs a runtime timer update, which at a few hundred
// thousand reads a second shows; so it is moved only once it is less than
// half the timeout away. A silent server is therefore noticed after
// between half the timeout and the whole of it.
//
// A timeout is final for the whole session: the control connection and
// its data connections share one silence, and once any of them timed out
// every later read and write on any of them fails at once with that
// error. Without this, jlaffaye follows an EPSV that timed out with a PASV
// on the same connection (another full wait), closing a transfer whose
// data timed out waits for a reply on the control connection, and QUIT
// waits too. An absolute limit (setLimit) caps the deadlines of one phase,
// so that a login shares the budget of the checkout it serves.
type deadlineConn struct {
	net.Conn
	timeout atomic.Int64 // time.Duration; 0 means none
	aborted atomic.Bool  // set by abort: deadlines stay in the past
	limit   atomic.Int64 // unix nanoseconds no deadline may pass; 0 means none
	silent  *silence     // shared with the other connections of the session

	rdl, wdl time.Time // the deadlines set; each used by one goroutine at a time (reads, writes)
}

// silence is the first timeout of one FTP session, shared by its
// control and data connections.
type silence struct {
	err atomic.Pointer[error]
}

// get returns the timeout seen, or nil.
func (s *silence) get() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

// note remembers err if it is a timeout.
func (s *silence) note(err error) {
	if err != nil && isTimeout(err) {
		s.err.CompareAndSwap(nil, &err)
	}
}

func newDeadlineConn(c net.Conn, timeout time.Duration, s *silence) *deadlineConn {
	d := &deadlineConn{Conn: c, silent: s}
	d.timeout.Store(int64(timeout))
	return d
}

// setTimeout changes the timeout; it takes effect at the next call.
func (c *deadlineConn) setTimeout(d time.Duration) {
	c.timeout.Store(int64(d))
	c.rdl, c.wdl = time.Time{}, time.Time{} // force a re-arm
}

// abort makes every pending and later Read and Write fail at once (a
// caller's context ended). The connection is unusable afterwards.
func (c *deadlineConn) abort() {
	c.aborted.Store(true)
	_ = c.Conn.SetDeadline(time.Unix(1, 0))
}

// setLimit caps every deadline at t (zero: no cap); it takes effect at the
// next call.
func (c *deadlineConn) setLimit(t time.Time) {
	if t.IsZero() {
		c.limit.Store(0)
	} else {
		c.limit.Store(t.UnixNano())
	}
	c.rdl, c.wdl = time.Time{}, time.Time{}
}

// rearm moves *dl to now+timeout (or the limit, if sooner) when it is
// less than half the timeout away (or was never set), calling set with the
// new deadline.
func (c *deadlineConn) rearm(dl *time.Time, set func(time.Time) error) {
	t := time.Duration(c.timeout.Load())
	if t <= 0 || c.aborted.Load() {
		return
	}
	now := time.Now()
	if dl.IsZero() || dl.Sub(now) < t/2 {
		*dl = now.Add(t)
		if l := c.limit.Load(); l != 0 && time.Unix(0, l).Before(*dl) {
			*dl = time.Unix(0, l)
		}
		_ = set(*dl)
		if c.aborted.Load() { // abort ran meanwhile: keep its deadline
			_ = set(time.Unix(1, 0))
		}
	}
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if err := c.silent.get(); err != nil {
		return 0, err
	}
	c.rearm(&c.rdl, c.Conn.SetReadDeadline)
	n, err := c.Conn.Read(p)
	c.silent.note(err)
	return n, err
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if err := c.silent.get(); err != nil {
		return 0, err
	}
	c.rearm(&c.wdl, c.Conn.SetWriteDeadline)
	n, err := c.Conn.Write(p)
	c.silent.note(err)
	return n, err
}

// protoLog receives the control-connection dialogue from jlaffaye's debug
// output (DialWithDebugOutput), which taps the connection above TLS, so
// FTPS dialogues are logged in clear text too. It also receives the lines
// of LIST and MLSD data (which is how an unparseable listing line shows).
// Commands and replies come through one writer; each line is labelled by
// its shape: a reply ("227 ...", "211-...", or a continuation line starting
// with a space) is "<", a command (an upper-case verb) is ">", anything
// else is listing data, "|". The argument of PASS is masked.
type protoLog struct {
	logf func(format string, args ...any)
	id   int

	mu   sync.Mutex
	part []byte // GUARDED_BY(mu): an unfinished line
}

func newProtoLog(id int, logf func(string, ...any)) *protoLog {
	return &protoLog{logf: logf, id: id}
}

func (l *protoLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	buf := append(l.part, p...)
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(buf[:i]), "\r")
		buf = buf[i+1:]
		l.logf("ftp[%d] %s %s", l.id, lineKind(line), maskSecret(line))
	}
	l.part = append(l.part[:0], buf...)
	return len(p), nil
}

// lineKind tells replies, commands and listing data apart.
func lineKind(line string) string {
	if len(line) >= 4 && isDigits(line[:3]) && (line[3] == ' ' || line[3] == '-') || len(line) == 3 && isDigits(line) {
		return "<"
	}
	if strings.HasPrefix(line, " ") {
		return "<" // continuation of a multi-line reply (FEAT, STAT)
	}
	verb, _, _ := strings.Cut(line, " ")
	if len(verb) >= 3 && len(verb) <= 4 && strings.ToUpper(verb) == verb && !strings.ContainsAny(verb, "0123456789-;=") {
		return ">"
	}
	return "|"
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// maskSecret hides the password of a PASS command.
func maskSecret(line string) string {
	if len(line) >= 4 && strings.EqualFold(line[:4], "PASS") {
		return "PASS ****"
	}
	return line
}

// isTimeout tells a network wait that ran out of time: a deadline of ours
// (os.ErrDeadlineExceeded) or a dial that timed out.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
