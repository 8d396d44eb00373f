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

	mu     sync.Mutex
	bursts int      // GUARDED_BY(mu): the client's bursts, all sessions
	log    []string // GUARDED_BY(mu): what the client sent, per burst: "1 STOR /f"
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

// rounds returns the bursts counted so far.
func (l *lockstep) rounds() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bursts
}

// sent returns what the client sent since burst from, one line per command.
func (l *lockstep) sent(from int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.log {
		var n int
		fmt.Sscanf(s, "%d", &n)
		if n > from {
			out = append(out, s)
		}
	}
	return out
}

// gate is one session's: server bytes wait in held until the client is quiet.
type gate struct {
	l        *lockstep
	mu       sync.Mutex
	lastSent time.Time
	let      bool                // something was let through since the client last sent
	held     map[net.Conn][]byte // GUARDED_BY(mu): per connection to the client
	eof      map[net.Conn]bool   // GUARDED_BY(mu): the server's side ended: end the client's once let through
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
		g := &gate{l: l, held: map[net.Conn][]byte{}, eof: map[net.Conn]bool{}, wake: make(chan struct{}, 1), lastSent: time.Now(), ctrl: c}
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
	if g.let || l.bursts == 0 {
		l.bursts++
		g.let = false
	}
	if what != "" {
		l.log = append(l.log, fmt.Sprintf("%d %s", l.bursts, what))
	}
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
			c.Write(b)
		}
		for c := range ends {
			if tc, ok := c.(*net.TCPConn); ok && c != g.ctrl {
				tc.CloseWrite()
				continue
			}
			c.Close()
			if c == g.ctrl {
				return
			}
		}
	}
}
