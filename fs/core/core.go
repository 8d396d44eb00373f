package core

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/ftpmount/ftpmount/cache"
	"github.com/ftpmount/ftpmount/ftpconn"
)

// Replace says how an upload puts new content in place of a file.
type Replace int

const (
	// ReplaceSafe uploads new content to a temporary name and renames it
	// over the target; appends go in place with REST+STOR (they never
	// rewrite an old byte). The default.
	ReplaceSafe Replace = iota
	// ReplaceAtomic is ReplaceSafe for appends too: a reader sees the old
	// content or the new, never a part (-o atomic).
	ReplaceAtomic
	// ReplaceInPlace stores onto the target (-o inplace): for servers
	// without RNFR/RNTO, or quotas that cannot hold two copies. The
	// server's file is partial while the upload runs.
	ReplaceInPlace
)

// Config configures the write side of one mount.
type Config struct {
	// Server names the server and account, without the password
	// ("ftp://user@host:21/root"): journals carry it, so that Recover
	// takes only the spools of this server.
	Server     string
	SpoolDir   string // where spools and their journals live; created if missing
	RecoverDir string // where the data of failed uploads is kept
	Replace    Replace
	// Streams is how many uploads may run while their files are still
	// being written (stream.go); 0: none, every upload starts at close.
	Streams int
	// Writeback, when above 0, makes close return once the content is
	// durable in the spool, and that many uploads run in the background
	// at once (writeback.go). 0: close waits for the server.
	Writeback int
	// Background is how many listings the cache may fetch at once for
	// no caller (cache.DirsConfig.Background); 0: the cache's default.
	Background int
	// RecoverRetries are Recover's waits before it tries again the spools
	// whose server could not be asked (the dead daemon's sessions may
	// still hold the server's slots; the network may be down a moment).
	// nil: DefaultRecoverRetries.
	RecoverRetries []time.Duration
	Logf           func(format string, args ...any) // events a user must hear of
	Debugf         func(format string, args ...any) // nil unless -o debug
	Now            func() time.Time
}

// DefaultRecoverRetries: a spool is tried four times over about a quarter
// of a minute, then left for the next mount. Unmount waits for these
// rounds (WaitUploads), so they stay short.
var DefaultRecoverRetries = []time.Duration{time.Second, 3 * time.Second, 10 * time.Second}

// Core is one mount without FUSE: it creates the File of each server file
// that is written, counts the uploads in flight, and passes reads through
// to the listing cache and the client (read.go).
type Core struct {
	cfg     Config
	client  ftpconn.Client
	dirs    *cache.Dirs
	uploads sync.WaitGroup // uploads in flight, waited for at shutdown
	streams chan struct{}  // one token per streamed upload running; nil when off
	wb      chan struct{}  // one token per background upload running; nil without write-back

	qmu    sync.Mutex
	queued map[*File]bool // GUARDED_BY(qmu): files with write-back uploads not ended well (Queued)
	open   map[*File]bool // GUARDED_BY(qmu): files that have a spool (writing, or uploads pending)
	hidden map[*File]bool // GUARDED_BY(qmu): unlinked files kept open under a temporary name (unlinked.go)
}

// New returns the write side of a mount over client and its listing cache.
// It creates cfg.SpoolDir (mode 0700) when missing.
func New(client ftpconn.Client, dirs *cache.Dirs, cfg Config) (*Core, error) {
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = os.TempDir()
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RecoverRetries == nil {
		cfg.RecoverRetries = DefaultRecoverRetries
	}
	if err := os.MkdirAll(cfg.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("spool directory: %w", err)
	}
	c := &Core{cfg: cfg, client: client, dirs: dirs, queued: map[*File]bool{}, open: map[*File]bool{}, hidden: map[*File]bool{}}
	if cfg.Writeback > 0 {
		c.wb = make(chan struct{}, cfg.Writeback)
	}
	if cfg.Streams > 0 && cfg.Replace != ReplaceAtomic {
		c.streams = make(chan struct{}, cfg.Streams)
	}
	return c, nil
}

// WaitUploads blocks until the uploads in flight have ended.
func (c *Core) WaitUploads() { c.uploads.Wait() }

func (c *Core) logf(format string, args ...any) { c.cfg.Logf(format, args...) }

func (c *Core) debugf(format string, args ...any) {
	if c.cfg.Debugf != nil {
		c.cfg.Debugf(format, args...)
	}
}
