package ftptest

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Faults injects failures. Set it up before Start and do not change its
// fields afterwards; put changing behaviour inside the functions instead.
// The functions run on the server's session goroutines, possibly several
// at once: make them safe for concurrent use (atomics, a mutex).
type Faults struct {
	// Hook, if set, is called for every command line before goftp.io sees
	// it, with the verb upper-cased ("RETR") and the rest of the line
	// ("/dir/f"; PASS shows the password). It is also called once per
	// connection with cmd == "" just before the 220 greeting, which a
	// Reply then replaces. A nil Action, or one with only Stall set, lets
	// the command (or the greeting) proceed.
	Hook func(cmd, param string) *Action

	// ShortRead, if set, is asked for every RETR with the absolute FTP
	// path ("/dir/f"). A result n >= 0 sends only n bytes (counted from
	// the REST offset), then closes the data connection and replies 226
	// as if the file were complete. A negative result means no fault.
	ShortRead func(path string) int64

	// FailUpload, if set, is asked after every STOR or APPE has stored all
	// the data received. A non-empty result is sent verbatim as the final
	// reply in place of 226 (e.g. "451 Disk trouble"); the data stays
	// stored, as on real servers that fail late.
	FailUpload func(path string) string
}

// Action says what Hook wants done with one command (or the greeting).
// Stall happens first, then Reply, then HangUp. The command is handled
// normally only when Reply is "" and HangUp is false.
type Action struct {
	Reply  string        // sent verbatim, CRLF added; e.g. "421 Service not available"
	HangUp bool          // close the control connection afterwards
	Stall  time.Duration // sleep first (cut short when the server closes)
}

// ctrlConn wraps one control connection. goftp.io's session reads and
// writes through it, which is where Hook runs: in Read, before a command
// line reaches goftp.io, and in the first Write, before the greeting.
type ctrlConn struct {
	net.Conn // the TCP connection; Close on it bypasses the bookkeeping
	s        *Server
	r        *bufio.Reader
	pending  []byte // rest of the command line being handed to goftp.io
	greeted  bool
	once     sync.Once
	lastVerb string // verb of the line goftp.io is executing

	// Per-session transfer state, used only on the session's goroutine.
	data    *pasv // from the last PASV/EPSV, not yet used
	rest    int64 // offset from REST
	hasRest bool
}

// Read hands goftp.io one command line at a time, after Hook saw it.
func (c *ctrlConn) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		line, err := c.r.ReadBytes('\n')
		if err != nil {
			return 0, err // a partial last line would not be served anyway
		}
		cmd, param := parseLine(string(line))
		pass, err := c.apply(cmd, param)
		if err != nil {
			return 0, err
		}
		if pass {
			c.pending, c.lastVerb = line, cmd
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// Write runs the connect-time Hook before the first write (the greeting).
func (c *ctrlConn) Write(p []byte) (int, error) {
	if !c.greeted {
		c.greeted = true
		pass, err := c.apply("", "")
		if err != nil {
			return 0, err
		}
		if !pass {
			return len(p), nil // greeting replaced or swallowed
		}
	}
	return c.Conn.Write(p)
}

// Close is called by goftp.io when the session ends.
func (c *ctrlConn) Close() error {
	c.once.Do(func() { c.s.forget(c) })
	return c.Conn.Close()
}

// reply writes a verbatim reply line on the control connection.
func (c *ctrlConn) reply(line string) error {
	c.s.logf("< %s (injected)", strings.TrimRight(line, "\r\n"))
	if !strings.HasSuffix(line, "\r\n") {
		line += "\r\n"
	}
	_, err := io.WriteString(c.Conn, line)
	return err
}

// apply runs Hook for one command and carries out its Action. It reports
// whether the command should go on to goftp.io; an error ends the session.
func (c *ctrlConn) apply(cmd, param string) (pass bool, err error) {
	f := c.s.opts.Faults
	if f == nil || f.Hook == nil {
		return true, nil
	}
	a := f.Hook(cmd, param)
	if a == nil {
		return true, nil
	}
	if a.Stall > 0 {
		t := time.NewTimer(a.Stall)
		select {
		case <-t.C:
		case <-c.s.done:
			t.Stop()
			return false, errClosed
		}
	}
	if a.Reply != "" {
		if err := c.reply(a.Reply); err != nil {
			return false, err
		}
	}
	if a.HangUp {
		c.s.logf("hang-up (injected)")
		c.Conn.Close()
		return false, io.EOF
	}
	return a.Reply == "", nil
}

// parseLine splits a command line the way goftp.io does.
func parseLine(line string) (cmd, param string) {
	cmd, param, _ = strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	return strings.ToUpper(cmd), param
}

// shortRead asks Faults.ShortRead: ok means send only n bytes of p.
func (s *Server) shortRead(p string) (n int64, ok bool) {
	f := s.opts.Faults
	if f == nil || f.ShortRead == nil {
		return 0, false
	}
	n = f.ShortRead(p)
	return n, n >= 0 // a negative result means no fault (Faults.ShortRead)
}

// failUpload asks Faults.FailUpload; "" means no fault.
func (s *Server) failUpload(p string) string {
	if f := s.opts.Faults; f != nil && f.FailUpload != nil {
		return f.FailUpload(p)
	}
	return ""
}
