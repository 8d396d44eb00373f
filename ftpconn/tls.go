package ftpconn

import (
	"crypto/tls"
	"io"
	"net"
	"time"
)

// FTPS: control and data connections are protected (PBSZ 0, PROT P, done
// by jlaffaye's Login when a TLS config is set).
//
// Because we dial through DialWithDialFunc (for deadlines), jlaffaye does
// not wrap data connections in TLS itself: conn.dialData (ctrlconn.go)
// does, with
//   - ServerName set and a session cache of its own per control
//     connection (tlsFor), so that data connections resume the control
//     connection's TLS session. Servers that require it (vsftpd's
//     require_ssl_reuse=YES, proftpd's mod_tls by default, FileZilla
//     Server) refuse data connections that don't (522), and Go keys its
//     session cache by ServerName;
//   - a careful close after uploads (tlsDataConn.Close).

// tlsFor returns the TLS config for one control connection: the user's
// config with the server name set and a session cache of its own.
func tlsFor(base *tls.Config, host string) *tls.Config {
	c := base.Clone()
	if c.ServerName == "" {
		c.ServerName = host
	}
	c.ClientSessionCache = tls.NewLRUClientSessionCache(8)
	return c
}

// tlsDataConn is a TLS data connection. Closing it after an upload with a
// plain Close loses the tail of the file on TLS 1.3 with some servers:
// the server's session tickets sit unread in our receive buffer, so our
// close sends a TCP reset, which can overtake the last data (vsftpd then
// answers 426, pyftpdlib 226 for a truncated file). So after writing we
// send close_notify, shut our side down, and read until the server closes
// before closing.
type tlsDataConn struct {
	*tls.Conn
	raw   *deadlineConn
	wrote bool
}

func (c *tlsDataConn) Write(p []byte) (int, error) {
	c.wrote = true
	return c.Conn.Write(p)
}

func (c *tlsDataConn) Close() error {
	if !c.wrote {
		return c.Conn.Close()
	}
	err := c.Conn.CloseWrite()
	if tcp, ok := c.raw.Conn.(*net.TCPConn); ok {
		tcp.CloseWrite()
	}
	c.raw.setTimeout(min(drainWait, time.Duration(c.raw.timeout.Load())))
	// What the server still sends (session tickets, its close_notify) is
	// read and dropped. A reset at this point is harmless: the size check
	// after the upload decides whether the file arrived whole.
	_, _ = io.Copy(io.Discard, c.Conn)
	if cerr := c.raw.Close(); err == nil {
		err = cerr
	}
	return err
}

// drainWait bounds the wait for the server to close an upload's data
// connection.
const drainWait = 10 * time.Second
