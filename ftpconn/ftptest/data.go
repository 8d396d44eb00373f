package ftptest

import (
	"errors"
	"net"
	"sync"
	"time"
)

// acceptTimeout bounds the wait for the client to connect to a passive port.
const acceptTimeout = 30 * time.Second

// pasv is the listener opened by one PASV or EPSV. It accepts a single
// data connection, on 127.0.0.1 only.
//
// goftp.io's own passive sockets listen on all interfaces (":port") and
// cannot be replaced through its API (Session.dataConn is unexported),
// which is why ftptest replaces every command that uses a data connection.
type pasv struct {
	ln   net.Listener
	done chan struct{} // closed when Accept has returned
	conn net.Conn      // valid once done is closed
	err  error
	once sync.Once
}

var errClosed = errors.New("ftptest: server closed")

// listenPasv opens a passive listener on a free port of 127.0.0.1.
func (s *Server) listenPasv() (*pasv, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &pasv{ln: ln, done: make(chan struct{})}
	s.pasvs[p] = struct{}{}
	go func() {
		defer close(p.done)
		_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(acceptTimeout))
		p.conn, p.err = ln.Accept()
		ln.Close()
	}()
	return p, nil
}

// port is the passive port announced to the client.
func (p *pasv) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// wait returns the data connection once the client has connected.
func (p *pasv) wait() (net.Conn, error) {
	<-p.done
	return p.conn, p.err
}

// closePasv closes the listener and the data connection. It may be called
// more than once, from any goroutine.
func (s *Server) closePasv(p *pasv) {
	p.once.Do(func() {
		p.ln.Close()
		<-p.done
		if p.conn != nil {
			p.conn.Close()
		}
		s.mu.Lock()
		delete(s.pasvs, p)
		s.mu.Unlock()
	})
}
