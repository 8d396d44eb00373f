package cache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// DirsConfig tunes a Dirs cache.
type DirsConfig struct {
	// TTL is how long a listing is trusted. Zero means every readdir asks
	// the server again (lookups still share a listing younger than
	// minLookupAge).
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Background is how many listings may be fetched at once for no
	// caller (prefetches, refreshes ahead: prefetch.go, refresh.go),
	// leaving the other connections to callers; 0 means
	// defaultBackground, and more than maxBackground counts as that.
	Background int
}

// maxDirs bounds the number of listings kept.
const maxDirs = 4096

// failHold is how long a listing that timed out is the answer to the
// lookups and listings of that directory that follow, instead of a new
// fetch each: on a silent server every fetch waits out the timeout, and
// one `ls` or `cp` looks a directory up several times. The mount's own
// change of the directory ends it early. Other failures (a refused
// connection, a reply) are not held: they come fast, and a server that
// restarts must be seen at once.
const failHold = 3 * time.Second

// minLookupAge lets the lookups that follow a readdir (one per entry) use
// its listing even when TTL is zero.
const minLookupAge = time.Second

// slowListingFactor: a listing that took D to arrive is trusted for at
// least slowListingFactor×D after it came (when the TTL is not zero).
// Listing a directory of a million entries takes seconds, and the kernel
// takes longer still to go through it (an inode per entry for
// READDIRPLUS, then `ls -l` sorts and prints): with the 5 s TTL alone,
// the lookups that follow the readdir found it stale and listed it again
// and again (a cold `ls -l` of 200,000 entries took 20-45 s, most of it
// re-listing; of 1,000,000, a warm one listed again). So re-listing
// costs at most a fifth of the time spent on a huge directory, and the
// staleness bound grows with the directory: the TTL, or four times the
// listing's own duration when that is longer.
const slowListingFactor = 4

// A listing is also trusted for as long as its first readdir pass took to
// hand it to the kernel, on top of the above (see Snapshot.Handed): the
// entry and attribute timeouts the kernel gets count from when each
// entry was handed over, not from when the listing arrived. Handing a
// directory of 200,000 entries to the kernel (READDIRPLUS, an inode per
// entry) takes seconds, and a listing trusted for 5 s from its arrival
// then expired in the middle of the `ls -l` that follows (a warm ls
// whose every stat went back to the daemon, 200,000 LOOKUPs and a new
// LIST: 3-12 s instead of the ~1.5 s ls itself needs). Only the first
// pass over a listing extends it, and by at most the trust window, so
// repeated or slow readdirs cannot keep a listing fresh: what the kernel
// shows is at most twice the TTL (or slowListingFactor × took) old.

// minLRUAge keeps listings (fresh or not) for at least this long: the
// LRU's expiry only bounds memory, and a stale listing still names the
// sibling directories to prefetch. It must outlast the trust of slow
// listings (slowListingFactor × took, plus the first pass): vsftpd took
// 20-30 s to list 1,000,000 entries, so that listing is trusted for
// 100-200 s; with a minute here the LRU dropped it in the middle of the
// `ls -l` that followed, which listed it again (1 GB resident at the
// peak, the warm ls 41 s instead of the ~20 ls itself takes). The
// listings kept are bounded by maxDirs.
const minLRUAge = 10 * time.Minute

// Dirs is the listing cache of one mount.
//
// Lock order: Dirs.mu, then listing.mu. The LRUs lock on their own and
// call nothing back, so they may be used with mu held.
type Dirs struct {
	client ftpconn.Client
	ttl    time.Duration
	now    func() time.Time
	lru    *expirable.LRU[string, *listing] // thread-safe on its own
	times  *lru.Cache[string, knownTime]    // thread-safe on its own; see times.go

	prefetchSem chan struct{} // one token per background listing; see prefetch.go
	noRefresh   bool          // tests of other rules of trust: no refresh ahead (refresh.go)
	seq         atomic.Uint64 // source of listing versions

	mu       sync.Mutex
	inflight map[string]*fetch                   // GUARDED_BY(mu): listings being fetched
	queued   map[string]bool                     // GUARDED_BY(mu): waiting for a prefetch slot
	changes  map[string]*changeLog               // GUARDED_BY(mu): dir → local changes made while its fetch runs
	pending  map[string]map[string]ftpconn.Entry // GUARDED_BY(mu): dir → name → entry not yet on the server
	failed   map[string]failure                  // GUARDED_BY(mu): dir → its last failed fetch, for failHold
}

// failure is a listing that could not be fetched.
type failure struct {
	err error
	at  time.Time
}

// listing is one directory as the server last showed it, plus our changes.
type listing struct {
	// arrived is when the listing's last byte came; zero for a listing
	// that raced with a local change (usable once, then fetched again).
	arrived time.Time
	took    time.Duration // from sending the command to arrived
	// incomplete: the server said it cut this listing short; a name not
	// in entries is asked about (Client.Stat) before it is called missing.
	incomplete bool

	// firstPass is claimed by the first Snapshot of the listing; handed
	// is how long that pass has spent handing entries over (ns, growing):
	// see Snapshot.Handed.
	firstPass atomic.Bool
	handed    atomic.Int64

	mu      sync.Mutex
	entries *table // GUARDED_BY(mu): see table.go for what the lock covers
	version uint64 // GUARDED_BY(mu): changes whenever entries do
}

// until is when l goes stale for callers that accept listings up to
// maxAge old (see slowListingFactor); zero when it is stale already.
func (l *listing) until(maxAge time.Duration) time.Time {
	if l.arrived.IsZero() {
		return time.Time{}
	}
	if maxAge > 0 {
		maxAge = max(maxAge, slowListingFactor*l.took) + time.Duration(l.handed.Load())
	}
	return l.arrived.Add(maxAge)
}

// fresh reports whether l is younger than maxAge at now.
func (l *listing) fresh(now time.Time, maxAge time.Duration) bool {
	return now.Before(l.until(maxAge))
}

// changeLog is what the mount changed in a directory while a fetch of it
// ran: the changes (replayed onto the listing, which may predate them),
// or lost when one cannot be replayed (Invalidate, SetListing). A fetch
// with an empty log raced with nothing.
type changeLog struct {
	fns  []func(*listing)
	lost bool
}

// fetch is one LIST in progress; latecomers wait on done.
type fetch struct {
	done chan struct{}
	l    *listing
	err  error
}

// NewDirs makes the listing cache of one mount.
func NewDirs(client ftpconn.Client, cfg DirsConfig) *Dirs {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// The LRU's own expiry only frees memory; freshness is judged with
	// the injected clock. A TTL of zero would mean "never expire" to it.
	lruTTL := max(cfg.TTL*2, minLRUAge)
	return &Dirs{
		client:      client,
		ttl:         cfg.TTL,
		now:         cfg.Now,
		lru:         expirable.NewLRU[string, *listing](maxDirs, nil, lruTTL),
		times:       newKnownTimes(),
		prefetchSem: make(chan struct{}, min(cmp.Or(cfg.Background, defaultBackground), maxBackground)),
		inflight:    map[string]*fetch{},
		queued:      map[string]bool{},
		changes:     map[string]*changeLog{},
		pending:     map[string]map[string]ftpconn.Entry{},
		failed:      map[string]failure{},
	}
}

// Version is the version of dir's listing when it is cached and younger
// than the TTL, else 0.
func (d *Dirs) Version(dir string) uint64 {
	l, ok := d.lru.Peek(dir)
	if !ok || !l.fresh(d.now(), d.ttl) {
		return 0
	}
	if d.hasPending(dir) {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.version
}

// FreshUntil is when the cached listing of dir goes stale; zero when
// there is none, or while dir holds files being written (their sizes
// move). Until then, what it says may be cached by the kernel too.
func (d *Dirs) FreshUntil(dir string) time.Time {
	l, ok := d.lru.Peek(dir)
	if !ok || d.hasPending(dir) {
		return time.Time{}
	}
	if from := l.refreshFrom(d.ttl); !from.IsZero() {
		return from // the kernel comes back in time to refresh it ahead
	}
	return l.until(d.ttl)
}

// Lookup finds name in dir. It fails with ftpconn.ErrNotFound when the name
// is not there (or dir itself is missing).
func (d *Dirs) Lookup(ctx context.Context, dir, name string) (ftpconn.Entry, error) {
	if e, ok := d.pendingEntry(dir, name); ok {
		return e, nil
	}
	l, err := d.get(ctx, dir, max(d.ttl, minLookupAge))
	if err != nil {
		return ftpconn.Entry{}, err
	}
	l.mu.Lock()
	e, ok := l.entries.get(name)
	l.mu.Unlock()
	if !ok && l.incomplete {
		return d.statMissing(ctx, l, dir, name)
	}
	if !ok {
		return ftpconn.Entry{}, fmt.Errorf("lookup %s: not in the listing: %w", path.Join(dir, name), ftpconn.ErrNotFound)
	}
	return e, nil
}

// statMissing asks the server about a name an incomplete listing lacks,
// and keeps what it learns in the listing.
func (d *Dirs) statMissing(ctx context.Context, l *listing, dir, name string) (ftpconn.Entry, error) {
	e, err := d.client.Stat(ctx, path.Join(dir, name))
	if err != nil {
		return ftpconn.Entry{}, err
	}
	l.mu.Lock()
	l.entries.put(e)
	l.version = d.seq.Add(1)
	l.mu.Unlock()
	return e, nil
}

// get returns a listing of dir younger than maxAge, fetching it if needed.
// Concurrent callers for one dir share one fetch.
func (d *Dirs) get(ctx context.Context, dir string, maxAge time.Duration) (*listing, error) {
	if l, ok := d.lru.Get(dir); ok {
		if now := d.now(); l.fresh(now, maxAge) {
			d.refreshAhead(dir, l, now, maxAge) // refresh.go
			return l, nil
		}
	}
	d.mu.Lock()
	// Again under mu: a fetch may have finished since the check above (it
	// puts its listing in the LRU, then leaves inflight, both under mu).
	if l, ok := d.lru.Peek(dir); ok && l.fresh(d.now(), maxAge) {
		d.mu.Unlock()
		return l, nil
	}
	if fl, ok := d.failed[dir]; ok {
		if d.now().Sub(fl.at) < failHold {
			d.mu.Unlock()
			return nil, fl.err
		}
		delete(d.failed, dir)
	}
	f, running := d.inflight[dir]
	if !running {
		f = &fetch{done: make(chan struct{})}
		d.inflight[dir] = f
		go d.run(dir, f, nil)
	}
	d.mu.Unlock()
	select {
	case <-f.done:
		return f.l, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run fetches dir in its own goroutine, so that a caller that gives up does
// not cancel the fetch for the others waiting on it. The local changes of
// dir made while the fetch ran are replayed onto its listing, which may
// predate them (a directory the mount is copying into changes with every
// file: fetched again, it raced again). A listing that raced with a change
// that cannot be replayed is fetched again (once). old, when not nil, is
// the listing a refresh ahead replaces (refresh.go): while it is fresh, a
// failed or twice-raced refresh leaves it in place, and the callers that
// joined get it.
func (d *Dirs) run(dir string, f *fetch, old *listing) {
	defer close(f.done)
	for try := 0; ; try++ {
		d.mu.Lock()
		rec := &changeLog{}
		d.changes[dir] = rec
		d.mu.Unlock()
		start := d.now()
		ctx := context.Background()
		if old != nil {
			ctx = ftpconn.Background(ctx) // leave callers the connection they need next
		}
		entries, err := d.client.List(ctx, dir)
		incomplete := errors.Is(err, ftpconn.ErrIncomplete)
		if incomplete {
			err = nil
		}
		var l *listing
		if err == nil {
			arrived := d.now()
			if d.times.Len() > 0 { // else no entry to join a path for
				for i := range entries {
					d.refineTime(dir, &entries[i])
				}
			}
			l = &listing{arrived: arrived, took: arrived.Sub(start), entries: newTable(entries), version: d.seq.Add(1), incomplete: incomplete}
		}
		// The listing goes into the LRU before the fetch leaves inflight:
		// a get in between would otherwise start a second fetch.
		d.mu.Lock()
		delete(d.changes, dir)
		raced := rec.lost || len(rec.fns) > 0
		if err == nil && raced && !rec.lost {
			l.mu.Lock()
			for _, fn := range rec.fns {
				fn(l)
			}
			l.mu.Unlock()
			raced = false
		}
		if err == nil && raced && try == 0 {
			d.mu.Unlock()
			continue
		}
		if (err != nil || raced) && old != nil && old.fresh(d.now(), d.ttl) {
			if cur, ok := d.lru.Peek(dir); ok && cur == old {
				delete(d.inflight, dir)
				d.mu.Unlock()
				f.l = old
				return
			}
		}
		if err != nil {
			d.lru.Remove(dir)
			if !raced && isTimeout(err) {
				d.failed[dir] = failure{err: err, at: d.now()}
			}
		} else {
			if raced {
				l.arrived = time.Time{} // usable now, refetched next time
			}
			d.lru.Add(dir, l)
		}
		delete(d.inflight, dir)
		d.mu.Unlock()
		f.l, f.err = l, err
		return
	}
}

// Put records that dir now holds e (the mount created or changed it).
func (d *Dirs) Put(dir string, e ftpconn.Entry) {
	d.change(dir, func(l *listing) { l.entries.put(e) })
}

// Remove records that name is gone from dir.
func (d *Dirs) Remove(dir, name string) {
	d.change(dir, func(l *listing) { l.entries.remove(name) })
}

// Invalidate forgets the listing of dir: the next lookup asks the server.
func (d *Dirs) Invalidate(dir string) {
	d.bump(dir, nil)
	d.lru.Remove(dir)
}

// InvalidateTree forgets the listings of dir and of all directories below
// it (after a rename or removal of a directory, say).
func (d *Dirs) InvalidateTree(dir string) {
	d.Invalidate(dir)
	prefix := strings.TrimSuffix(dir, "/") + "/"
	for _, k := range d.lru.Keys() {
		if strings.HasPrefix(k, prefix) {
			d.lru.Remove(k)
		}
	}
}

// change applies fn (a change the mount made in dir) to its listing, and
// to the listing of a fetch under way when it lands (see run). fn needs
// l.mu held, and must give the same result when applied twice.
func (d *Dirs) change(dir string, fn func(*listing)) {
	d.bump(dir, fn)
	if l, ok := d.lru.Peek(dir); ok {
		l.mu.Lock()
		fn(l)
		l.version = d.seq.Add(1)
		l.mu.Unlock()
	}
}

// bump records a local change of dir: a fetch under way may predate it
// (its listing gets fn replayed, or, when fn is nil, is fetched again),
// and a failure to list it is forgotten.
func (d *Dirs) bump(dir string, fn func(*listing)) {
	d.mu.Lock()
	if rec := d.changes[dir]; rec != nil {
		if fn == nil {
			rec.lost = true
		} else {
			rec.fns = append(rec.fns, fn)
		}
	}
	delete(d.failed, dir)
	d.mu.Unlock()
}

// SetPending shows e in dir while it is being written and not yet on the
// server. It stays until ClearPending, whatever the listings say.
func (d *Dirs) SetPending(dir string, e ftpconn.Entry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.pending[dir]
	if m == nil {
		m = map[string]ftpconn.Entry{}
		d.pending[dir] = m
	}
	m[e.Name] = e
}

// ClearPending ends what SetPending started.
func (d *Dirs) ClearPending(dir, name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.pending[dir], name)
	if len(d.pending[dir]) == 0 {
		delete(d.pending, dir)
	}
}

func (d *Dirs) pendingEntry(dir, name string) (ftpconn.Entry, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.pending[dir][name]
	return e, ok
}

// pendingIn returns a copy of the pending entries of dir (nil: none).
func (d *Dirs) pendingIn(dir string) []ftpconn.Entry {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.pending[dir]
	if len(p) == 0 {
		return nil
	}
	out := make([]ftpconn.Entry, 0, len(p))
	for _, e := range p {
		out = append(out, e)
	}
	return out
}

func (d *Dirs) hasPending(dir string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pending[dir]) > 0
}

// SetListing records a listing the mount knows without asking (a directory
// it just made is empty).
func (d *Dirs) SetListing(dir string, entries []ftpconn.Entry) {
	l := &listing{arrived: d.now(), entries: newTable(slices.Clone(entries)), version: d.seq.Add(1)}
	d.bump(dir, nil)
	d.lru.Add(dir, l)
}

// IsPending reports whether name in dir is a file being written that the
// server may not have yet.
func (d *Dirs) IsPending(dir, name string) bool {
	_, ok := d.pendingEntry(dir, name)
	return ok
}

// isTimeout tells a failure that waited out a deadline (a network wait).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
