package core

import (
	"context"
	"path"
	"sync"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// staleTemp is how old a temporary upload must be (by the time in its
// name) before a listing that finds it removes it: an upload that has not
// finished in a day is one whose daemon died without a journal to say so
// (its spool directory was lost). Younger ones may belong to another
// mount's upload in progress.
const staleTemp = 24 * time.Hour

// HideTemp wraps client so that its listings leave out temporary upload
// names (tmpname.go): they are never a file a user made, and another
// mount's upload in progress must not show. A temporary name older than
// staleTemp is removed from the server in the background, once, and
// logged. The listing cache lists through it; uploads, renames and
// Recover use the client itself.
// now is the clock; logf says what was removed.
func HideTemp(client ftpconn.Client, now func() time.Time, logf func(format string, args ...any)) ftpconn.Client {
	return &hidingClient{Client: client, now: now, logf: logf, removing: map[string]bool{}}
}

// WithoutTemp returns entries without the temporary upload names.
func WithoutTemp(entries []ftpconn.Entry) []ftpconn.Entry {
	var out []ftpconn.Entry
	for _, e := range entries {
		if _, ok := IsTempName(e.Name); !ok {
			out = append(out, e)
		}
	}
	return out
}

type hidingClient struct {
	ftpconn.Client
	now  func() time.Time
	logf func(format string, args ...any)
	// ours, when not nil, tells a temporary name this mount still uses (a
	// file unlinked while open, held for more than staleTemp): never
	// removed as stale. Set once, before the first listing.
	ours func(p string) bool

	mu       sync.Mutex
	removing map[string]bool // GUARDED_BY(mu): stale temporary names being removed
}

func (h *hidingClient) List(ctx context.Context, dir string) ([]ftpconn.Entry, error) {
	entries, err := h.Client.List(ctx, dir)
	out := entries[:0]
	for _, e := range entries {
		started, ok := IsTempName(e.Name)
		if !ok {
			out = append(out, e)
			continue
		}
		p := path.Join(dir, e.Name)
		if e.Type == ftpconn.TypeFile && h.now().Sub(started) > staleTemp && (h.ours == nil || !h.ours(p)) {
			h.removeStale(p)
		}
	}
	return out, err
}

func (h *hidingClient) removeStale(p string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.removing[p] {
		return
	}
	h.removing[p] = true
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := h.Client.Delete(ctx, p); err == nil {
			h.logf("removed %s, a temporary upload left by an ftpmount that died over a day ago", p)
		}
	}()
}
