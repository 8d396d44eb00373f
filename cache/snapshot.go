package cache

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// Snapshot is a directory's entries at one moment, sorted by name: what
// one readdir serves, entry by entry. It shares the listing's compact
// records (table.go), so taking one costs nothing per entry; only when
// the listing holds changes made through the mount, or files being
// written, are all entries merged into a slice of whole entries. A
// Snapshot never changes and is safe for concurrent use.
type Snapshot struct {
	t       *table          // used when merged is nil: its records and names only
	merged  []ftpconn.Entry // when not nil: every entry, sorted by name
	version uint64          // see Dirs.Version; 0 when it must not be cached
	until   time.Time       // see Dirs.FreshUntil; zero: stale at once

	// When the snapshot is the first pass over its listing (see Handed):
	l     *listing      // nil otherwise
	taken time.Time     // when the snapshot was taken
	ttl   time.Duration // Dirs.ttl
}

// Snapshot returns the entries of dir (with the files being written, see
// SetPending) from a listing no older than the TTL, without copying them.
func (d *Dirs) Snapshot(ctx context.Context, dir string) (*Snapshot, error) {
	l, err := d.get(ctx, dir, d.ttl)
	if err != nil {
		return nil, err
	}
	pending := d.pendingIn(dir)
	l.mu.Lock()
	s := &Snapshot{version: l.version, until: l.until(d.ttl)}
	if l.entries.changed() || len(pending) > 0 {
		s.merged = l.entries.all()
	} else {
		s.t = l.entries
	}
	l.mu.Unlock()
	if len(pending) > 0 {
		// Files being written: their sizes move; never let the kernel cache this.
		s.version, s.until = 0, time.Time{}
		s.merged = mergeSorted(s.merged, pending)
	} else if d.ttl > 0 && !s.until.IsZero() && l.firstPass.CompareAndSwap(false, true) {
		s.l, s.taken, s.ttl = l, d.now(), d.ttl
	}
	return s, nil
}

// mergeSorted puts extra (any order) into sorted, replacing entries of
// the same name; the result is sorted.
func mergeSorted(sorted, extra []ftpconn.Entry) []ftpconn.Entry {
	byName := make(map[string]ftpconn.Entry, len(extra))
	for _, e := range extra {
		byName[e.Name] = e
	}
	for i, e := range sorted {
		if pe, ok := byName[e.Name]; ok {
			sorted[i] = pe
			delete(byName, e.Name)
		}
	}
	if len(byName) == 0 {
		return sorted
	}
	for _, e := range byName {
		sorted = append(sorted, e)
	}
	slices.SortFunc(sorted, func(a, b ftpconn.Entry) int { return strings.Compare(a.Name, b.Name) })
	return sorted
}

// Len is the number of entries.
func (s *Snapshot) Len() int {
	if s.merged != nil {
		return len(s.merged)
	}
	return len(s.t.recs)
}

// Name is the name of entry i (0 ≤ i < Len), without allocating.
func (s *Snapshot) Name(i int) string {
	if s.merged != nil {
		return s.merged[i].Name
	}
	return s.t.name(&s.t.recs[i])
}

// Type is the type of entry i.
func (s *Snapshot) Type(i int) ftpconn.EntryType {
	if s.merged != nil {
		return s.merged[i].Type
	}
	return ftpconn.EntryType(s.t.recs[i].typ)
}

// Entry is entry i.
func (s *Snapshot) Entry(i int) ftpconn.Entry {
	if s.merged != nil {
		return s.merged[i]
	}
	return s.t.decode(&s.t.recs[i])
}

// Find returns the index of the entry named name.
func (s *Snapshot) Find(name string) (int, bool) {
	if s.merged == nil {
		return s.t.find(name)
	}
	i := sort.Search(len(s.merged), func(i int) bool { return s.merged[i].Name >= name })
	return i, i < len(s.merged) && s.merged[i].Name == name
}

// Version is the version of the listing (see Dirs.Version); 0 when the
// directory held files being written.
func (s *Snapshot) Version() uint64 { return s.version }

// FreshUntil is when the listing went or goes stale (see
// Dirs.FreshUntil); zero when the directory held files being written.
func (s *Snapshot) FreshUntil() time.Time { return s.until }

// Handed records that an entry of the snapshot is being handed to the
// kernel at now (the Dirs' clock), and returns when the listing goes stale (FreshUntil). When
// the snapshot is the first pass over its listing, the time since it was
// taken is added to how long the listing is trusted (see dirs.go), for
// the lookups and listings of the mount and for the timeouts the kernel
// is given: each entry stays valid as long after it was handed over as
// the first one did. The extension is at most the trust window itself
// (the TTL, or slowListingFactor × took): a program that keeps the
// directory open and reads it slowly cannot keep the listing trusted
// longer than twice that.
func (s *Snapshot) Handed(now time.Time) time.Time {
	if s.l == nil || s.until.IsZero() {
		return s.until
	}
	// At most the listing's own trust window: a reader that keeps its
	// directory open and reads on slowly gets at most twice the window.
	spent := int64(min(now.Sub(s.taken), max(s.ttl, slowListingFactor*s.l.took)))
	for {
		old := s.l.handed.Load()
		if spent <= old || s.l.handed.CompareAndSwap(old, spent) {
			break
		}
	}
	return s.l.until(s.ttl)
}

// all returns every entry as a new slice.
func (s *Snapshot) all() []ftpconn.Entry {
	if s.merged != nil {
		return s.merged
	}
	out := make([]ftpconn.Entry, len(s.t.recs))
	for i := range s.t.recs {
		out[i] = s.t.decode(&s.t.recs[i])
	}
	return out
}
