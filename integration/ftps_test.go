package integration

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The harness's side of FTPS: the test CA and server certificate, and a small FTP client of its
// own (crypto/tls and net/textproto) to see that a server greets and lets the test user log in,
// over TLS for the TLS kinds, as ftpmount will.

// pki is the certificates the TLS kinds use, made once per test binary with openssl (pkiDir).
type pki struct {
	CA        string     // the test CA's certificate (PEM): what -o cafile trusts
	Server    serverCert // what the servers present: CN localhost, SAN IP:127.0.0.1 and DNS:localhost
	WrongName serverCert // signed by the test CA too, but for wrong.example only
	OtherCA   string     // a second CA that signed nothing the servers present
}

// serverCert is a server's certificate, signed by the test CA, and its key.
type serverCert struct {
	Cert     string // the certificate (PEM)
	Key      string // its private key (unencrypted PEM)
	Combined string // Cert then Key in one file, for pure-ftpd
}

var (
	pkiOnce sync.Once
	pkiDir  string // made by testPKI, removed by TestMain
	pkiVal  *pki
	pkiErr  error
)

// pkiScript makes the CA, the servers' keys and certificates, and another CA. The files are readable
// by all: pyftpdlib runs as the FTP user, and these keys protect nothing.
const pkiScript = `set -e
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 7 -subj '/CN=ftpmount test CA' \
	-addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'
# server NAME CN SAN: a key and a certificate signed by the CA.
server() {
	openssl req -newkey rsa:2048 -nodes -keyout $1.key -out $1.csr -subj /CN=$2
	printf '%s\n' "subjectAltName=$3" 'basicConstraints=critical,CA:FALSE' \
		'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' > $1.ext
	openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 -sha256 \
		-extfile $1.ext -out $1.pem
	cat $1.pem $1.key > $1-combined.pem
}
server server localhost IP:127.0.0.1,DNS:localhost
server wrong-name wrong.example DNS:wrong.example
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 7 \
	-subj '/CN=ftpmount other CA' -addext 'basicConstraints=critical,CA:TRUE'
openssl verify -CAfile ca.pem server.pem
chmod 755 .
chmod 644 ./*
`

// testPKI returns the test certificates, making them on first use.
func testPKI(t *testing.T) *pki {
	t.Helper()
	pkiOnce.Do(func() {
		pkiDir, pkiErr = os.MkdirTemp("", "ftpmount-pki-")
		if pkiErr != nil {
			return
		}
		if r := command(cmdTimeout, pkiDir, nil, "bash", "-c", pkiScript); r.err != nil {
			pkiErr = fmt.Errorf("making the test certificates: %v", r)
			return
		}
		p := func(name string) string { return filepath.Join(pkiDir, name) }
		cert := func(name string) serverCert {
			return serverCert{Cert: p(name + ".pem"), Key: p(name + ".key"), Combined: p(name + "-combined.pem")}
		}
		pkiVal = &pki{CA: p("ca.pem"), Server: cert("server"), WrongName: cert("wrong-name"),
			OtherCA: p("other-ca.pem")}
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiVal
}

// removePKI removes what testPKI made; TestMain calls it after the tests.
func removePKI() {
	if pkiDir != "" {
		os.RemoveAll(pkiDir)
	}
}

// mountOptions are the -o options every mount of s needs: for the TLS kinds, trust in the test CA
// (the certificate is checked for real) and implicit_tls for the implicit ones.
func (s *ftpServer) mountOptions() []string {
	var opts []string
	if s.TLS {
		opts = append(opts, "cafile="+s.CAFile)
	}
	if s.Implicit {
		opts = append(opts, "implicit_tls")
	}
	return opts
}

// curlArgs are the options that let curl reach s: with the TLS kinds, TLS required and the test CA
// trusted. curl's ftp:// with --ssl-reqd is explicit FTPS, its ftps:// implicit FTPS.
func (s *ftpServer) curlArgs() (opts []string, baseURL string) {
	base := ftpURL(s.User, s.Password, s.Addr) + s.URLPath
	switch {
	case s.Implicit:
		return []string{"--cacert", s.CAFile}, "ftps" + strings.TrimPrefix(base, "ftp")
	case s.TLS:
		return []string{"--ssl-reqd", "--cacert", s.CAFile}, base
	}
	return nil, base
}

// tlsClientConfig is the TLS configuration of a client that trusts the test CA and checks the
// address it dialed (or s.tlsName), as ftpmount with -o cafile does: TLS 1.2 at least, 1.3 when
// the server has it. Connections made with one config resume each other's sessions.
func (s *ftpServer) tlsClientConfig() *tls.Config {
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(s.CAFile); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	host, _, _ := net.SplitHostPort(s.Addr)
	if s.tlsName != "" {
		host = s.tlsName
	}
	return &tls.Config{
		RootCAs:            pool,
		ServerName:         host,
		MinVersion:         tls.VersionTLS12,
		ClientSessionCache: tls.NewLRUClientSessionCache(8),
	}
}

// controlConn is the harness's FTP control connection.
type controlConn struct {
	nc  net.Conn // the TCP connection
	tls *tls.Conn
	tp  *textproto.Conn // over tls once it is set
}

// dialControl connects to s's control port and reads the 220 greeting. With the TLS kinds the
// connection is protected before the first command: implicit ones before the greeting, explicit
// ones with AUTH TLS after it. Every read and write must be done within timeout.
func (s *ftpServer) dialControl(conf *tls.Config, timeout time.Duration) (*controlConn, error) {
	nc, err := net.DialTimeout("tcp", s.Addr, timeout)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(timeout))
	c := &controlConn{nc: nc, tp: textproto.NewConn(nc)}
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
		if _, err := c.cmd(234, "AUTH TLS"); err != nil {
			c.Close()
			return nil, err
		}
		if err := c.startTLS(conf); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *controlConn) startTLS(conf *tls.Config) error {
	c.tls = tls.Client(c.nc, conf)
	if err := c.tls.Handshake(); err != nil {
		c.nc.Close()
		return fmt.Errorf("TLS handshake: %w", err)
	}
	c.tp = textproto.NewConn(c.tls)
	return nil
}

// cmd sends a command and reads its reply, which must have code want (or, when want is below 10,
// start with that digit); the error quotes the reply otherwise.
func (c *controlConn) cmd(want int, format string, args ...any) (string, error) {
	line := fmt.Sprintf(format, args...)
	if err := c.tp.PrintfLine("%s", line); err != nil {
		return "", err
	}
	_, msg, err := c.tp.ReadResponse(want)
	if err != nil {
		verb, _, _ := strings.Cut(line, " ")
		return msg, fmt.Errorf("%s: %w", verb, err)
	}
	return msg, nil
}

// version is the TLS version the connection negotiated ("TLS 1.3"), or "plain".
func (c *controlConn) version() string {
	if c.tls == nil {
		return "plain"
	}
	return tls.VersionName(c.tls.ConnectionState().Version)
}

// Close closes the connection without a word.
func (c *controlConn) Close() error {
	if c.tls != nil {
		return c.tls.Close()
	}
	return c.nc.Close()
}

// greets reports whether s answers 220 on its control port (over TLS for the implicit kinds,
// with a certificate the test CA vouches for).
func (s *ftpServer) greets() bool {
	var conf *tls.Config
	if s.TLS {
		conf = s.tlsClientConfig()
	}
	c, err := s.dialControl(conf, 5*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// checkLogin logs in and out, over TLS for the TLS kinds (whose certificate must then be trusted
// by the test CA), returning the server's refusal if any. It records the TLS version negotiated.
func (s *ftpServer) checkLogin() error {
	var conf *tls.Config
	if s.TLS {
		conf = s.tlsClientConfig()
	}
	c, err := s.dialControl(conf, 30*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.cmd(331, "USER %s", s.User); err != nil {
		return err
	}
	if _, err := c.cmd(230, "PASS %s", s.Password); err != nil {
		return err
	}
	if s.TLS {
		s.TLSVersion = c.version()
	}
	_, err = c.cmd(221, "QUIT")
	return err
}
