package ftpconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"time"
)

// Recognising a server that is not what the source says.
//
// An FTP server greets first (RFC 959 section 5.4: 220 on connection).
// Pointed at something else, a client waits: an implicit-FTPS port or an
// HTTP port says nothing until the client speaks, so jlaffaye's greeting
// read sits out the whole timeout and ends in a bare "i/o timeout". An
// SSH server sends its banner, which jlaffaye reports as a malformed reply.
//
// sniffGreeting reads the first bytes of a new control connection itself.
// Bytes starting with a digit are a reply: they are handed on untouched.
// Anything else is named (SSH banner, HTTP, a TLS record). When nothing
// comes within greetingQuiet, two probe connections ask the same port
// what it is, at once: a TLS ClientHello (a TLS server answers with a
// handshake or an alert record) and an HTTP HEAD request. A recognised
// answer fails the dial with a *ProtocolError within about two seconds;
// otherwise the greeting is awaited as usual (slow servers exist: reverse
// DNS lookups delay proftpd's greeting by seconds).

// greetingQuiet is how long a silent server may take to greet before it is
// probed.
const greetingQuiet = 1500 * time.Millisecond

// probeWait bounds each probe.
const probeWait = 2 * time.Second

// ProtoKind is what a server that is not the FTP expected turned out to be.
type ProtoKind int

const (
	ProtoOther ProtoKind = iota // answers, but not with FTP replies
	ProtoTLS                    // speaks TLS from the first byte (implicit FTPS, HTTPS, ...)
	ProtoHTTP                   // an HTTP server
	ProtoSSH                    // an SSH server (SFTP)
	ProtoFTP                    // plain FTP, where TLS was expected from the first byte
)

// ProtocolError says the server speaks another protocol than the one the
// connection expects. It is returned wrapped in an error of Kind
// ErrTransient or ErrTLS (errors.As finds it).
type ProtocolError struct {
	Kind ProtoKind
	What string // "an SSH server (SSH-2.0-OpenSSH_9.2p1)", for messages
}

func (e *ProtocolError) Error() string {
	return "the server is " + e.What
}

// ErrNoAuthTLS: an FTP server that refused AUTH TLS (explicit FTPS): it
// has no TLS, or not on this port.
var ErrNoAuthTLS = errors.New("server refused AUTH TLS")

// sniffGreeting returns the first bytes the server sent on nc, for the
// greeting to be read from, or a *ProtocolError. No bytes and no error:
// the server was silent, and probing told nothing; the greeting is
// awaited as usual.
func sniffGreeting(ctx context.Context, nc *deadlineConn, addr string) ([]byte, error) {
	buf := make([]byte, 512)
	quiet := time.Now().Add(greetingQuiet)
	if dl, ok := ctx.Deadline(); ok && dl.Before(quiet) {
		quiet = dl
	}
	nc.Conn.SetReadDeadline(quiet)
	n, err := nc.Conn.Read(buf)
	nc.Conn.SetReadDeadline(time.Time{})
	nc.rdl = time.Time{} // deadlineConn re-arms its own deadline at the next Read
	if n > 0 {
		if pe := classifyFirstBytes(buf[:n]); pe != nil {
			return nil, pe
		}
		return buf[:n], nil
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		return nil, err // reset, EOF: the library would fail the same way
	}
	if pe := probe(ctx, addr); pe != nil {
		return nil, pe
	}
	return nil, nil
}

// classifyFirstBytes names what sent b first, or returns nil for what
// looks like an FTP reply.
func classifyFirstBytes(b []byte) *ProtocolError {
	switch {
	case b[0] >= '0' && b[0] <= '9':
		return nil
	case bytes.HasPrefix(b, []byte("SSH-")):
		return &ProtocolError{Kind: ProtoSSH, What: "an SSH server (" + firstLine(b) + ")"}
	case bytes.HasPrefix(b, []byte("HTTP/")):
		return &ProtocolError{Kind: ProtoHTTP, What: "an HTTP server (" + firstLine(b) + ")"}
	case b[0] == 0x15 || b[0] == 0x16: // TLS alert, handshake record (RFC 8446 section 5.1)
		return &ProtocolError{Kind: ProtoTLS, What: "a TLS server (implicit FTPS?)"}
	}
	return &ProtocolError{Kind: ProtoOther, What: fmt.Sprintf("not an FTP server (it began with %q)", firstLine(b))}
}

// firstLine is b's first line, printable and at most 60 bytes.
func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, string(line))
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return s
}

// probe asks a silent port what it is: a TLS ClientHello and an HTTP
// request on two fresh connections, at once. nil when neither answer
// says.
func probe(ctx context.Context, addr string) *ProtocolError {
	ctx, cancel := context.WithTimeout(ctx, probeWait)
	defer cancel()
	tlsR, httpR := make(chan *ProtocolError, 1), make(chan *ProtocolError, 1)
	go func() { tlsR <- probeWith(ctx, addr, sendClientHello) }()
	go func() { httpR <- probeWith(ctx, addr, sendHEAD) }()
	// Priority: a TLS answer to the ClientHello decides at once (HTTPS
	// servers answer an HTTP request on their TLS port with an HTTP 400);
	// an HTTP answer waits for the TLS probe's.
	var got *ProtocolError
	for range 2 {
		select {
		case pe := <-tlsR:
			if pe != nil && pe.Kind == ProtoTLS {
				return pe
			}
			if pe != nil && (got == nil || got.Kind == ProtoOther) {
				got = pe
			}
		case pe := <-httpR:
			if pe != nil && (got == nil || got.Kind == ProtoOther) {
				got = pe
			}
		}
	}
	return got
}

// probeWith dials addr, lets send speak first, and classifies the first
// bytes that come back.
func probeWith(ctx context.Context, addr string, send func(net.Conn)) *ProtocolError {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil
	}
	defer nc.Close()
	dl, _ := ctx.Deadline()
	nc.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Now()) })
	defer stop()
	go send(nc)
	buf := make([]byte, 512)
	n, _ := nc.Read(buf)
	if n == 0 {
		return nil
	}
	pe := classifyFirstBytes(buf[:n])
	if pe == nil {
		return nil // an FTP reply after all: a slow greeting
	}
	return pe
}

// sendClientHello starts a TLS handshake on nc (the reply is read by the
// caller, from the raw connection).
func sendClientHello(nc net.Conn) {
	tc := tls.Client(&writeOnly{nc}, &tls.Config{InsecureSkipVerify: true, ServerName: "probe.invalid"})
	_ = tc.Handshake() // fails: reads are refused; the ClientHello is sent first
}

// writeOnly lets a TLS client write its ClientHello without stealing the
// server's answer.
type writeOnly struct{ net.Conn }

func (w *writeOnly) Read([]byte) (int, error) { return 0, errors.New("probe: not reading") }

func sendHEAD(nc net.Conn) {
	nc.Write([]byte("HEAD / HTTP/1.0\r\n\r\n"))
}

// authTLSRefused is the error of a server that answered AUTH TLS with
// code (not 234): it has no FTPS, or not on this port (RFC 4217 section 4).
func authTLSRefused(code int, msg string) error {
	te := &textproto.Error{Code: code, Msg: msg}
	return &ReplyError{Op: "AUTH TLS", Code: code, Msg: msg, Kind: ErrNoAuthTLS, Err: te}
}

// protocolMismatch names what answered an implicit-FTPS dial that got no
// TLS: a record header that is not TLS is an FTP greeting, an SSH banner,
// HTTP. nil for any other failure.
func protocolMismatch(cfg *Config, err error) error {
	var rh tls.RecordHeaderError
	if !cfg.ImplicitTLS || !errors.As(err, &rh) {
		return nil
	}
	kind := classifyFirstBytes(rh.RecordHeader[:])
	if kind == nil { // a digit: an FTP greeting
		kind = &ProtocolError{Kind: ProtoFTP, What: "a plain FTP server (explicit FTPS at most)"}
	}
	if kind.Kind == ProtoOther {
		return nil
	}
	return &NoReplyError{Op: "connect", Path: cfg.Addr, Msg: kind.Error(), Kind: ErrTLS, Err: kind}
}
