package ftpconn

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockstep is a proxy in front of an FTP server that counts round trips
// without measuring time: it holds everything the server sends (replies
// and download data) until the client has sent nothing, on the control
// connection or any data connection of its session, for quiet. A client
// that waits for a reply is therefore stuck until the proxy lets it
// through, and the count of the client's bursts (sending after something
// was let through) is the number of replies it waited for: the round trips
// the operation costs on a link whose latency dwarfs everything else.
// quiet is only a threshold for "the client is waiting"; nothing depends
// on the server's or the client's speed beyond it.
//
// The 229 and 227 replies are rewritten to a port of the proxy's, which
// relays the data connection the same way. Connecting (a data connection
// opened ahead) is not sending.
type lockstep struct {
	t      *testing.T
	target string
	ln     net.Listener
	quiet  time.Duration

	mu       sync.Mutex
	bursts   int          // GUARDED_BY(mu): the client's bursts, all sessions
	sessions int          // GUARDED_BY(mu): control connections seen
	log      []burstEvent // GUARDED_BY(mu): what the client sent, in order
}

// burstEvent is something the client sent: a command line, or "" for
// data. burst is the global count when it was sent; sid the session.
type burstEvent struct {
	burst, sid int
	line       string
}

func startLockstep(t *testing.T, target string) *lockstep {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &lockstep{t: t, target: target, ln: ln, quiet: 150 * time.Millisecond}
	t.Cleanup(func() { ln.Close() })
	go l.serve()
	return l
}

func (l *lockstep) addr() string { return l.ln.Addr().String() }

// rounds returns the bursts counted so far, all sessions together.
func (l *lockstep) rounds() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bursts
}

// sent returns what the client sent after burst from, one line per
// command: "burst session command".
func (l *lockstep) sent(from int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.log {
		if e.burst > from && e.line != "" {
			out = append(out, fmt.Sprintf("%d s%d %s", e.burst, e.sid, e.line))
		}
	}
	return out
}

// verbRounds counts the bursts after burst from that carried a command
// with one of verbs ("RNFR", "RNTO"): the round trips those commands cost,
// whatever else (a login on a fresh connection) went on around them.
func (l *lockstep) verbRounds(from int, verbs ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[int]bool{}
	for _, e := range l.log {
		for _, v := range verbs {
			if e.burst > from && strings.HasPrefix(e.line, v+" ") {
				seen[e.burst] = true
			}
		}
	}
	return len(seen)
}

// transferRounds is the round trips of the transfers begun after burst
// from: for each session that sent a RETR or STOR since, its own bursts
// since; the most of those. Bursts of other sessions (a connection
// finishing an aborted download in the background) are not on the
// transfer's path and do not count. fresh is true when such a session
// logged in meanwhile (the pool grew: its login is counted too).
func (l *lockstep) transferRounds(from int) (rounds int, fresh bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	bursts := map[int]map[int]bool{}
	transfers := map[int]bool{}
	for _, e := range l.log {
		if e.burst <= from {
			continue
		}
		if bursts[e.sid] == nil {
			bursts[e.sid] = map[int]bool{}
		}
		bursts[e.sid][e.burst] = true
		if strings.HasPrefix(e.line, "RETR ") || strings.HasPrefix(e.line, "STOR ") {
			transfers[e.sid] = true
		}
	}
	for _, e := range l.log {
		if e.burst > from && transfers[e.sid] && strings.HasPrefix(e.line, "USER ") {
			fresh = true
		}
	}
	for sid := range transfers {
		rounds = max(rounds, len(bursts[sid]))
	}
	return rounds, fresh
}

// gate is one session's: server bytes wait in held until the client is quiet.
type gate struct {
	l        *lockstep
	id       int
	mu       sync.Mutex
	lastSent time.Time
	let      bool                     // GUARDED_BY(mu): something was let through since the client last sent
	sent     bool                     // GUARDED_BY(mu): the client has sent something
	held     map[net.Conn][]byte      // GUARDED_BY(mu): per connection to the client
	eof      map[net.Conn]bool        // GUARDED_BY(mu): the server's side ended: end the client's once let through
	out      map[net.Conn]chan []byte // GUARDED_BY(mu): what is let through, per connection to the client
	wake     chan struct{}
	ctrl     net.Conn // the client's control connection
}

func (l *lockstep) serve() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp4", l.target)
		if err != nil {
			c.Close()
			continue
		}
		l.mu.Lock()
		l.sessions++
		id := l.sessions
		l.mu.Unlock()
		g := &gate{l: l, id: id, held: map[net.Conn][]byte{}, eof: map[net.Conn]bool{}, out: map[net.Conn]chan []byte{}, wake: make(chan struct{}, 1), lastSent: time.Now(), ctrl: c}
		go g.release()
		go g.fromClient(c, s, true)
		go g.fromServer(s, c, true)
	}
}

// clientSent notes bytes from the client; a new burst if the proxy let
// something through since the last.
func (g *gate) clientSent(what string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lastSent = time.Now()
	l := g.l
	l.mu.Lock()
	if g.let || !g.sent {
		l.bursts++
		g.let, g.sent = false, true
	}
	l.log = append(l.log, burstEvent{burst: l.bursts, sid: g.id, line: what})
	l.mu.Unlock()
}

func (g *gate) fromClient(c, s net.Conn, control bool) {
	defer s.Close()
	if !control {
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				g.clientSent("")
				if _, werr := s.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				if tc, ok := s.(*net.TCPConn); ok && err == io.EOF {
					tc.CloseWrite()
					time.Sleep(time.Second) // let the server read to the end
				}
				return
			}
		}
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			g.clientSent(strings.TrimRight(line, "\r\n"))
			if _, werr := io.WriteString(s, line); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

var epsvRe = regexp.MustCompile(`\(\|\|\|(\d+)\|\)`)

// fromServer holds the server's bytes for release; on the control
// connection it rewrites 229 (EPSV) replies to a relay port of its own.
func (g *gate) fromServer(s, c net.Conn, control bool) {
	if !control {
		buf := make([]byte, 64<<10)
		for {
			n, err := s.Read(buf)
			if n > 0 {
				g.hold(c, buf[:n])
			}
			if err != nil {
				g.hold(c, nil) // EOF: close c once let through
				return
			}
		}
	}
	r := bufio.NewReader(s)
	for {
		line, err := r.ReadString('\n')
		if m := epsvRe.FindStringSubmatch(line); strings.HasPrefix(line, "229") && m != nil {
			line = strings.Replace(line, m[0], "(|||"+strconv.Itoa(g.relay(m[1]))+"|)", 1)
		}
		if line != "" {
			g.hold(c, []byte(line))
		}
		if err != nil {
			g.hold(c, nil)
			return
		}
	}
}

// relay opens a port that relays one data connection to the server's port.
func (g *gate) relay(port string) int {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		g.l.t.Error(err)
		return 0
	}
	go func() {
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp4", net.JoinHostPort("127.0.0.1", port))
		if err != nil {
			c.Close()
			return
		}
		go g.fromClient(c, s, false)
		g.fromServer(s, c, false)
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func (g *gate) hold(c net.Conn, b []byte) {
	g.mu.Lock()
	if b == nil {
		g.eof[c] = true
	} else {
		g.held[c] = append(g.held[c], b...)
	}
	g.mu.Unlock()
	g.kick()
}

func (g *gate) kick() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// release lets held bytes through once the client has been quiet, and
// ends once the control connection has ended and been let through.
func (g *gate) release() {
	tick := time.NewTicker(g.l.quiet / 5)
	defer tick.Stop()
	for {
		select {
		case <-g.wake:
		case <-tick.C:
		}
		g.mu.Lock()
		if time.Since(g.lastSent) < g.l.quiet {
			g.mu.Unlock()
			continue
		}
		out, ends := g.held, g.eof
		g.held, g.eof = map[net.Conn][]byte{}, map[net.Conn]bool{}
		for _, b := range out {
			if len(b) > 0 {
				g.let = true
			}
		}
		g.mu.Unlock()
		for c, b := range out {
			g.queue(c) <- b
		}
		for c := range ends {
			g.queue(c) <- nil
			if c == g.ctrl {
				return
			}
		}
	}
}

// queue returns the queue of what is let through to c, starting its
// writer: each connection to the client gets its bytes in order, and one
// the client does not read (a download it cut short) holds up no other.
// nil ends the connection (its write side; the control connection whole).
func (g *gate) queue(c net.Conn) chan []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	q := g.out[c]
	if q == nil {
		q = make(chan []byte, 1024)
		g.out[c] = q
		go func() {
			for b := range q {
				if b == nil {
					if tc, ok := c.(*net.TCPConn); ok && c != g.ctrl {
						tc.CloseWrite()
					} else {
						c.Close()
					}
					return
				}
				if _, err := c.Write(b); err != nil {
					c.Close()
				}
			}
		}()
	}
	return q
}
