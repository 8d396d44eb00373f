package ftpconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/textproto"
	"strings"
)

// ctrlConn is the control connection as jlaffaye/ftp sees it, and the
// handle through which ftpconn sends commands of its own (command.go) on
// the same logged-in session. It sits above TLS: Conn is the *tls.Conn
// under FTPS (implicit or explicit alike) and the plain deadlineConn
// otherwise, so both the library and our own command path read and write
// clear text.
//
// For that to hold under explicit FTPS too, the AUTH TLS upgrade is done
// here, while dialing (dialControl), and the library is told the session
// is implicit TLS: it then sends PBSZ/PROT after login as usual, and never
// wraps the socket itself.
//
// Sharing one socket with the library needs one rule: the two never read
// at the same time (the connection is checked out by one goroutine, and our
// commands run only between the library's). Our reply reader may read
// past the end of its reply; those bytes stay in pending, and the library's
// next Read gets them first.
type ctrlConn struct {
	net.Conn               // *tls.Conn or raw
	raw      *deadlineConn // the TCP socket with its deadlines

	pending []byte        // bytes read from Conn and not yet consumed
	rec     *bytes.Buffer // when set, a copy of every byte the library reads (greeting and login dialogue)

	// spare is a data connection opened ahead (dataahead.go), nil when
	// none. Used by the goroutine holding the connection.
	spare *spareData
}

// Write is the library's: whatever it sends (its own EPSV before a
// transfer, a command that may take the passive listener) makes a data
// connection opened ahead useless, so it is dropped first. Our own
// command path writes to Conn directly.
func (c *ctrlConn) Write(p []byte) (int, error) {
	c.dropSpare()
	return c.Conn.Write(p)
}

func (c *ctrlConn) Read(p []byte) (int, error) {
	var n int
	var err error
	if len(c.pending) > 0 {
		n = copy(p, c.pending)
		c.pending = c.pending[n:]
	} else {
		n, err = c.Conn.Read(p)
	}
	if c.rec != nil {
		c.rec.Write(p[:n])
	}
	return n, err
}

// readLine returns the next line without its CR LF (a lone LF is accepted,
// as some servers end lines that way). A line longer than maxLine is an
// error: no reply needs it, and a server streaming garbage must not make us
// buffer without end.
func (c *ctrlConn) readLine() (string, error) {
	for {
		if i := bytes.IndexByte(c.pending, '\n'); i >= 0 {
			line := string(bytes.TrimRight(c.pending[:i], "\r"))
			c.pending = c.pending[i+1:]
			return line, nil
		}
		if len(c.pending) > maxLine {
			return "", fmt.Errorf("reply line longer than %d bytes", maxLine)
		}
		buf := make([]byte, 4096)
		n, err := c.Conn.Read(buf)
		c.pending = append(c.pending, buf[:n]...)
		if err != nil && n == 0 {
			return "", err
		}
	}
}

const maxLine = 64 << 10

// readReply reads one reply by RFC 959 §4.2: "ddd text" is a whole reply;
// "ddd-text" opens a multi-line one that ends at the first line starting
// with the same code and a space. Lines in between may start with
// anything (a code of their own, a space, nothing). msg is the text of the
// lines joined by "\n", with the code and separator of the first and last
// line removed (as net/textproto gives it, so that FEAT and MLST bodies
// read the same from either path). logLine, when not nil, receives
// every line as it arrives (for the debug log).
func (c *ctrlConn) readReply(logLine func(string)) (code int, msg string, err error) {
	first, err := c.readLine()
	if err != nil {
		return 0, "", err
	}
	if logLine != nil {
		logLine(first)
	}
	code, sep, text, ok := splitReply(first)
	if !ok {
		return 0, "", textproto.ProtocolError("malformed reply: " + first)
	}
	if sep != '-' {
		return code, text, nil
	}
	var b strings.Builder
	b.WriteString(text)
	end := first[:3] + " "
	for {
		line, err := c.readLine()
		if err != nil {
			return 0, "", err
		}
		if logLine != nil {
			logLine(line)
		}
		b.WriteByte('\n')
		if strings.HasPrefix(line, end) || line == first[:3] {
			if len(line) > len(end) {
				b.WriteString(line[len(end):])
			}
			return code, b.String(), nil
		}
		b.WriteString(line)
	}
}

// splitReply splits "ddd text", "ddd-text" or "ddd". sep is ' ', '-' or 0.
func splitReply(line string) (code int, sep byte, text string, ok bool) {
	if len(line) < 3 || !isDigits(line[:3]) || line[0] < '1' || line[0] > '5' {
		return 0, 0, "", false
	}
	code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if len(line) == 3 {
		return code, 0, "", true
	}
	if line[3] != ' ' && line[3] != '-' {
		return 0, 0, "", false
	}
	return code, line[3], line[4:], true
}

// dialFunc returns the function given to jlaffaye's DialWithDialFunc for
// connection c: its first call dials the control connection (with
// dialControl), every later one a data connection, which under FTPS is
// wrapped in TLS here (the library does not wrap connections it gets from
// a dial function). ctx bounds the control connection's dial and TLS
// handshake only: data connections are dialed later, for other callers.
func (p *pool) dialFunc(ctx context.Context, c *conn) func(network, addr string) (net.Conn, error) {
	cfg := &p.cfg
	return func(network, addr string) (net.Conn, error) {
		if c.ctl == nil {
			ctl, err := dialControl(ctx, cfg, c, network, addr)
			if err != nil {
				return nil, err
			}
			c.ctl, c.ctrl = ctl, ctl.raw
			return ctl, nil
		}
		return c.dialData(context.Background(), network, addr)
	}
}

// dialData opens a data connection to addr, with deadlines, and TLS when
// the session has it (sharing the control connection's TLS session: see
// tls.go).
func (c *conn) dialData(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: c.timeout}
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	dc := newDeadlineConn(nc, c.timeout, c.silent)
	if c.tlsConf != nil {
		return &tlsDataConn{Conn: tls.Client(dc, c.tlsConf), raw: dc}, nil
	}
	return dc, nil
}

// dialControl dials the control connection. Under implicit FTPS it
// completes the TLS handshake at once; under explicit FTPS it reads the
// greeting, sends AUTH TLS (RFC 4217 §4), completes the handshake and
// keeps the greeting for the library to read as if it came over TLS. A
// greeting other than 220 is left for the library to report; a refused
// AUTH TLS comes back as the server's reply (*textproto.Error).
func dialControl(ctx context.Context, cfg *Config, c *conn, network, addr string) (*ctrlConn, error) {
	if !c.dialLimit.IsZero() { // the checkout's budget bounds the greeting's probes too
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, c.dialLimit)
		defer cancel()
	}
	d := net.Dialer{Timeout: cfg.Timeout, Deadline: c.dialLimit}
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		c.silent.note(err)
		return nil, err
	}
	raw := newDeadlineConn(nc, cfg.Timeout, c.silent)
	raw.setLimit(c.dialLimit) // cleared after login (dialOnce)
	ctl := &ctrlConn{Conn: raw, raw: raw, rec: &bytes.Buffer{}}
	if !cfg.ImplicitTLS {
		if ctl.pending, err = sniffGreeting(ctx, raw, addr); err != nil { // greeting.go
			raw.Close()
			return nil, err
		}
	}
	if c.tlsConf == nil {
		return ctl, nil
	}
	if !cfg.ImplicitTLS {
		code, lines, err := ctl.readGreeting()
		if err != nil {
			raw.Close()
			return nil, err
		}
		var greeting []byte
		for _, l := range lines {
			greeting = append(greeting, l+"\r\n"...)
		}
		if code != 220 {
			ctl.pending = append(greeting, ctl.pending...) // the library reads it and reports it
			return ctl, nil
		}
		code, msg, err := ctl.exchange(c, "AUTH TLS")
		if err != nil {
			raw.Close()
			return nil, err
		}
		if code != 234 {
			raw.Close()
			return nil, authTLSRefused(code, msg)
		}
		if len(ctl.pending) > 0 {
			raw.Close()
			return nil, fmt.Errorf("server sent %d bytes after accepting AUTH TLS", len(ctl.pending))
		}
		ctl.pending = greeting
	}
	tc := tls.Client(raw, c.tlsConf)
	hctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, err
	}
	ctl.Conn = tc
	return ctl, nil
}

// readGreeting reads the server's greeting, skipping 120 "ready in n
// minutes" replies (RFC 959 §5.4). lines are the lines of the final reply.
func (c *ctrlConn) readGreeting() (code int, lines []string, err error) {
	for {
		lines = lines[:0]
		code, _, err = c.readReply(func(l string) { lines = append(lines, l) })
		if err != nil || code != 120 {
			return code, lines, err
		}
	}
}
