package ftpconn

import (
	"context"
	"net"
	"strconv"
	"time"
)

// Data connections opened ahead.
//
// A transfer needs a passive data connection: EPSV (or PASV), its reply,
// then a TCP connect (and, under FTPS, a TLS handshake once the server
// accepts). Done when the transfer starts, that is a round trip or two on
// the critical path of every upload and read. So where a command is sent
// anyway, an EPSV rides along in the same write (after RNFR/RNTO,
// renamepipe.go; after the reply to an aborted download, reader.go) and
// its data connection is dialed in the background: the connection's next
// transfer finds it ready (openData takes it) and its transfer command is
// the first thing on the wire.
//
// Such a spare is only good for the next transfer command of its own
// session, so it is dropped (closed) when:
//   - the library writes any command on the control connection
//     (ctrlConn.Write): it sends its own EPSV before its transfers, and a
//     server keeps one passive listener per session;
//   - it is older than spareMaxAge: a server may stop waiting for it
//     (pyftpdlib gives a passive listener 30 s to be connected, and an
//     idle data channel 300 s; vsftpd accepts only at the transfer
//     command, and leaves the connection in its listen queue until then);
//   - the connection is closed.
// Our own commands (Cmd: NOOP, SIZE, RNFR, SITE...) leave it: no server
// here ties a passive listener to anything but the next transfer command.

// spareMaxAge is how long a spare data connection is kept unused.
const spareMaxAge = 10 * time.Second

// spareData is one data connection opened ahead. nc and err are set
// before done is closed; at is when the server announced the port.
type spareData struct {
	done chan struct{}
	nc   net.Conn
	err  error
	at   time.Time
}

// prepareSpare dials the data port announced by an EPSV reply (code, msg)
// in the background and keeps it as the connection's spare. A reply other
// than 229 (EPSV refused: 500, 502) makes the connection use PASV from
// now on, as openData does, and leaves it without a spare.
func (c *conn) prepareSpare(code int, msg string) {
	c.ctl.dropSpare()
	if code != 229 {
		c.noEPSV = true
		return
	}
	port, err := parseEPSV(msg)
	if err != nil {
		c.noEPSV = true
		return
	}
	addr := net.JoinHostPort(c.ctrl.RemoteAddr().(*net.TCPAddr).IP.String(), strconv.Itoa(port))
	s := &spareData{done: make(chan struct{}), at: c.now()}
	go func() {
		defer close(s.done)
		s.nc, s.err = c.dialData(context.Background(), "tcp", addr)
	}()
	c.ctl.spare = s
}

// takeSpare returns the spare data connection, or nil when there is none
// fit to use (none, too old, or its dial failed). It waits for a dial
// still under way (bounded by the dial's own timeout).
func (c *conn) takeSpare(ctx context.Context) net.Conn {
	s := c.ctl.spare
	if s == nil {
		return nil
	}
	c.ctl.spare = nil
	if c.now().Sub(s.at) > spareMaxAge {
		s.drop()
		return nil
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		s.drop()
		return nil
	}
	if s.err != nil {
		c.debugf("ftp[%d] data connection opened ahead failed: %v", c.id, s.err)
		return nil
	}
	return s.nc
}

// hasSpare tells whether the connection has a spare that is still young.
func (c *conn) hasSpare() bool {
	s := c.ctl.spare
	return s != nil && c.now().Sub(s.at) <= spareMaxAge
}

// drop closes the spare once its dial has ended, without waiting for it.
func (s *spareData) drop() {
	go func() {
		<-s.done
		if s.nc != nil {
			s.nc.Close()
		}
	}()
}

// dropSpare drops the spare, if any.
func (c *ctrlConn) dropSpare() {
	if c.spare != nil {
		c.spare.drop()
		c.spare = nil
	}
}

// now is the pool's clock.
func (c *conn) now() time.Time {
	if c.clock != nil {
		return c.clock()
	}
	return time.Now()
}
