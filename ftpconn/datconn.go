package ftpconn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
)

// Data connections of ftpconn's own command path (see command.go): a
// passive connection (EPSV, else PASV) dialed like the library's (same
// deadlines, same TLS wrapping and session reuse), and ListRaw, which runs
// a listing command over it and returns the lines as the server sent them.

// maxListLine bounds one line of a listing (a name is at most a few KiB).
const maxListLine = 1 << 20

// ListRaw sends line (such as "MLSD /d", "LIST -a /d" or a bare "LIST")
// and returns the lines of the data connection, without line ends, and the
// final reply. A listing ends with 226 or 250 (RFC 959 allows either) or
// any other 2xx; a 2xx right away (no 1xx, no data) is an empty listing,
// as some servers answer for an empty directory. A 4xx/5xx reply is
// returned as a *textproto.Error, with the lines received before it.
// Failures of the connections themselves are plain errors.
func (c *conn) ListRaw(ctx context.Context, line string) (lines []string, code int, msg string, err error) {
	dc, err := c.openData(ctx)
	if err != nil {
		return nil, 0, "", err
	}
	defer func() {
		if dc != nil {
			dc.Close()
		}
	}()
	code, msg, err = c.Cmd(ctx, line)
	if err != nil {
		return nil, 0, "", err
	}
	if code < 100 || code >= 200 {
		return nil, code, msg, checkCode(code, msg, nil)
	}
	stop := context.AfterFunc(ctx, func() { dc.Close() })
	sc := bufio.NewScanner(dc)
	sc.Buffer(make([]byte, 0, 64<<10), maxListLine)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		c.logLine(l)
		lines = append(lines, l)
	}
	stop()
	rerr := sc.Err()
	dc.Close()
	dc = nil
	if rerr != nil && ctx.Err() != nil {
		return lines, 0, "", ctx.Err()
	}
	if len(lines) == 0 && isTimeout(rerr) {
		// Silent for the whole timeout: the connection is given up at
		// once (its final reply would cost another timeout). vsftpd reads
		// and sorts a whole directory before its first byte; a million
		// entries on a cold disk took ~30 s here.
		return nil, 0, "", fmt.Errorf("%s: no listing data within %v (a huge directory on a slow server can take longer: mount with a larger -o timeout): %w", line, c.timeout, rerr)
	}
	code, msg, err = c.readReply(ctx)
	if err != nil {
		return lines, 0, "", err
	}
	if err := checkCode(code, msg, nil); err != nil {
		return lines, code, msg, err
	}
	if rerr != nil {
		// The server says the listing is complete, but its data did not
		// arrive whole: not to be taken as the directory's contents.
		return lines, code, msg, fmt.Errorf("%s: reading listing: %w", line, rerr)
	}
	return lines, code, msg, nil
}

// transferEnd takes any 2xx that ends a transfer as success. jlaffaye/ftp
// wants 226 after RETR and STOR, but RFC 959 §5.4 allows 250 as well, and
// some servers send it (seen on embedded and Windows servers).
// Only a reply alone is excused: an I/O error joined to it stays.
func transferEnd(err error) error {
	if onlyPositive(err) {
		return nil
	}
	return err
}

func onlyPositive(err error) bool {
	switch e := err.(type) {
	case *textproto.Error:
		return e.Code >= 200 && e.Code < 300
	case interface{ Unwrap() []error }:
		errs := e.Unwrap()
		for _, x := range errs {
			if !onlyPositive(x) {
				return false
			}
		}
		return len(errs) > 0
	}
	return false
}

// checkCode returns nil when code is among want (none means any 2xx), else
// the reply as a *textproto.Error.
func checkCode(code int, msg string, want []int) error {
	if len(want) == 0 && code >= 200 && code < 300 {
		return nil
	}
	for _, w := range want {
		if code == w {
			return nil
		}
	}
	return &textproto.Error{Code: code, Msg: msg}
}

// openData returns a passive data connection: the one opened ahead, if
// the connection has one (dataahead.go), else a new one: EPSV first
// (RFC 2428), PASV after EPSV has failed once on this connection or when
// Config.DisableEPSV is set. Like the library by default, it connects to
// the control connection's address whatever address PASV names (NAT boxes
// announce private ones; and no bounce to third hosts).
func (c *conn) openData(ctx context.Context) (net.Conn, error) {
	if dc := c.takeSpare(ctx); dc != nil {
		return dc, nil
	}
	host := c.ctrl.RemoteAddr().(*net.TCPAddr).IP.String()
	if !c.noEPSV {
		code, msg, err := c.Cmd(ctx, "EPSV")
		if err != nil {
			return nil, err
		}
		if code == 229 {
			if port, perr := parseEPSV(msg); perr == nil {
				return c.dialData(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
			}
		}
		c.noEPSV = true
	}
	code, msg, err := c.Cmd(ctx, "PASV")
	if err != nil {
		return nil, err
	}
	if code != 227 {
		return nil, &textproto.Error{Code: code, Msg: msg}
	}
	port, err := parsePASV(msg)
	if err != nil {
		return nil, err
	}
	return c.dialData(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
}

// parseEPSV reads the port of "Entering Extended Passive Mode (|||6446|)"
// (RFC 2428 §3: the delimiter is whatever the first character is).
func parseEPSV(msg string) (int, error) {
	i, j := strings.IndexByte(msg, '('), strings.LastIndexByte(msg, ')')
	if i < 0 || j < i+5 {
		return 0, errors.New("malformed EPSV reply: " + msg)
	}
	f := strings.Split(msg[i+1:j], msg[i+1:i+2])
	if len(f) != 5 {
		return 0, errors.New("malformed EPSV reply: " + msg)
	}
	port, err := strconv.Atoi(f[3])
	if err != nil || port <= 0 || port > 65535 {
		return 0, errors.New("malformed EPSV reply: " + msg)
	}
	return port, nil
}

// parsePASV reads the port of "Entering Passive Mode (h1,h2,h3,h4,p1,p2)";
// the parentheses are optional (some servers leave them out), the address
// is ignored (see openData).
func parsePASV(msg string) (int, error) {
	start := strings.IndexAny(msg, "0123456789")
	if start < 0 {
		return 0, errors.New("malformed PASV reply: " + msg)
	}
	s := msg[start:]
	end := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != ',' })
	if end >= 0 {
		s = s[:end]
	}
	f := strings.Split(s, ",")
	if len(f) != 6 {
		return 0, errors.New("malformed PASV reply: " + msg)
	}
	p1, err1 := strconv.Atoi(f[4])
	p2, err2 := strconv.Atoi(f[5])
	if err1 != nil || err2 != nil || p1 > 255 || p2 > 255 || p1*256+p2 == 0 {
		return 0, errors.New("malformed PASV reply: " + msg)
	}
	return p1*256 + p2, nil
}
