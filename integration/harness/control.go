package harness

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"strings"
	"time"
)

// The harness's own FTP client (crypto/tls and net/textproto): enough to see that a server greets
// and lets the test user log in, over TLS for the TLS kinds, as ftpmount will, and for tests that
// need to speak to a server directly.

// Control is an FTP control connection.
type Control struct {
	nc  net.Conn // the TCP connection
	tls *tls.Conn
	tp  *textproto.Conn // over tls once it is set
}

// TLSClientConfig is the TLS configuration of a client that trusts the test CA and checks the
// address it dialed (or Options.TLSName), as ftpmount with -o cafile does: TLS 1.2 at least, 1.3
// when the server has it; it presents Options.ClientCert where set. Connections made with one config resume each other's sessions.
func (s *Server) TLSClientConfig() *tls.Config {
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(s.CAFile); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	host, _, _ := net.SplitHostPort(s.Addr)
	if s.opts.TLSName != "" {
		host = s.opts.TLSName
	}
	conf := &tls.Config{
		RootCAs:            pool,
		ServerName:         host,
		MinVersion:         tls.VersionTLS12,
		ClientSessionCache: tls.NewLRUClientSessionCache(8),
	}
	if c := s.opts.ClientCert; c != nil {
		if pair, err := tls.LoadX509KeyPair(c.Cert, c.Key); err == nil {
			conf.Certificates = []tls.Certificate{pair}
		}
	}
	return conf
}

// DialControl connects to s's control port and reads the 220 greeting. With the TLS kinds the
// connection is protected (with conf) before the first command: implicit ones before the
// greeting, explicit ones with AUTH TLS after it. Every read and write must be done within
// timeout.
func (s *Server) DialControl(conf *tls.Config, timeout time.Duration) (*Control, error) {
	nc, err := net.DialTimeout("tcp", s.Addr, timeout)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(timeout))
	c := &Control{nc: nc, tp: textproto.NewConn(nc)}
	if s.Implicit {
		if err := c.startTLS(conf); err != nil {
			return nil, err
		}
	}
	if _, _, err := c.tp.ReadResponse(220); err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if s.TLS && !s.Implicit {
		if _, err := c.Cmd(234, "AUTH TLS"); err != nil {
			c.Close()
			return nil, err
		}
		if err := c.startTLS(conf); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Control) startTLS(conf *tls.Config) error {
	c.tls = tls.Client(c.nc, conf)
	if err := c.tls.Handshake(); err != nil {
		c.nc.Close()
		return fmt.Errorf("TLS handshake: %w", err)
	}
	c.tp = textproto.NewConn(c.tls)
	return nil
}

// Cmd sends a command and reads its reply, which must have code want (or, when want is below 10,
// start with that digit); the error quotes the reply otherwise. It returns the reply's text.
func (c *Control) Cmd(want int, format string, args ...any) (string, error) {
	line := fmt.Sprintf(format, args...)
	if err := c.Send(line); err != nil {
		return "", err
	}
	_, msg, err := c.ReadReply(want)
	if err != nil {
		verb, _, _ := strings.Cut(line, " ")
		return msg, fmt.Errorf("%s: %w", verb, err)
	}
	return msg, nil
}

// Send sends one command line without waiting for a reply.
func (c *Control) Send(line string) error {
	return c.tp.PrintfLine("%s", line)
}

// ReadReply reads one reply, which must have code want (0: any; below 10: that first digit).
func (c *Control) ReadReply(want int) (code int, msg string, err error) {
	return c.tp.ReadResponse(want)
}

// Version is the TLS version the connection negotiated ("TLS 1.3"), or "plain".
func (c *Control) Version() string {
	if c.tls == nil {
		return "plain"
	}
	return tls.VersionName(c.tls.ConnectionState().Version)
}

// Close closes the connection without a word.
func (c *Control) Close() error {
	if c.tls != nil {
		return c.tls.Close()
	}
	return c.nc.Close()
}

// Greets reports whether s answers 220 on its control port (over TLS for the TLS kinds, with a
// certificate the test CA vouches for).
func (s *Server) Greets() bool {
	var conf *tls.Config
	if s.TLS {
		conf = s.TLSClientConfig()
	}
	c, err := s.DialControl(conf, 5*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// CheckLogin logs in and out, over TLS for the TLS kinds (whose certificate must then be trusted
// by the test CA), returning the server's refusal if any. It records the TLS version negotiated
// in s.TLSVersion.
func (s *Server) CheckLogin() error {
	var conf *tls.Config
	if s.TLS {
		conf = s.TLSClientConfig()
	}
	c, err := s.DialControl(conf, 30*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Cmd(331, "USER %s", s.User); err != nil {
		return err
	}
	if _, err := c.Cmd(230, "PASS %s", s.Password); err != nil {
		return err
	}
	if s.TLS {
		s.TLSVersion = c.Version()
	}
	_, err = c.Cmd(221, "QUIT")
	return err
}

// CheckLoginAt is CheckLogin at addr instead of s.Addr: through a proxy in front of s.
func (s *Server) CheckLoginAt(addr string) error {
	via := *s
	via.Addr = addr
	return via.CheckLogin()
}
