package cache

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// A directory of a public mirror can hold a million entries, and the
// kernel's READDIRPLUS looks every one of them up. So a listing is kept
// compactly and searched without hashing:
//
//   - all names live in one string, in sorted order (one allocation, no
//     string header per name);
//   - each entry is a 32-byte record (name offset and length, type, size,
//     time as seconds and nanoseconds, without a monotonic clock reading,
//     which only times made by this process have), in a slice sorted by
//     name, found by binary search;
//   - of ftpconn.Entry's facts, Owner, Group, Perm and Unique are not
//     kept (nothing above ftpconn uses them); Mode is;
//   - the rare entries that do not fit a record (a symlink's target, a
//     time in another location than the listing's, a name of 64 KiB or
//     more) and the mount's own changes since the fetch are kept whole
//     in a small map beside it, and names removed since in a set.
//
// The records and the names string never change once built, so a
// Snapshot shares them without copying; the map and set are guarded by
// the listing's lock. A map of Entry values costs about 150 bytes per
// entry plus a string per name; a record about 32 plus the name's bytes.

// record is one entry of a table; see above.
type record struct {
	size  int64
	sec   int64 // ModTime in seconds since 1970; see flagNoTime
	off   uint32
	nsec  int32
	n     uint16 // length of the name
	mode  uint16 // ftpconn.Entry.Mode (permission bits, 0o7777 at most)
	typ   uint8  // ftpconn.EntryType
	flags uint8
}

// flagNoTime marks an entry listed without a time (ModTime is zero).
const flagNoTime = 1

// table is one directory's entries; see above.
type table struct {
	// names, recs and loc never change once built: shared by snapshots.
	names string
	recs  []record       // sorted by name; unique names
	loc   *time.Location // of every record's time

	// GUARDED_BY(listing.mu)
	more map[string]ftpconn.Entry // whole entries: misfits and changes since the fetch
	gone map[string]struct{}      // names of records removed or replaced (in more) since
}

// newTable builds a table from entries in any order. When a name comes
// twice (a broken server), the later entry wins. It sorts entries in place.
func newTable(entries []ftpconn.Entry) *table {
	byName := func(a, b ftpconn.Entry) int { return strings.Compare(a.Name, b.Name) }
	if !slices.IsSortedFunc(entries, byName) { // vsftpd, proftpd and others send them sorted
		slices.SortStableFunc(entries, byName)
	}
	t := &table{loc: time.UTC}
	for _, e := range entries {
		if !e.ModTime.IsZero() {
			t.loc = e.ModTime.Location()
			break
		}
	}
	var sb strings.Builder
	total := 0
	for _, e := range entries {
		total += len(e.Name)
	}
	sb.Grow(total)
	t.recs = make([]record, 0, len(entries))
	for i, e := range entries {
		if i+1 < len(entries) && entries[i+1].Name == e.Name {
			continue // the later one wins
		}
		r, ok := t.encode(e, sb.Len())
		if !ok {
			if t.more == nil {
				t.more = map[string]ftpconn.Entry{}
			}
			t.more[e.Name] = e
			continue
		}
		sb.WriteString(e.Name)
		t.recs = append(t.recs, r)
	}
	t.names = sb.String()
	if cap(t.recs)-len(t.recs) > len(t.recs)/8 {
		t.recs = append([]record(nil), t.recs...) // many misfits or duplicates: drop the spare room
	}
	return t
}

// encode makes the record of e with its name at off in names; ok is false
// when e does not fit a record.
func (t *table) encode(e ftpconn.Entry, off int) (record, bool) {
	if e.Target != "" || e.Mode > 0o7777 || len(e.Name) > math.MaxUint16 || off > math.MaxUint32-len(e.Name) || e.Type < 0 || e.Type > math.MaxUint8 {
		return record{}, false
	}
	r := record{size: e.Size, off: uint32(off), n: uint16(len(e.Name)), typ: uint8(e.Type), mode: uint16(e.Mode)}
	if e.ModTime.IsZero() {
		r.flags |= flagNoTime
		return r, true
	}
	if e.ModTime.Location() != t.loc {
		return record{}, false // kept whole: decoding would give another location
	}
	r.sec, r.nsec = e.ModTime.Unix(), int32(e.ModTime.Nanosecond())
	return r, true
}

func (t *table) name(r *record) string { return t.names[r.off : r.off+uint32(r.n)] }

func (t *table) decode(r *record) ftpconn.Entry {
	e := ftpconn.Entry{Name: t.name(r), Type: ftpconn.EntryType(r.typ), Size: r.size, Mode: uint32(r.mode)}
	if r.flags&flagNoTime == 0 {
		e.ModTime = time.Unix(r.sec, int64(r.nsec)).In(t.loc)
	}
	return e
}

// find returns the index of the record named name.
func (t *table) find(name string) (int, bool) {
	i := sort.Search(len(t.recs), func(i int) bool { return t.name(&t.recs[i]) >= name })
	return i, i < len(t.recs) && t.name(&t.recs[i]) == name
}

// get returns the entry named name. Needs listing.mu held.
func (t *table) get(name string) (ftpconn.Entry, bool) {
	if e, ok := t.more[name]; ok {
		return e, true
	}
	if _, ok := t.gone[name]; ok {
		return ftpconn.Entry{}, false
	}
	if i, ok := t.find(name); ok {
		return t.decode(&t.recs[i]), true
	}
	return ftpconn.Entry{}, false
}

// put adds or replaces e. Needs listing.mu held.
func (t *table) put(e ftpconn.Entry) {
	if _, ok := t.find(e.Name); ok {
		if t.gone == nil {
			t.gone = map[string]struct{}{}
		}
		t.gone[e.Name] = struct{}{}
	}
	if t.more == nil {
		t.more = map[string]ftpconn.Entry{}
	}
	t.more[e.Name] = e
}

// remove drops name. Needs listing.mu held.
func (t *table) remove(name string) {
	delete(t.more, name)
	if _, ok := t.find(name); ok {
		if t.gone == nil {
			t.gone = map[string]struct{}{}
		}
		t.gone[name] = struct{}{}
	}
}

// changed reports whether entries were added, replaced or removed since
// the build (or misfits kept whole). Needs listing.mu held.
func (t *table) changed() bool { return len(t.more) > 0 || len(t.gone) > 0 }

// len is the number of entries. Needs listing.mu held.
func (t *table) len() int { return len(t.recs) - len(t.gone) + len(t.more) }

// all returns every entry, sorted by name. Needs listing.mu held.
func (t *table) all() []ftpconn.Entry {
	out := make([]ftpconn.Entry, 0, t.len())
	for i := range t.recs {
		r := &t.recs[i]
		if len(t.gone) > 0 {
			if _, ok := t.gone[t.name(r)]; ok {
				continue
			}
		}
		out = append(out, t.decode(r))
	}
	for _, e := range t.more {
		out = append(out, e)
	}
	if len(t.more) > 0 {
		slices.SortFunc(out, func(a, b ftpconn.Entry) int { return strings.Compare(a.Name, b.Name) })
	}
	return out
}

// dirNames calls fn with the name of every directory. Needs listing.mu held.
func (t *table) dirNames(fn func(name string)) {
	for i := range t.recs {
		r := &t.recs[i]
		if ftpconn.EntryType(r.typ) != ftpconn.TypeDir {
			continue
		}
		if _, ok := t.gone[t.name(r)]; !ok {
			fn(t.name(r))
		}
	}
	for name, e := range t.more {
		if e.Type == ftpconn.TypeDir {
			fn(name)
		}
	}
}
