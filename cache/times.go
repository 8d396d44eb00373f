package cache

import (
	"path"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// Servers without MLSD list times in LIST's `ls -l` format: to the minute
// for recent files, to the day for older ones. A time this mount set
// itself (touch -d, cp -p, tar, rsync) is therefore remembered with full
// precision and shown in place of the listing's rounded one as long as the
// listing agrees with it: same size (for files), and the listed time is the
// remembered one rounded down (by at most a day). A directory changed since
// (an entry added or removed) has a later time and shows it. So a second `rsync -a` finds
// nothing to do.
//
// Where the server could not store the time (pyftpdlib refuses MFMT on
// directories; some servers have no MFMT at all), the time asked for is
// remembered all the same, with the time the server listed then: it is
// shown for as long as the server still lists that time, that is until the
// file or directory changes.
type knownTime struct {
	t      time.Time
	size   int64
	listed time.Time // zero when the server stored t; else its own time then
	// wrote: t is the local time of a write the mount uploaded; the
	// server keeps its own (later, coarser) time, learned into listed at
	// the first listing that agrees (see Wrote).
	wrote bool
}

// maxUploadLag bounds how much later than the local modification time a
// server may stamp a file the mount uploaded (the upload's duration, and
// clock skew).
const maxUploadLag = 10 * time.Minute

// Wrote records that the mount uploaded dir/name (size bytes) with local
// modification time t. Servers stamp the file with their own time, later
// and coarser (to the second or minute); so that the time shown does not
// jump when the listing is fetched again (vim then warns "the file has
// been changed since reading it"), t is shown for as long as the server
// lists the file with the size written and the time it gave it first.
func (d *Dirs) Wrote(dir, name string, t time.Time, size int64) {
	d.times.Add(path.Join(dir, name), knownTime{t: t, size: size, wrote: true})
}

// maxKnownTimes bounds the memory of times set through the mount.
const maxKnownTimes = 100_000

// roundingLimit is the coarsest rounding a listing applies (day precision
// of `ls -l` for files older than six months).
const roundingLimit = 24 * time.Hour

func newKnownTimes() *lru.Cache[string, knownTime] {
	c, err := lru.New[string, knownTime](maxKnownTimes)
	if err != nil {
		panic(err) // only for a size <= 0
	}
	return c
}

// SetTime records that the mount set the modification time of dir/name
// (size bytes) to t, and shows it at once.
func (d *Dirs) SetTime(dir, name string, t time.Time, size int64) {
	d.remember(dir, name, knownTime{t: t, size: size})
}

// KeepTime records a time the server refused to store (see knownTime),
// given the entry as the server lists it now, and shows it at once.
func (d *Dirs) KeepTime(dir string, e ftpconn.Entry, t time.Time) {
	d.remember(dir, e.Name, knownTime{t: t, size: e.Size, listed: e.ModTime})
}

func (d *Dirs) remember(dir, name string, k knownTime) {
	d.times.Add(path.Join(dir, name), k)
	d.change(dir, func(l *listing) {
		if e, ok := l.entries.get(name); ok {
			e.ModTime = k.t
			l.entries.put(e)
		}
	})
}

// refineTime replaces a listed time by the remembered precise one when the
// listing agrees with it.
func (d *Dirs) refineTime(dir string, e *ftpconn.Entry) {
	k, ok := d.times.Get(path.Join(dir, e.Name))
	if !ok || e.Type == ftpconn.TypeSymlink || (e.Type == ftpconn.TypeFile && e.Size != k.size) {
		return
	}
	if k.wrote && k.listed.IsZero() {
		// The first listing since the upload: the server's own stamp,
		// if it is one it could have given this upload.
		if lag := e.ModTime.Sub(k.t); lag > -roundingLimit && lag < maxUploadLag {
			k.listed = e.ModTime
			d.times.Add(path.Join(dir, e.Name), k)
			e.ModTime = k.t
		}
		return
	}
	if !k.listed.IsZero() {
		if e.ModTime.Equal(k.listed) {
			e.ModTime = k.t
		}
		return
	}
	if diff := k.t.Sub(e.ModTime); diff >= -time.Second && diff < roundingLimit {
		e.ModTime = k.t
	}
}

// MoveTime carries what is remembered of the time of from (a full path)
// over to its new name to, after a rename by the mount (rsync and many
// editors write a temporary name, set its time, then rename it).
func (d *Dirs) MoveTime(from, to string) {
	if k, ok := d.times.Peek(from); ok {
		d.times.Remove(from)
		d.times.Add(to, k)
	}
}
