package ftpconn

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineConn re-arms a deadline before every Read and Write, so that a
// server that stops answering (or stops sending data) fails the call after
// the timeout instead of blocking forever. jlaffaye/ftp sets no deadline of
// its own after dialing. The timeout can be shortened for one phase (for
// example while waiting for the reply after an early close).
type deadlineConn struct {
	net.Conn
	timeout atomic.Int64 // time.Duration; 0 means none
	log     *protoLog    // nil unless this is a control connection with debug on
}

func newDeadlineConn(c net.Conn, timeout time.Duration) *deadlineConn {
	d := &deadlineConn{Conn: c}
	d.timeout.Store(int64(timeout))
	return d
}

func (c *deadlineConn) setTimeout(d time.Duration) { c.timeout.Store(int64(d)) }

func (c *deadlineConn) Read(p []byte) (int, error) {
	if t := time.Duration(c.timeout.Load()); t > 0 {
		_ = c.Conn.SetReadDeadline(time.Now().Add(t))
	}
	n, err := c.Conn.Read(p)
	if c.log != nil && n > 0 {
		c.log.write("<", p[:n])
	}
	return n, err
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if t := time.Duration(c.timeout.Load()); t > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(t))
	}
	if c.log != nil {
		c.log.write(">", p)
	}
	return c.Conn.Write(p)
}

// protoLog writes the control-connection dialogue line by line to a debug
// logger, with the argument of PASS masked.
type protoLog struct {
	logf func(format string, args ...any)
	id   int

	mu   sync.Mutex
	part map[string][]byte // GUARDED_BY(mu): unfinished line per direction
}

func newProtoLog(id int, logf func(string, ...any)) *protoLog {
	return &protoLog{logf: logf, id: id, part: map[string][]byte{}}
}

func (l *protoLog) write(dir string, p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	buf := append(l.part[dir], p...)
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(buf[:i]), "\r")
		buf = buf[i+1:]
		l.logf("ftp[%d] %s %s", l.id, dir, maskSecret(line))
	}
	l.part[dir] = append([]byte(nil), buf...)
}

// maskSecret hides the password of a PASS command.
func maskSecret(line string) string {
	if len(line) >= 4 && strings.EqualFold(line[:4], "PASS") {
		return "PASS ****"
	}
	return line
}
