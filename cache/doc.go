// Package cache keeps what ftpmount learned from the server so that it asks
// again only when it must.
//
// Dirs holds directory listings in one expirable LRU per mount. A lookup or
// getattr is answered from the parent's listing: the kernel's READDIRPLUS
// sends one lookup per entry after a readdir, and all of them are served by
// the one LIST/MLSD that readdir did. Concurrent misses for one directory
// share one fetch. A listing is held compactly (table.go: names in one
// string, 32-byte records sorted by name, binary search), and a readdir
// serves a Snapshot of it without copying: a directory of a million
// entries costs tens of megabytes, not hundreds.
//
// Freshness: a listing is used for TTL after it arrived, or four times
// as long as it took to arrive when that is longer (a huge directory is not
// listed again while its readdir is still being served); the clock is
// injected, so tests are exact. The mount's own changes are written into
// the cached listings at once (Put, Remove, Invalidate), so the mount always
// sees its own writes; changes by other clients show once the TTL ran out.
// A listing used in the last quarter of its TTL is fetched again in the
// background (refresh.go), so a directory in steady use never makes a
// caller wait for a LIST; the mount's changes made while any fetch runs
// are replayed onto the listing it brings (run).
// Files being written that the server does not have yet are held as
// "pending" entries that survive refetches until their upload ends.
//
// Nothing here knows about FUSE; errors are ftpconn's sentinels.
package cache
