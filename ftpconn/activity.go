package ftpconn

import (
	"io"
	"sort"
	"sync"
	"time"
)

// Activity is a live view of what a Client is doing, for `ftpmount status`
// and for the progress shown while a shutdown waits for uploads: the
// uploads in flight (file, bytes sent of the total) and those waiting for a
// connection, and the pool's connections. The caller creates one and
// passes it in Config.Activity; a nil *Activity records nothing. Safe for
// concurrent use; its lock is never held across network I/O.
type Activity struct {
	now func() time.Time

	mu      sync.Mutex
	uploads map[uint64]*UploadState // GUARDED_BY(mu)
	next    uint64                  // GUARDED_BY(mu)
	pool    func() (inUse, idle, max int)
}

// UploadState is one upload as Activity shows it.
type UploadState struct {
	Path    string    `json:"path"`
	Sent    int64     `json:"sent"`    // bytes written to the data connection so far (the highest offset read; a few MiB may still sit in socket buffers)
	Total   int64     `json:"total"`   // bytes to send in all; SizeUnknown (-1) while a streamed file is still being written
	Sending bool      `json:"sending"` // false while it waits for a connection
	Started time.Time `json:"started"`
}

// ActivityView is a snapshot of an Activity.
type ActivityView struct {
	Uploads     []UploadState `json:"uploads"` // oldest first
	ConnsInUse  int           `json:"conns_in_use"`
	ConnsIdle   int           `json:"conns_idle"`
	ConnsMax    int           `json:"conns_max"`
	CollectedAt time.Time     `json:"collected_at"`
}

// NewActivity returns an empty registry.
func NewActivity() *Activity {
	return &Activity{now: time.Now, uploads: map[uint64]*UploadState{}}
}

// View returns a snapshot.
func (a *Activity) View() ActivityView {
	if a == nil {
		return ActivityView{}
	}
	a.mu.Lock()
	v := ActivityView{CollectedAt: a.now()}
	for _, u := range a.uploads {
		v.Uploads = append(v.Uploads, *u)
	}
	pool := a.pool
	a.mu.Unlock()
	sort.Slice(v.Uploads, func(i, j int) bool { return v.Uploads[i].Started.Before(v.Uploads[j].Started) })
	if pool != nil {
		v.ConnsInUse, v.ConnsIdle, v.ConnsMax = pool()
	}
	return v
}

// setPool makes View report p's connections.
func (a *Activity) setPool(p *pool) {
	if a == nil {
		return
	}
	a.mu.Lock()
	a.pool = p.stats
	a.mu.Unlock()
}

// stats: connections checked out (or being dialed), idle, and the cap.
func (p *pool) stats() (inUse, idle, max int) {
	p.mu.Lock()
	idle = len(p.idle)
	max = cap(p.slots) - p.burned
	p.mu.Unlock()
	return len(p.slots) - p.burnedSlots(), idle, max
}

// track registers an upload of p from src; the returned source counts the
// bytes read from it (an upload reads in order, so the highest offset
// reached is what was sent). done removes the entry.
func (a *Activity) track(p string, src source) (source, func()) {
	if a == nil {
		return src, func() {}
	}
	a.mu.Lock()
	a.next++
	id := a.next
	st := &UploadState{Path: p, Total: src.size, Started: a.now()}
	a.uploads[id] = st
	a.mu.Unlock()
	src.r = &countingReaderAt{r: src.r, a: a, st: st, final: src.final}
	return src, func() {
		a.mu.Lock()
		delete(a.uploads, id)
		a.mu.Unlock()
	}
}

// countingReaderAt records how far an upload has read.
type countingReaderAt struct {
	r     io.ReaderAt
	a     *Activity
	st    *UploadState // fields GUARDED_BY(a.mu)
	final func() int64 // a stream's size, SizeUnknown until known; nil for a file of known size
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	var total int64 // when c.final != nil
	if c.final != nil {
		total = c.final()
	}
	c.a.mu.Lock()
	c.st.Sending = true
	if end := off + int64(n); end > c.st.Sent {
		c.st.Sent = end
	}
	if c.final != nil {
		c.st.Total = total
	}
	c.a.mu.Unlock()
	return n, err
}
