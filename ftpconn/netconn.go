package ftpconn

import (
	"bytes"
	"net"
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
type deadlineConn struct {
	net.Conn
	timeout atomic.Int64 // time.Duration; 0 means none
	aborted atomic.Bool  // set by abort: deadlines stay in the past

	rdl, wdl time.Time // the deadlines set; each used by one goroutine at a time (reads, writes)
}

func newDeadlineConn(c net.Conn, timeout time.Duration) *deadlineConn {
	d := &deadlineConn{Conn: c}
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

// rearm moves *dl to now+timeout when it is less than half the timeout
// away (or was never set), calling set with the new deadline.
func (c *deadlineConn) rearm(dl *time.Time, set func(time.Time) error) {
	t := time.Duration(c.timeout.Load())
	if t <= 0 || c.aborted.Load() {
		return
	}
	now := time.Now()
	if dl.IsZero() || dl.Sub(now) < t/2 {
		*dl = now.Add(t)
		_ = set(*dl)
		if c.aborted.Load() { // abort ran meanwhile: keep its deadline
			_ = set(time.Unix(1, 0))
		}
	}
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	c.rearm(&c.rdl, c.Conn.SetReadDeadline)
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	c.rearm(&c.wdl, c.Conn.SetWriteDeadline)
	return c.Conn.Write(p)
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
