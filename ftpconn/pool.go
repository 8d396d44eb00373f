package ftpconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/jlaffaye/ftp"
)

// conn is one logged-in control connection. It is used by one goroutine at
// a time: whoever checked it out of the pool.
type conn struct {
	id       int
	sc       *ftp.ServerConn
	ctrl     *deadlineConn // the control socket, to shorten its timeout for a phase
	lastUsed time.Time
	debugf   func(format string, args ...any) // the pool's Config.debugf

	// Our own command path (command.go, datconn.go, ctrlconn.go).
	ctl     *ctrlConn         // the control connection above TLS, shared with sc
	tlsConf *tls.Config       // this connection's TLS config (nil without FTPS)
	timeout time.Duration     // Config.Timeout, for data connections
	plog    *protoLog         // the debug log, nil without Config.Debugf
	feat    map[string]string // FEAT lines after login: "MLST" → "type*;size*;..."
	noEPSV  bool              // EPSV refused once (or disabled): PASV only
}

// idleCheckAfter is how long a connection may sit idle before it is checked
// with NOOP on checkout. Servers hang up idle clients (with or without a 421)
// and the library only notices on the next command.
const idleCheckAfter = 2 * time.Second

// idleCheckWait bounds the NOOP of that check.
const idleCheckWait = 5 * time.Second

// idleDropAfter is how long an idle connection is kept at all. Most servers
// time idle clients out after 300 s or more; dropping ours first is polite
// and saves a failed NOOP.
const idleDropAfter = 60 * time.Second

// releaser is something holding a pooled connection that can give it back
// on request when it is not in use: an open download stream between reads.
type releaser interface {
	tryRelease() bool
}

// pool hands out connections with exclusive checkout. A slot token is held
// for every connection checked out (or being dialed), so at most MaxConns
// exist: idle connections are only created by returning a checked-out one.
//
// Lock order: a reader's mu, then pool.mu. tryRelease is called without
// pool.mu held.
type pool struct {
	cfg   Config
	slots chan struct{} // one token per checked-out connection

	mu         sync.Mutex
	idle       []*conn               // GUARDED_BY(mu): most recently used last
	holders    map[releaser]struct{} // GUARDED_BY(mu): streams that may give a connection back
	nextID     int                   // GUARDED_BY(mu)
	listHidden bool                  // GUARDED_BY(mu): server has no MLSD; send "LIST -a"
	closed     bool                  // GUARDED_BY(mu)
	burned     int                   // GUARDED_BY(mu): slots given up because the server limits connections
}

func newPool(cfg Config) *pool {
	return &pool{
		cfg:     cfg,
		slots:   make(chan struct{}, cfg.MaxConns),
		holders: map[releaser]struct{}{},
	}
}

// get checks out a connection: an idle one that still answers, or a new
// one. It waits for a free slot, asking idle download streams to give
// theirs back, until ctx is done.
func (p *pool) get(ctx context.Context) (*conn, error) {
	for attempt := 0; ; attempt++ {
		if err := p.acquire(ctx); err != nil {
			return nil, err
		}
		if c := p.healthyIdle(); c != nil {
			return c, nil
		}
		c, err := p.dial(ctx)
		if err == nil {
			return c, nil
		}
		if !tooManyConnections(err) {
			<-p.slots
			return nil, err
		}
		// The server limits connections. While we hold others, give up
		// this slot for good (the pool shrinks) and wait for one of
		// them; with none to wait for, back off and try again.
		if p.burnSlot() {
			p.cfg.debugf("server refused another connection (%v): pool shrinks to %d", err, cap(p.slots)-p.burnedSlots())
			continue
		}
		<-p.slots
		if attempt >= 4 {
			return nil, err
		}
		select {
		case <-time.After(time.Duration(1<<attempt) * 500 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// healthyIdle pops idle connections until one answers; nil when none.
func (p *pool) healthyIdle() *conn {
	for {
		c := p.popIdle()
		if c == nil {
			return nil
		}
		if p.cfg.Now().Sub(c.lastUsed) < idleCheckAfter {
			return c
		}
		// A dead connection (NAT state gone, server restarted) may never
		// answer: check it with a short deadline, not the full timeout.
		c.ctrl.setTimeout(min(idleCheckWait, p.cfg.Timeout))
		err := c.sc.NoOp()
		c.ctrl.setTimeout(p.cfg.Timeout)
		if err == nil {
			return c
		}
		p.cfg.debugf("ftp[%d] idle connection is dead (%v); replacing it", c.id, err)
		c.close()
	}
}

// burnSlot keeps the caller's slot occupied for good, shrinking the pool
// by one, as long as at least one other slot remains.
func (p *pool) burnSlot() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.burned+1 >= cap(p.slots) {
		return false
	}
	p.burned++
	return true
}

func (p *pool) burnedSlots() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.burned
}

// tooManyConnections recognises "too many connections" refusals: 421 at
// greeting or login (vsftpd, pure-ftpd), or 530 with words to that effect
// (proftpd's "maximum number of clients").
func tooManyConnections(err error) bool {
	var re *ReplyError
	if !errors.As(err, &re) {
		return false
	}
	if re.Code == 421 {
		return true
	}
	msg := strings.ToLower(re.Msg)
	return re.Code == 530 && (strings.Contains(msg, "too many") || strings.Contains(msg, "maximum"))
}

func (p *pool) acquire(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		p.reclaimOne()
		select {
		case p.slots <- struct{}{}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// reclaimOne asks one idle download stream to give its connection back.
func (p *pool) reclaimOne() {
	p.mu.Lock()
	hs := make([]releaser, 0, len(p.holders))
	for h := range p.holders {
		hs = append(hs, h)
	}
	p.mu.Unlock()
	for _, h := range hs {
		if h.tryRelease() {
			return
		}
	}
}

func (p *pool) popIdle() *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Now()
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if now.Sub(c.lastUsed) < idleDropAfter {
			return c
		}
		go c.close()
	}
	return nil
}

// put returns a connection. A connection whose last error says it can't be
// trusted is closed instead.
func (p *pool) put(c *conn, lastErr error) {
	defer func() { <-p.slots }()
	if connBroken(lastErr) {
		p.cfg.debugf("ftp[%d] dropping connection after: %v", c.id, lastErr)
		c.close()
		return
	}
	c.lastUsed = p.cfg.Now()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.close()
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

func (p *pool) register(h releaser) {
	p.mu.Lock()
	p.holders[h] = struct{}{}
	p.mu.Unlock()
}

func (p *pool) unregister(h releaser) {
	p.mu.Lock()
	delete(p.holders, h)
	p.mu.Unlock()
}

// dial opens and logs in a new connection. The first successful login
// finds out whether the server has MLSD; when it has not, listings must use
// "LIST -a" (plain LIST hides dot files on vsftpd and others), an option
// that can only be set when dialing, so that first connection is replaced.
func (p *pool) dial(ctx context.Context) (*conn, error) {
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	hidden := p.listHidden
	p.mu.Unlock()

	c, err := p.dialOnce(ctx, id, hidden)
	if err != nil || hidden || c.sc.IsTimePreciseInList() {
		return c, err
	}
	p.cfg.debugf("ftp[%d] server has no MLSD: listing with LIST -a", id)
	p.mu.Lock()
	p.listHidden = true
	p.mu.Unlock()
	c.close()
	return p.dialOnce(ctx, id, true)
}

func (p *pool) dialOnce(ctx context.Context, id int, listHidden bool) (*conn, error) {
	cfg := &p.cfg
	c := &conn{id: id, debugf: cfg.debugf, timeout: cfg.Timeout, noEPSV: cfg.DisableEPSV}
	host, _, _ := net.SplitHostPort(cfg.Addr)
	if cfg.TLS != nil {
		c.tlsConf = tlsFor(cfg.TLS, host)
	}
	if cfg.Debugf != nil {
		c.plog = newProtoLog(id, cfg.Debugf)
	}
	opts := []ftp.DialOption{
		ftp.DialWithDialFunc(p.dialFunc(ctx, c)),
		ftp.DialWithForceListHidden(listHidden),
		ftp.DialWithWritingMDTM(true),
		ftp.DialWithDisabledUTF8(true), // sent by afterLogin: a refusal is harmless
		ftp.DialWithDisabledEPSV(cfg.DisableEPSV),
	}
	if cfg.Debugf != nil {
		opts = append(opts, ftp.DialWithDebugOutput(c.plog))
	}
	if c.tlsConf != nil {
		// Implicit to the library in both modes: dialControl has done
		// AUTH TLS already (see ctrlconn.go).
		opts = append(opts, ftp.DialWithTLS(c.tlsConf))
	}
	sc, err := ftp.Dial(cfg.Addr, opts...)
	if err != nil {
		if c.ctrl != nil {
			c.ctrl.Close()
		}
		if perr := protocolMismatch(cfg, err); perr != nil {
			return nil, perr // see greeting.go
		}
		kind := ErrTransient
		if isTLSRefusal(err) {
			kind = ErrTLS
		}
		return nil, &ReplyError{Op: "connect", Path: cfg.Addr, Code: replyCode(err), Msg: errText(err), Kind: kind, Err: err}
	}
	c.sc = sc
	c.ctl.rec = &bytes.Buffer{}
	err = sc.Login(cfg.User, cfg.Password)
	login := c.ctl.rec.String()
	c.ctl.rec = nil
	if err != nil {
		c.close()
		kind := ErrLogin
		switch code := replyCode(err); {
		case isTLSRefusal(err):
			kind = ErrTLS
		case code != 0 && code != 530 && code != 331 && code != 332:
			kind = kindOf(code)
		case code == 0 && connBroken(err) && !isLoginRefusal(err):
			kind = ErrTransient
		}
		return nil, &ReplyError{Op: "login", Path: cfg.User, Code: replyCode(err), Msg: errText(err), Kind: kind, Err: err}
	}
	if err := c.afterLogin(ctx, login, cfg); err != nil {
		c.close()
		return nil, &ReplyError{Op: "login", Path: cfg.User, Code: replyCode(err), Msg: errText(err), Kind: ErrTransient, Err: err}
	}
	c.lastUsed = cfg.Now()
	return c, nil
}

// isTLSRefusal tells a certificate that was not trusted (or a handshake
// that failed) from other failures.
func isTLSRefusal(err error) bool {
	var cv *tls.CertificateVerificationError
	var rh tls.RecordHeaderError
	var ae tls.AlertError
	return errors.As(err, &cv) || errors.As(err, &rh) || errors.As(err, &ae)
}

// isLoginRefusal: jlaffaye returns a USER failure as a plain error carrying
// only the server's message; it is still a refusal, not a network failure.
func isLoginRefusal(err error) bool {
	var ne net.Error
	return !errors.As(err, &ne) && !errors.Is(err, net.ErrClosed) && err.Error() != "EOF"
}

// errText is the server's words when err is a reply, else the error text.
func errText(err error) string {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Msg
	}
	return err.Error()
}

func (c *conn) close() {
	if c.ctrl != nil {
		c.ctrl.setTimeout(2 * time.Second)
	}
	if c.sc != nil {
		_ = c.sc.Quit()
	} else if c.ctrl != nil {
		_ = c.ctrl.Close()
	}
}

// closeAll closes the idle connections and refuses to keep any more.
func (p *pool) closeAll() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.closed = true
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}
