package ftptest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	server "goftp.io/server/v2"
)

// Server is a running test server. Its exported fields are read-only.
type Server struct {
	Addr     string // "127.0.0.1:PORT" of the control connection
	Host     string // "127.0.0.1"
	Port     int
	User     string // "test"
	Password string // "secret"
	Dir      string // the served directory on local disk

	t      testing.TB
	opts   Options
	fs     *fsys
	ln     net.Listener
	served chan struct{} // closed when goftp.io's Serve has returned
	done   chan struct{} // closed by Close: cuts Stall short
	wg     sync.WaitGroup
	close1 sync.Once

	mu       sync.Mutex
	closed   bool // no new connections or passive listeners
	finished bool // Close is over: no more logging to t
	conns    map[string]*ctrlConn
	pasvs    map[*pasv]struct{}
}

// Options configures Start. The zero value is fine.
type Options struct {
	Dir    string  // serve this directory; default t.TempDir()
	Faults *Faults // optional fault injection, may be nil

	// NoMLSD removes MLSD and MLST (and MLST from FEAT), so that clients
	// list with LIST, as against vsftpd.
	NoMLSD bool
	// ListDots makes MLSD begin with "Type=cdir; ." and "Type=pdir; ..",
	// as proftpd and pure-ftpd do.
	ListDots bool
	// Quirks, when set, makes the server misbehave like real ones do (see
	// Quirks).
	Quirks *Quirks
	// Verbose logs every command and reply with t.Logf.
	Verbose bool
}

// Start serves on a free port of 127.0.0.1 until the test ends (or Close).
// It never listens on another address: the control listener and every
// passive listener are bound to 127.0.0.1 (passive ports are picked by the
// kernel, one per PASV/EPSV).
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	root, err := os.OpenRoot(opts.Dir)
	if err != nil {
		t.Fatalf("ftptest: %v", err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		root.Close()
		t.Fatalf("ftptest: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	s := &Server{
		Addr: ln.Addr().String(), Host: "127.0.0.1", Port: port,
		User: "test", Password: "secret", Dir: opts.Dir,
		t: t, opts: opts, fs: &fsys{root: root, caseInsensitive: opts.Quirks != nil && opts.Quirks.CaseInsensitive}, ln: ln,
		served: make(chan struct{}), done: make(chan struct{}),
		conns: map[string]*ctrlConn{}, pasvs: map[*pasv]struct{}{},
	}
	srv, err := server.NewServer(&server.Options{
		Name:           "ftptest",
		WelcomeMessage: "ftptest ready",
		Hostname:       s.Host, // unused by Serve, but never "::"
		Port:           port,
		Driver:         s.fs,
		Auth:           &server.SimpleAuth{Name: s.User, Password: s.Password},
		Perm:           server.NewSimplePerm("test", "test"),
		Commands:       s.commands(),
		Logger:         logger{s},
	})
	if err != nil {
		ln.Close()
		root.Close()
		t.Fatalf("ftptest: %v", err)
	}
	go func() {
		defer close(s.served)
		// goftp.io's Shutdown races with Serve (both touch its fields
		// unlocked), so Close stops the server by closing ln instead.
		err := srv.Serve(listener{ln, s})
		if !s.isClosed() {
			t.Errorf("ftptest: serve stopped: %v", err)
		}
	}()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server: it stops listening, closes every control and
// data connection, and waits for the sessions to end. Start registers it
// with t.Cleanup; calling it earlier simulates a server that goes away.
func (s *Server) Close() {
	s.close1.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.ln.Close()
		<-s.served
		close(s.done)

		s.mu.Lock()
		var conns []*ctrlConn
		for _, c := range s.conns {
			conns = append(conns, c)
		}
		var ps []*pasv
		for p := range s.pasvs {
			ps = append(ps, p)
		}
		s.mu.Unlock()
		for _, c := range conns {
			c.Conn.Close() // the session notices and calls ctrlConn.Close
		}
		for _, p := range ps {
			s.closePasv(p)
		}

		ended := make(chan struct{})
		go func() { s.wg.Wait(); close(ended) }()
		select {
		case <-ended:
		case <-time.After(10 * time.Second):
			s.t.Errorf("ftptest: %d sessions still running 10s after Close", s.Sessions())
		}
		s.fs.root.Close()
		s.mu.Lock()
		s.finished = true
		s.mu.Unlock()
	})
}

// Sessions returns the number of open control connections.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// listener registers every accepted connection as a ctrlConn.
type listener struct {
	net.Listener
	s *Server
}

func (l listener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	s := l.s
	c := &ctrlConn{Conn: conn, s: s, r: bufio.NewReader(conn)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		conn.Close()
		return nil, errClosed
	}
	s.conns[conn.RemoteAddr().String()] = c
	s.wg.Add(1)
	return c, nil
}

// lookup finds the ctrlConn of a goftp.io session (its RemoteAddr is the
// client's address, unique among open connections).
func (s *Server) lookup(sess *server.Session) *ctrlConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[sess.RemoteAddr().String()]
}

// forget runs once when a session ends.
func (s *Server) forget(c *ctrlConn) {
	s.mu.Lock()
	delete(s.conns, c.Conn.RemoteAddr().String())
	s.mu.Unlock()
	if c.data != nil {
		s.closePasv(c.data)
		c.data = nil
	}
	s.wg.Done()
}

// logf logs with t.Logf when Verbose, never after Close (t may be gone).
func (s *Server) logf(format string, args ...any) {
	if !s.opts.Verbose {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.finished {
		s.t.Logf("ftptest: "+format, args...)
	}
}

// logger is goftp.io's Logger. goftp.io gives every session of a server
// the same id, so it is left out.
type logger struct{ s *Server }

func (l logger) Print(_ string, msg any) { l.s.logf("%v", msg) }
func (l logger) Printf(_ string, format string, v ...any) {
	l.s.logf("%s", fmt.Sprintf(format, v...))
}
func (l logger) PrintResponse(_ string, code int, msg string) {
	l.s.logf("< %s %s", strconv.Itoa(code), msg)
}
func (l logger) PrintCommand(_ string, cmd, param string) {
	if cmd == "PASS" {
		param = "****"
	}
	l.s.logf("> %s %s", cmd, param)
}
