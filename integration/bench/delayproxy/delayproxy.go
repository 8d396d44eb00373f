// Package delayproxy is a user-space TCP proxy that adds a fixed one-way latency in each direction,
// for benchmarking over a "slow link" on a kernel without netem.
//
// Each listener forwards to one target address. Every byte read from one side is written to the other
// side Delay after it was read; a new connection reaches the target Delay after the client connected
// (the SYN's trip). Half-closes are forwarded (after the bytes before them), so FTP data connections
// that end with an EOF behave as they would without the proxy. Bandwidth is not limited, but at most
// MaxInFlight bytes per direction of a connection wait in the proxy: like a TCP window, this caps one
// connection's throughput at about MaxInFlight / Delay.
package delayproxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// chunkSize is the largest read from one side; a chunk waits as one unit.
const chunkSize = 64 << 10

// DefaultMaxInFlight is MaxInFlight when it is zero: 16 MiB, i.e. about 800 MB/s per connection at
// 20 ms, more than loopback FTP servers deliver here, so that latency, not the window, is what shows.
const DefaultMaxInFlight = 16 << 20

// Proxy is a set of delaying listeners. Close stops them and every connection they accepted.
type Proxy struct {
	Delay       time.Duration // one-way latency added in each direction
	MaxInFlight int           // bytes per direction that may be waiting; DefaultMaxInFlight if 0

	mu        sync.Mutex
	listeners []net.Listener
	conns     map[net.Conn]struct{}
	closed    bool
	wg        sync.WaitGroup
}

// New returns a proxy adding delay each way.
func New(delay time.Duration) *Proxy {
	return &Proxy{Delay: delay, conns: make(map[net.Conn]struct{})}
}

// Listen starts forwarding connections made to listenAddr (host:port) to target (host:port).
func (p *Proxy) Listen(listenAddr, target string) error {
	l, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		l.Close()
		return errors.New("delayproxy: closed")
	}
	p.listeners = append(p.listeners, l)
	p.wg.Add(1)
	p.mu.Unlock()
	go p.accept(l, target)
	return nil
}

// ListenRange forwards listenHost:port to targetHost:port for every port in [lo, hi].
func (p *Proxy) ListenRange(listenHost, targetHost string, lo, hi int) error {
	for port := lo; port <= hi; port++ {
		ps := fmt.Sprint(port)
		if err := p.Listen(net.JoinHostPort(listenHost, ps), net.JoinHostPort(targetHost, ps)); err != nil {
			return err
		}
	}
	return nil
}

// Close stops every listener and connection and waits for their goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for _, l := range p.listeners {
		l.Close()
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

// track registers c so that Close closes it; false when the proxy is already closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *Proxy) accept(l net.Listener, target string) {
	defer p.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // closed
		}
		if !p.track(c) {
			c.Close()
			return
		}
		p.wg.Add(1)
		go p.serve(c, target)
	}
}

// serve forwards one client connection.
func (p *Proxy) serve(client net.Conn, target string) {
	defer p.wg.Done()
	defer p.untrack(client)
	defer client.Close()
	accepted := time.Now()
	maxBuf := p.MaxInFlight
	if maxBuf <= 0 {
		maxBuf = DefaultMaxInFlight
	}

	// What the client sends is read (and timed) from now on; it is written once the target is there.
	up := newPipe(p.Delay, maxBuf)
	go up.read(client)

	time.Sleep(time.Until(accepted.Add(p.Delay)))
	server, err := net.DialTimeout("tcp", target, 10*time.Second)
	if err != nil {
		up.abort()
		return
	}
	if !p.track(server) {
		server.Close()
		up.abort()
		return
	}
	defer p.untrack(server)
	defer server.Close()

	down := newPipe(p.Delay, maxBuf)
	go down.read(server)

	errc := make(chan error, 2)
	go func() { errc <- up.write(server) }()
	go func() { errc <- down.write(client) }()
	for range 2 {
		if err := <-errc; err != nil {
			// A reset or write failure on one side: end both, as a broken connection would.
			client.Close()
			server.Close()
			up.abort()
			down.abort()
		}
	}
}

type chunk struct {
	buf []byte
	due time.Time
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// pipe carries one direction: read stamps chunks, write delivers them when due.
type pipe struct {
	delay time.Duration
	max   int
	ch    chan chunk
	done  chan struct{} // closed by abort

	mu    sync.Mutex
	cond  *sync.Cond
	inFl  int // GUARDED_BY(mu): bytes read and not yet written
	dead  bool
	once  sync.Once
	rerr  error     // the reader's final error (io.EOF for a clean close); set before ch is closed
	endAt time.Time // when the reader saw it
}

func newPipe(delay time.Duration, maxBuf int) *pipe {
	// The byte count (max) is the limit; the channel only has to hold that many bytes in small reads.
	p := &pipe{delay: delay, max: maxBuf, ch: make(chan chunk, 4096), done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// abort makes read and write give up.
func (p *pipe) abort() {
	p.once.Do(func() {
		p.mu.Lock()
		p.dead = true
		p.cond.Broadcast()
		p.mu.Unlock()
		close(p.done)
	})
}

// read reads src until EOF or error, queueing what it reads. It closes the channel at the end.
func (p *pipe) read(src net.Conn) {
	defer close(p.ch)
	for {
		bp := bufPool.Get().(*[]byte)
		n, err := src.Read(*bp)
		now := time.Now()
		if n > 0 {
			p.mu.Lock()
			for p.inFl+n > p.max && p.inFl > 0 && !p.dead {
				p.cond.Wait()
			}
			dead := p.dead
			p.inFl += n
			p.mu.Unlock()
			if dead {
				bufPool.Put(bp)
				p.rerr, p.endAt = errors.New("aborted"), now
				return
			}
			select {
			case p.ch <- chunk{buf: (*bp)[:n], due: now.Add(p.delay)}:
			case <-p.done:
				bufPool.Put(bp)
				p.rerr, p.endAt = errors.New("aborted"), now
				return
			}
		} else {
			bufPool.Put(bp)
		}
		if err != nil {
			p.rerr, p.endAt = err, now
			return
		}
	}
}

// write delivers the queued chunks to dst when due, then forwards the end: a half-close after a clean
// EOF, an error otherwise (the caller then closes both sides).
func (p *pipe) write(dst net.Conn) error {
	var werr error
	for c := range p.ch {
		n := len(c.buf)
		if werr == nil {
			if d := time.Until(c.due); d > 0 {
				select {
				case <-time.After(d):
				case <-p.done:
					werr = errors.New("aborted")
				}
			}
			if werr == nil {
				_, werr = dst.Write(c.buf)
			}
		}
		b := c.buf[:cap(c.buf)]
		bufPool.Put(&b)
		p.mu.Lock()
		p.inFl -= n
		p.cond.Broadcast()
		p.mu.Unlock()
		if werr != nil {
			p.abort()
		}
	}
	if werr != nil {
		return werr
	}
	if p.rerr == io.EOF {
		// The EOF travels like the bytes.
		select {
		case <-time.After(time.Until(p.endAt.Add(p.delay))):
		case <-p.done:
			return errors.New("aborted")
		}
		if tc, ok := dst.(*net.TCPConn); ok {
			return tc.CloseWrite()
		}
		return nil
	}
	return p.rerr
}
