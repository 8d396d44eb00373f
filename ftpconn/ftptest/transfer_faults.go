package ftptest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TransferFaults are faults inside a data transfer, which Faults cannot
// express: a download or an upload cut (or gone silent) after some bytes.
// They are played by a Proxy in front of a server (a Server of this
// package, or any plain FTP server such as vsftpd):
//
//	s := ftptest.Start(t, ftptest.Options{})
//	p := ftptest.StartProxy(t, s.Addr, ftptest.TransferFaults{
//		Download: func(path string, offset int64) *ftptest.Cut {
//			if offset == 0 {
//				return &ftptest.Cut{After: 1 << 20} // the first RETR stops after 1 MiB, then 426
//			}
//			return nil // REST n + RETR (a resume) runs in full
//		},
//	})
//	c, err := ftp.Dial(p.Addr) // log in with s.User, s.Password as usual
//
// The functions run on the proxy's goroutines, possibly several at once:
// make them safe for concurrent use.
type TransferFaults struct {
	// Download, if set, is asked for every RETR with its parameter as the
	// client sent it ("/dir/f" from clients that send absolute paths) and
	// the offset of the REST just before it (0 without one). A nil Cut
	// lets the transfer run.
	Download func(path string, offset int64) *Cut
	// Upload, if set, is asked for every STOR, APPE and STOU in the same
	// way.
	Upload func(path string, offset int64) *Cut
}

// Cut says what happens to one transfer. Once After bytes have passed
// (counted on this data connection, so from the REST offset), the proxy
// stops relaying:
//
//   - Without Stall it closes both sides of the data connection at once.
//     A download ends early at the client (EOF after After bytes). An
//     upload stops being read: the client's further writes fail, and the
//     server sees an ordinary end of data, so it keeps the After bytes it
//     got (a partial file), as real servers do when a client goes away.
//   - With Stall it relays nothing more but keeps the data connection
//     open, until the receiving side closes it (for a download: the
//     client gives up) or the control connection ends. The sender is held
//     by TCP flow control.
//
// Either way the server's final reply to the transfer (226, or its own
// 426) is replaced by Reply, "426 Connection closed; transfer aborted."
// when empty, and sent only once the data connection is closed. The cut
// happens as soon as After bytes have passed, even if the transfer would
// have ended there.
type Cut struct {
	After int64
	Stall bool
	Reply string
}

// defaultCutReply is what the client reads after a Cut without Reply.
const defaultCutReply = "426 Connection closed; transfer aborted."

// Proxy relays FTP between clients and one server, playing TransferFaults
// on the data connections. Control connections are relayed line by line
// (nothing is changed but the 227/229 replies, which announce the proxy's
// own passive port, and the final replies of cut transfers); each data
// connection the client opens to the proxy is relayed to the port the
// server announced, on the server's host (the address inside a 227 is
// ignored, as ftpmount does). Plain FTP only: no AUTH TLS, no active mode.
//
// Everything listens on 127.0.0.1. Server-side Faults (Hook, ShortRead,
// FailUpload) still apply, since every command reaches the server.
type Proxy struct {
	Addr string // "127.0.0.1:PORT": dial this instead of the server
	Host string // "127.0.0.1"
	Port int

	t      testing.TB
	target string // the server's control address
	host   string // the server's host, for its data ports
	tf     TransferFaults
	ln     net.Listener
	wg     sync.WaitGroup
	close1 sync.Once
	fired  atomic.Int64

	mu       sync.Mutex
	closed   bool                       // GUARDED_BY(mu)
	sessions map[*proxySession]struct{} // GUARDED_BY(mu)
}

// StartProxy relays 127.0.0.1:<a free port> to target ("host:port", an FTP
// server) until the test ends (or Close).
func StartProxy(t testing.TB, target string, tf TransferFaults) *Proxy {
	t.Helper()
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		t.Fatalf("ftptest: proxy target %q: %v", target, err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("ftptest: %v", err)
	}
	p := &Proxy{
		Addr: ln.Addr().String(), Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
		t: t, target: target, host: host, tf: tf, ln: ln,
		sessions: map[*proxySession]struct{}{},
	}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

// Fired returns how many Cuts have taken effect so far (a Cut whose
// transfer ended before After bytes does not count).
func (p *Proxy) Fired() int { return int(p.fired.Load()) }

// Close stops listening, closes every relayed connection and waits for
// the proxy's goroutines to end.
func (p *Proxy) Close() {
	p.close1.Do(func() {
		p.mu.Lock()
		p.closed = true
		var ss []*proxySession
		for s := range p.sessions {
			ss = append(ss, s)
		}
		p.mu.Unlock()
		p.ln.Close()
		for _, s := range ss {
			s.close()
		}
		ended := make(chan struct{})
		go func() { p.wg.Wait(); close(ended) }()
		select {
		case <-ended:
		case <-time.After(10 * time.Second):
			p.t.Errorf("ftptest: proxy goroutines still running 10s after Close")
		}
	})
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		sc, err := net.DialTimeout("tcp", p.target, 10*time.Second)
		if err != nil {
			fmt.Fprintf(c, "421 ftptest proxy: %v\r\n", err)
			c.Close()
			continue
		}
		s := &proxySession{p: p, client: c, server: sc, done: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			sc.Close()
			return
		}
		p.sessions[s] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go s.commands()
		go s.replies()
	}
}

// proxySession is one relayed control connection.
type proxySession struct {
	p      *Proxy
	client net.Conn
	server net.Conn
	done   chan struct{} // closed by close
	once   sync.Once

	mu      sync.Mutex
	pending []*slot // GUARDED_BY(mu): per command awaiting its final reply, its data slot (or nil)
	slot    *slot   // GUARDED_BY(mu): from the last 227/229, not yet claimed by a data command
	rest    int64   // GUARDED_BY(mu): offset of a REST just sent
}

// close ends the session: both control connections, and (as they watch
// done) every data relay.
func (s *proxySession) close() {
	s.once.Do(func() {
		close(s.done)
		s.client.Close()
		s.server.Close()
		s.p.mu.Lock()
		delete(s.p.sessions, s)
		s.p.mu.Unlock()
	})
}

// commands relays the client's command lines to the server, noting REST
// offsets and giving each data command the slot of the passive reply
// before it.
func (s *proxySession) commands() {
	defer s.p.wg.Done()
	defer s.close()
	r := bufio.NewReader(s.client)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd, param := parseLine(line)
		s.mu.Lock()
		off := s.rest
		s.rest = 0
		var sl *slot
		switch cmd {
		case "REST":
			if n, err := strconv.ParseInt(strings.TrimSpace(param), 10, 64); err == nil {
				s.rest = n
			}
		case "RETR", "LIST", "NLST", "MLSD", "STOR", "APPE", "STOU":
			sl, s.slot = s.slot, nil
		}
		// Queued before the line is sent, so that the reply finds it.
		s.pending = append(s.pending, sl)
		s.mu.Unlock()
		if sl != nil {
			x := &transfer{upload: cmd == "STOR" || cmd == "APPE" || cmd == "STOU"}
			switch {
			case cmd == "RETR" && s.p.tf.Download != nil:
				x.cut = s.p.tf.Download(param, off)
			case x.upload && s.p.tf.Upload != nil:
				x.cut = s.p.tf.Upload(param, off)
			}
			sl.x = x
			close(sl.assigned)
		}
		if _, err := io.WriteString(s.server, line); err != nil {
			return
		}
	}
}

// replies relays the server's replies to the client, rewriting passive
// replies and holding the final reply of a transfer until its data
// connection is closed (replacing it when the transfer was cut).
func (s *proxySession) replies() {
	defer s.p.wg.Done()
	defer s.close()
	r := bufio.NewReader(s.server)
	greeted := false
	for {
		block, err := readReply(r)
		if err != nil {
			return
		}
		code := block[:3]
		if !greeted || code[0] == '1' {
			greeted = true
			if _, err := io.WriteString(s.client, block); err != nil {
				return
			}
			continue
		}
		var sl *slot
		s.mu.Lock()
		if len(s.pending) > 0 {
			sl = s.pending[0]
			s.pending = s.pending[1:]
		}
		s.mu.Unlock()
		if sl != nil {
			select {
			case <-sl.done:
			case <-s.done:
				return
			}
			if sl.cut != nil {
				block = sl.cut.Reply
				if block == "" {
					block = defaultCutReply
				}
				block += "\r\n"
			}
		}
		if code == "227" || code == "229" {
			block = s.passive(code, block)
		}
		if _, err := io.WriteString(s.client, block); err != nil {
			return
		}
	}
}

var (
	pasvRE = regexp.MustCompile(`\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)`)
	epsvRE = regexp.MustCompile(`\(\|\|\|(\d+)\|\)`)
)

// passive opens the proxy's side of the data connection the server just
// announced and returns the reply that announces it instead.
func (s *proxySession) passive(code, block string) string {
	var port int
	if m := pasvRE.FindStringSubmatch(block); code == "227" && m != nil {
		hi, _ := strconv.Atoi(m[5])
		lo, _ := strconv.Atoi(m[6])
		port = hi<<8 | lo
	} else if m := epsvRE.FindStringSubmatch(block); code == "229" && m != nil {
		port, _ = strconv.Atoi(m[1])
	} else {
		return block // not a passive reply after all; let the client make sense of it
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return "425 ftptest proxy: " + err.Error() + "\r\n"
	}
	sl := &slot{
		s: s, ln: ln, serverAddr: net.JoinHostPort(s.p.host, strconv.Itoa(port)),
		assigned: make(chan struct{}), done: make(chan struct{}),
	}
	s.mu.Lock()
	old := s.slot
	s.slot = sl
	s.mu.Unlock()
	if old != nil {
		close(old.assigned) // never claimed: its relay ends without relaying
	}
	s.p.wg.Add(1)
	go sl.run()
	mine := ln.Addr().(*net.TCPAddr).Port
	if code == "227" {
		return fmt.Sprintf("227 Entering Passive Mode (127,0,0,1,%d,%d).\r\n", mine>>8, mine&0xff)
	}
	return fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)\r\n", mine)
}

// readReply reads one reply, all lines of a multi-line one ("211-..." up
// to "211 ..."), and returns it as received.
func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(line) < 4 {
		return "", fmt.Errorf("ftptest proxy: bad reply %q", line)
	}
	if line[3] != '-' {
		return line, nil
	}
	end := line[:3] + " "
	block := line
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		block += line
		if strings.HasPrefix(line, end) {
			return block, nil
		}
	}
}

// transfer is the data command that claimed a slot.
type transfer struct {
	upload bool // client to server
	cut    *Cut // nil: relay in full
}

// slot is one passive data connection: the proxy's listener for the
// client, and the relay to the server's port once the client connects.
type slot struct {
	s          *proxySession
	ln         net.Listener
	serverAddr string
	assigned   chan struct{} // closed once x is set, or when the slot is abandoned (x nil)
	x          *transfer     // written before assigned is closed
	done       chan struct{} // closed when the relay is over; cut is set before
	cut        *Cut          // the Cut that fired, if one did
}

// run accepts the client's data connection, connects to the server's,
// and relays once a data command has claimed the slot.
func (sl *slot) run() {
	defer sl.s.p.wg.Done()
	defer close(sl.done)
	accepted := make(chan struct{})
	go func() { // the session's end stops the wait for the client
		select {
		case <-sl.s.done:
		case <-accepted:
		}
		sl.ln.Close()
	}()
	_ = sl.ln.(*net.TCPListener).SetDeadline(time.Now().Add(acceptTimeout))
	cc, err := sl.ln.Accept()
	close(accepted)
	if err != nil {
		return
	}
	sc, err := net.DialTimeout("tcp", sl.serverAddr, 10*time.Second)
	if err != nil {
		cc.Close()
		return
	}
	over := make(chan struct{})
	defer close(over)
	go func() { // the session's end closes the data connection too
		select {
		case <-sl.s.done:
		case <-over:
		}
		cc.Close()
		sc.Close()
	}()
	t := time.NewTimer(acceptTimeout)
	defer t.Stop()
	select {
	case <-sl.assigned:
	case <-sl.s.done:
		return
	case <-t.C:
		return
	}
	if sl.x == nil {
		return
	}
	if sl.x.upload {
		sl.relay(cc, sc, sl.x.cut)
	} else {
		sl.relay(sc, cc, sl.x.cut)
	}
}

// relay copies src to dst until src ends, dst goes away, or cut fires. A
// normal end closes dst after the last byte, which tells the receiver that
// the data is complete.
func (sl *slot) relay(src, dst net.Conn, cut *Cut) {
	dstGone := make(chan struct{})
	go func() { // the receiver sends nothing; a read returns when it closes
		_, _ = io.Copy(io.Discard, dst)
		close(dstGone)
		src.Close()
	}()
	defer func() {
		src.Close()
		dst.Close()
		<-dstGone
	}()
	limited := cut != nil && cut.After >= 0 // else relay everything
	buf := make([]byte, 32<<10)
	var sent int64
	for !limited || sent < cut.After {
		b := buf
		if limited && int64(len(b)) > cut.After-sent {
			b = b[:cut.After-sent]
		}
		n, err := src.Read(b)
		if n > 0 {
			if _, werr := dst.Write(b[:n]); werr != nil {
				return
			}
			sent += int64(n)
		}
		if err != nil {
			return
		}
	}
	sl.cut = cut
	sl.s.p.fired.Add(1)
	if cut.Stall {
		select {
		case <-dstGone:
		case <-sl.s.done:
		}
	}
}
