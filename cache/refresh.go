package cache

import "time"

// Refreshing ahead. A listing used in the last part of its life (the last
// 1/refreshShare of the time it is trusted) is fetched again in the
// background, and the caller is answered at once from the listing it has.
// A directory in steady use then never makes a caller wait for a LIST: the
// target of a `cp -r`, and each directory on the path to it, which the
// kernel looks up again whenever its entry times out. On a slow link a
// LIST costs two to three round trips (EPSV, LIST, and vsftpd sends its
// 226 only after the client has closed the data connection); with the
// 5 s TTL, a sequential copy at 40 ms round trip met three of them every
// five seconds, all on the path of a file's open.
//
// Nothing is shown older than before: a listing is served only while it
// is fresh, and a refreshed one replaces it only when no local change of
// the directory raced with its fetch (else the one we have, which has
// those changes, stays). FreshUntil ends the kernel's trust where the
// window starts, so that the kernel's lookups come back while the
// listing can still answer them and start the refresh.
//
// Only listings that are quick to fetch again are refreshed ahead: one of
// refreshMaxEntries entries or more, or one whose fetch took longer than
// the window, would hold two copies of a huge directory in memory and the
// server busy for nothing a user waits on.

// refreshShare: the refresh window is the last 1/refreshShare of the TTL.
const refreshShare = 4

// refreshMaxEntries bounds the listings refreshed ahead.
const refreshMaxEntries = 10_000

// refreshFrom is when l's refresh window opens for callers that accept
// listings up to maxAge old; zero when l is not to be refreshed ahead.
func (l *listing) refreshFrom(maxAge time.Duration) time.Time {
	until := l.until(maxAge)
	window := maxAge / refreshShare
	if until.IsZero() || window <= 0 || l.took >= window {
		return time.Time{}
	}
	l.mu.Lock()
	n := l.entries.len()
	l.mu.Unlock()
	if n >= refreshMaxEntries {
		return time.Time{}
	}
	return until.Add(-window)
}

// refreshAhead starts a background fetch of dir when its fresh listing l
// is in its refresh window at now, no fetch of dir runs, and a background
// slot is free (the prefetch slots: a busy mount skips the refresh, and
// the next use tries again).
func (d *Dirs) refreshAhead(dir string, l *listing, now time.Time, maxAge time.Duration) {
	from := l.refreshFrom(maxAge)
	if d.noRefresh || from.IsZero() || now.Before(from) {
		return
	}
	select {
	case d.prefetchSem <- struct{}{}:
	default:
		return
	}
	d.mu.Lock()
	if _, running := d.inflight[dir]; running {
		d.mu.Unlock()
		<-d.prefetchSem
		return
	}
	f := &fetch{done: make(chan struct{})}
	d.inflight[dir] = f
	d.mu.Unlock()
	go func() {
		defer func() { <-d.prefetchSem }()
		d.run(dir, f, l)
	}()
}
