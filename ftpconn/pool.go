package ftpconn

import (
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
	silent   *silence      // the session's first timeout, shared by its sockets
	lastUsed time.Time
	debugf   func(format string, args ...any) // the pool's Config.debugf

	// Our own command path (command.go, datconn.go, ctrlconn.go).
	ctl     *ctrlConn         // the control connection above TLS, shared with sc
	tlsConf *tls.Config       // this connection's TLS config (nil without FTPS)
	timeout time.Duration     // Config.Timeout, for data connections
	plog    *protoLog         // the debug log, nil without Config.Debugf
	feat    map[string]string // FEAT lines after login: "MLST" → "type*;size*;..."
	noEPSV  bool              // EPSV refused once (or disabled): PASV only

	held      checkout    // how it was checked out; set by the pool
	dialLimit time.Time   // while dialing: the checkout's budget for dial and login
	lp        *listPolicy // the mount's listing policy (listpolicy.go)

	// Pipelining (pipeline.go).
	pp     *pipePolicy      // what the mount learned; shared, its own atomics
	traits serverTraits     // what the greeting says about the server
	clock  func() time.Time // Config.Now
	// broken, when set, makes the pool drop the connection when it comes
	// back, whatever the operation returned (a pipelined reply that never
	// came after the operation's own result was known).
	broken error
}

// checkout tells the pool what a connection is borrowed for.
type checkout int

const (
	// forOperation: a command or a transfer that ends by itself (a
	// listing, an upload of a spooled file, a download stream, which the
	// pool can reclaim between reads).
	forOperation checkout = iota
	// forStream: a transfer that may wait on its own caller (a streamed
	// upload waits for the writer, who may be waiting for a read of the
	// same process). Such a holder never gets the last connection the
	// server allows: see pool.
	forStream
)

// errNoSpareConn is a forStream checkout refused because it would hold the
// last connection the server allows.
var errNoSpareConn = errors.New("no connection to spare: the server allows too few to upload while a file is written")

// idleCheckAfter is how long a connection may sit idle before it is checked
// with NOOP on checkout. Servers hang up idle clients (with or without a 421)
// and the library only notices on the next command.
const idleCheckAfter = 2 * time.Second

// idleCheckWait bounds the NOOP of that check (and half the timeout does:
// a dial may follow, and both share one timeout; see checkout).
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
// No operation may wait for a connection its own caller holds. Download
// streams give theirs back on request between reads (reclaimOne; the read
// resumes later with REST). Streamed uploads cannot (they wait for their
// writer), so they never hold the last connection: at least one of the
// connections the server has let us have at once stays for operations
// (streams < proven and streams < cap(slots)-burned, kept by checkout and
// burnSlot); a stream that cannot have one fails with errNoSpareConn, and
// the file is uploaded at its close instead. Without this, `cp /mnt/a
// /mnt/b` on a server allowing one connection waits for ever: the upload
// of b holds the connection, waiting for bytes of a, whose read waits for
// the connection.
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
	refused    bool                  // GUARDED_BY(mu): the server has refused a connection as one too many
	live       int                   // GUARDED_BY(mu): connections checked out
	streams    int                   // GUARDED_BY(mu): connections checked out (or being dialed) forStream
	proven     int                   // GUARDED_BY(mu): the most connections the server let us have open at once
	lp         *listPolicy           // shared with every conn; its own lock
	pp         *pipePolicy           // shared with every conn; atomics
	bg         sync.WaitGroup        // work that finishes a connection in the background (closeAborted)
	// silentSince and silentCause are the last timeout of a wait for the
	// server (see silentHold); silentCause nil when none holds.
	silentSince time.Time // GUARDED_BY(mu)
	silentCause error     // GUARDED_BY(mu)
}

func newPool(cfg Config) *pool {
	return &pool{
		cfg:     cfg,
		slots:   make(chan struct{}, cfg.MaxConns),
		holders: map[releaser]struct{}{},
		lp:      newListPolicy(&cfg),
		pp:      &pipePolicy{},
	}
}

// get checks out a connection for an operation; see checkout.
func (p *pool) get(ctx context.Context) (*conn, error) {
	return p.checkout(ctx, forOperation)
}

// checkout checks out a connection: an idle one that still answers, or a
// new one. It waits for a free slot, asking idle download streams to give
// theirs back, until ctx is done. A forStream checkout fails at once with
// errNoSpareConn when it would leave no connection for operations.
//
// Once a slot is held, the check of an idle connection and the dial and
// login of a new one share one Config.Timeout: a silent server fails the
// checkout within the timeout, not after a NOOP's wait plus a dial's.
func (p *pool) checkout(ctx context.Context, how checkout) (*conn, error) {
	var full retrier // dials refused with nothing of ours to wait for
	// keepSpares: background work leaves the connections whose data
	// connection is open ahead to callers (background.go), unless the
	// server has refused a connection as one too many: it would again.
	keepSpares := isBackground(ctx) && !p.wasRefused()
	for {
		if how == forStream && !p.canSpare() {
			return nil, errNoSpareConn
		}
		if err := p.acquire(ctx); err != nil {
			return nil, err
		}
		if err := p.silentErr(); err != nil {
			<-p.slots
			return nil, err
		}
		if how == forStream && !p.reserveStream() {
			<-p.slots
			return nil, errNoSpareConn
		}
		budget := time.Now().Add(p.cfg.Timeout)
		var c *conn
		if how == forOperation || p.provenRoom() {
			c = p.healthyIdle(keepSpares)
		}
		var err error
		if c == nil {
			c, err = p.dial(ctx, budget)
		}
		if err == nil {
			if !p.checkedOut(c, how) {
				p.put(c, nil)
				return nil, errNoSpareConn
			}
			return c, nil
		}
		if how == forStream {
			p.unreserveStream()
		}
		p.noteSilence(err)
		if !tooManyConnections(err) {
			<-p.slots
			return nil, err
		}
		keepSpares = false
		p.mu.Lock()
		p.refused = true
		p.mu.Unlock()
		if how == forStream {
			// The server allows no more: none to spare for a stream.
			if !p.burnSlot() {
				<-p.slots
			}
			return nil, errNoSpareConn
		}
		// The server limits connections. While we hold others that
		// will come back, give up this slot for good (the pool shrinks)
		// and wait for one of them; with none to wait for, back off and
		// try again.
		if p.burnSlot() {
			p.cfg.debugf("server refused another connection (%v): pool shrinks to %d", err, cap(p.slots)-p.burnedSlots())
			continue
		}
		<-p.slots
		if !full.wait(ctx, maxFullAttempts) {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
	}
}

// healthyIdle pops idle connections until one answers; nil when none (or,
// with keepSpares, when every idle one has a spare: see popIdle).
func (p *pool) healthyIdle(keepSpares bool) *conn {
	for {
		c := p.popIdle(keepSpares)
		if c == nil {
			return nil
		}
		if p.cfg.Now().Sub(c.lastUsed) < idleCheckAfter {
			return c
		}
		// A dead connection (NAT state gone, server restarted) may never
		// answer: check it with a short deadline, not the full timeout.
		// NOOP on our own command path: a data connection opened ahead
		// stays (the library's NoOp would drop it, see dataahead.go).
		c.ctrl.setTimeout(min(idleCheckWait, p.cfg.Timeout/2))
		_, err := c.Expect(context.Background(), "NOOP")
		c.ctrl.setTimeout(p.cfg.Timeout)
		if err == nil {
			return c
		}
		p.cfg.debugf("ftp[%d] idle connection is dead (%v); replacing it", c.id, err)
		c.close()
	}
}

// silentHold is how long, after a dial (connect, greeting, login) timed
// out, every checkout fails at once with that timeout instead of dialing
// again: a server that does not answer new connections within the timeout
// is taken to be silent, and one system call that makes several requests
// (an upload, then the removal of its temporary file) must not wait out the
// timeout for each. A transfer that stalls on a connection that was
// answering does not start it: the server may be alive.
const silentHold = 3 * time.Second

// noteSilence starts silentHold when err is a timeout.
func (p *pool) noteSilence(err error) {
	if err == nil || !isTimeout(err) {
		return
	}
	p.mu.Lock()
	p.silentSince, p.silentCause = p.cfg.Now(), err
	p.mu.Unlock()
}

// silentErr returns the timeout that started silentHold, while it lasts.
func (p *pool) silentErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.silentCause == nil || p.cfg.Now().Sub(p.silentSince) >= silentHold {
		p.silentCause = nil
		return nil
	}
	return &NoReplyError{Op: "connect", Path: p.cfg.Addr, Msg: "server silent: " + p.silentCause.Error(), Kind: ErrTransient, Err: p.silentCause}
}

// burnSlot keeps the caller's slot occupied for good, shrinking the pool
// by one, when another connection is checked out for an operation (it
// will come back: a connection held by a streamed upload might not, and
// must not become the last one).
func (p *pool) burnSlot() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live-p.streams < 1 {
		return false
	}
	p.burned++
	return true
}

// canSpare tells whether one more connection may go to a streamed upload.
func (p *pool) canSpare() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return cap(p.slots)-p.burned-p.streams >= 2
}

// reserveStream counts a streamed upload's connection before it is found
// or dialed, if that leaves one for operations.
func (p *pool) reserveStream() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cap(p.slots)-p.burned-p.streams < 2 {
		return false
	}
	p.streams++
	return true
}

func (p *pool) unreserveStream() {
	p.mu.Lock()
	p.streams--
	p.mu.Unlock()
}

// provenRoom tells whether a stream (already reserved) may take an idle
// connection: the server has let us have more connections at once than
// streams hold. If not, the stream dials a new one, which proves one more
// or fails.
func (p *pool) provenRoom() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.proven-p.streams >= 1
}

// checkedOut records that c was handed out (its slot is held). For a
// stream it reports whether the connections the server has been seen to
// allow leave one for operations besides the streams; if not, c is
// counted as an operation's and must be put back.
func (p *pool) checkedOut(c *conn, how checkout) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.live++
	p.proven = max(p.proven, p.live+len(p.idle))
	if how == forStream && p.proven-p.streams < 1 {
		p.streams--
		return false
	}
	c.held = how
	return true
}

// wasRefused tells whether the server has refused a connection as one too
// many.
func (p *pool) wasRefused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
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

// popIdle takes an idle connection: the most recently used one that has
// a data connection opened ahead (dataahead.go), else the most recently
// used one. With keepSpares (background work) it is the other way round:
// the most recently used one without a spare, else none, for the caller
// to dial one, if that stays within MaxConns (the caller's slot counted).
// Connections idle for longer than idleDropAfter are closed.
func (p *pool) popIdle(keepSpares bool) *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Now()
	kept := p.idle[:0]
	for _, c := range p.idle {
		if now.Sub(c.lastUsed) < idleDropAfter {
			kept = append(kept, c)
		} else {
			go c.close()
		}
	}
	clear(p.idle[len(kept):])
	p.idle = kept
	if len(p.idle) == 0 {
		return nil
	}
	if keepSpares && len(p.slots)+len(p.idle) > cap(p.slots)-p.burned {
		keepSpares = false // no room to dial one more: MaxConns counts the idle ones too
	}
	at := len(p.idle) - 1
	for i := at; i >= 0; i-- {
		if p.idle[i].hasSpare() != keepSpares {
			at = i
			break
		}
		if keepSpares && i == 0 {
			return nil // every idle connection has a spare: dial
		}
	}
	c := p.idle[at]
	p.idle = append(p.idle[:at], p.idle[at+1:]...)
	return c
}

// put returns a connection. A connection whose last error says it can't be
// trusted is closed instead.
func (p *pool) put(c *conn, lastErr error) {
	defer func() { <-p.slots }()
	p.mu.Lock()
	p.live--
	if c.held == forStream {
		p.streams--
	}
	c.held = forOperation
	p.mu.Unlock()
	if lastErr == nil && c.broken != nil {
		lastErr = c.broken
	}
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
//
// The dial and login must end by limit (the checkout's budget).
func (p *pool) dial(ctx context.Context, limit time.Time) (*conn, error) {
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	hidden := p.listHidden
	p.mu.Unlock()

	c, err := p.dialOnce(ctx, limit, id, hidden)
	if err != nil || hidden || c.sc.IsTimePreciseInList() {
		return c, err
	}
	p.cfg.debugf("ftp[%d] server has no MLSD: listing with LIST -a", id)
	p.mu.Lock()
	p.listHidden = true
	p.mu.Unlock()
	c.close()
	return p.dialOnce(ctx, limit, id, true)
}

func (p *pool) dialOnce(ctx context.Context, limit time.Time, id int, listHidden bool) (*conn, error) {
	cfg := &p.cfg
	c := &conn{id: id, debugf: cfg.debugf, timeout: cfg.Timeout, noEPSV: cfg.DisableEPSV, silent: &silence{}, dialLimit: limit, lp: p.lp, pp: p.pp, clock: cfg.Now}
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
		return nil, failure("connect", cfg.Addr, kind, err)
	}
	c.sc = sc
	err = sc.Login(cfg.User, cfg.Password)
	login := c.ctl.rec.String() // the greeting, then the login dialogue
	c.ctl.rec = nil
	c.traits = traitsOf(greetingOf(login))
	if err != nil {
		c.close()
		kind := ErrLogin
		switch code := replyCode(err); {
		case isTLSRefusal(err):
			kind = ErrTLS
		case code != 0 && code != 530 && code != 331 && code != 332:
			kind = classify("PASS", code, errText(err))
		case code == 0 && connBroken(err) && !isLoginRefusal(err):
			kind = ErrTransient
		}
		return nil, failure("login", cfg.User, kind, err)
	}
	if err := c.afterLogin(ctx, login, cfg); err != nil {
		c.close()
		return nil, failure("login", cfg.User, ErrTransient, err)
	}
	c.ctrl.setLimit(time.Time{})
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
	if c.ctl != nil {
		c.ctl.dropSpare()
	}
	if c.ctrl != nil {
		c.ctrl.setTimeout(2 * time.Second)
	}
	if c.sc != nil {
		_ = c.sc.Quit()
	} else if c.ctrl != nil {
		_ = c.ctrl.Close()
	}
}

// background runs fn, which ends by putting back a connection it holds,
// on a goroutine of its own; closeAll waits for it.
func (p *pool) background(fn func()) {
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		fn()
	}()
}

// closeAll waits for connections being finished in the background, closes
// the idle connections and refuses to keep any more.
func (p *pool) closeAll() {
	p.bg.Wait()
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.closed = true
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}
