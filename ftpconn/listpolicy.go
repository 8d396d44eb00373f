package ftpconn

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"
)

// listPolicy is what a mount learns about its server's listings, once,
// shared by all its connections: whether "LIST -a" works, whether LIST
// honours its path, and which warnings have been logged already.
type listPolicy struct {
	loc   *time.Location   // the zone of LIST times (-o timezone), never nil
	now   func() time.Time // Config.Now
	logf  func(format string, args ...any)
	debug func(format string, args ...any)

	mu         sync.Mutex
	noDashA    bool            // GUARDED_BY(mu): "LIST -a" refused or misread: plain LIST
	inside     bool            // GUARDED_BY(mu): LIST ignores its path: CWD, then bare LIST
	pathOK     bool            // GUARDED_BY(mu): LIST with a path was seen to list that path
	warnedDirs map[string]bool // GUARDED_BY(mu): directories whose odd lines were logged
	truncated  bool            // GUARDED_BY(mu): the truncation warning was logged
}

// maxWarnedDirs bounds the memory of directories already warned about;
// past it, warnings stop (the log has said enough by then).
const maxWarnedDirs = 10_000

func newListPolicy(cfg *Config) *listPolicy {
	loc := cfg.TimeZone
	if loc == nil {
		loc = time.UTC
	}
	logf := cfg.Logf
	if logf == nil {
		logf = cfg.debugf
	}
	return &listPolicy{loc: loc, now: cfg.Now, logf: logf, debug: cfg.debugf, warnedDirs: map[string]bool{}}
}

func (lp *listPolicy) clock() listClock { return listClock{now: lp.now(), loc: lp.loc} }

// listVerb is the LIST command this server takes: "LIST -a" (to see dot
// files) until it refused that once, then "LIST".
func (lp *listPolicy) listVerb() string {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if lp.noDashA {
		return "LIST"
	}
	return "LIST -a"
}

func (lp *listPolicy) listInside() bool {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return lp.inside
}

func (lp *listPolicy) shouldCheckPath() bool {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return !lp.pathOK && !lp.inside
}

// dropDashA learns that the server does not understand "LIST -a" (why: the
// reply it gave, or nil when it listed nothing where plain LIST lists).
func (lp *listPolicy) dropDashA(cn *conn, why error) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if lp.noDashA {
		return
	}
	lp.noDashA = true
	if why == nil {
		why = fmt.Errorf("an empty listing where plain LIST lists entries")
	}
	lp.debug("ftp[%d] server does not understand LIST -a (%v): listing with plain LIST (dot files may not show)", cn.id, why)
}

// noteFinalReply looks at the reply that ended a listing. pure-ftpd stops
// at 10,000 entries by default and says "226 Output truncated to 10000
// matches": the entries past that are missing, not gone.
func (lp *listPolicy) noteFinalReply(cn *conn, dir string, code int, msg string) (truncated bool) {
	if !strings.Contains(strings.ToLower(msg), "truncated") {
		return false
	}
	lp.mu.Lock()
	first := !lp.truncated
	lp.truncated = true
	lp.mu.Unlock()
	if first {
		lp.logf("listing of %s is incomplete: the server said %q. Names it left out are looked up one by one; "+
			"on pure-ftpd the limit is set by -L (LimitRecursion in pure-ftpd.conf), e.g. -L 100000:5", dir, fmt.Sprint(code, " ", msg))
	}
	return true
}

// warnOnce logs a problem with dir's listing, once per directory.
func (lp *listPolicy) warnOnce(dir, format string, args ...any) {
	lp.mu.Lock()
	seen := lp.warnedDirs[dir]
	if !seen && len(lp.warnedDirs) < maxWarnedDirs {
		lp.warnedDirs[dir] = true
	}
	lp.mu.Unlock()
	if !seen {
		lp.logf("listing of %s: "+format, append([]any{dir}, args...)...)
	}
}

// maxNameLen is the longest name a Linux filesystem can show (NAME_MAX).
const maxNameLen = 255

// readListing turns the lines of a listing of dir into entries. Lines that
// cannot be read and names no program could open (over 255 bytes, or with
// '/' or NUL) are left out and logged, once per directory, whatever the
// log level: a missing entry must not go unexplained. A symlink whose
// target the server did not name (proftpd's MLSD "OS.unix=symlink",
// pure-ftpd's "OS.unix=slink:") shows as what it points to (resolveLink).
func (cn *conn) readListing(ctx context.Context, dir string, lines []string, mlsd bool) []Entry {
	lp := cn.lp
	clk := lp.clock()
	out := make([]Entry, 0, len(lines))
	var bad, long []string
	for _, line := range lines {
		var e Entry
		var class lineClass
		if mlsd {
			e, class = parseMLSDLine(line)
		} else {
			e, class = parseListLine(line, clk)
		}
		switch {
		case class == lineSkip:
			continue
		case class == lineBad:
			bad = append(bad, line)
			continue
		case e.Name == "." || e.Name == "..":
			continue
		case strings.ContainsAny(e.Name, "/\x00"):
			bad = append(bad, line)
			continue
		case len(e.Name) > maxNameLen:
			long = append(long, e.Name)
			continue
		}
		if e.Type == TypeSymlink && e.Target == "" {
			cn.resolveLink(ctx, path.Join(dir, e.Name), &e)
		}
		out = append(out, e)
	}
	if len(bad) > 0 {
		lp.warnOnce(dir, "%d line(s) not understood and left out, first: %q", len(bad), bad[0])
	}
	if len(long) > 0 {
		lp.warnOnce(dir+"\x00long", "%d name(s) longer than %d bytes left out (no program could open them), first: %.60q...", len(long), maxNameLen, long[0])
	}
	return out
}

// resolveLink turns a symlink whose target the server did not name into
// what it points to: a directory when CWD into it works, else a file with
// the size SIZE gives (servers answer SIZE and RETR through the link;
// the listed size may be the link text's: pure-ftpd 1.0.50 lists
// "type=OS.unix=slink:;size=7").
func (cn *conn) resolveLink(ctx context.Context, p string, e *Entry) {
	if cn.isDir(ctx, p) {
		e.Type, e.Size = TypeDir, 0
		return
	}
	e.Type = TypeFile
	if code, msg, err := cn.Cmd(ctx, "SIZE "+p); err == nil && code == 213 {
		if n, ok := atoiOK(strings.TrimSpace(msg)); ok {
			e.Size = n
		}
	}
}

// checkListPath finds out whether LIST honours its path, on the first
// listing of a directory other than the root (servers without MLSD only):
// some (FritzBox NAS, game consoles, phone apps) list their working
// directory whatever they are asked, so every directory shows the root's
// entries. When dir lists like its parent, dir is listed again from inside
// (CWD, bare LIST); if that differs, the server ignores LIST's path and
// every later listing is done from inside. It returns the corrected
// entries, ok when it corrected them.
func (cn *conn) checkListPath(ctx context.Context, dir string, got []Entry) ([]Entry, bool) {
	lp := cn.lp
	verb := lp.listVerb()
	var cut string
	parentLines, err := cn.listOnce(ctx, path.Dir(dir), listing{verb: verb}, &cut)
	if err != nil {
		return nil, false
	}
	parent := cn.readListing(ctx, path.Dir(dir), parentLines, false)
	if !sameNames(parent, got) {
		lp.mu.Lock()
		lp.pathOK = true
		lp.mu.Unlock()
		return nil, false
	}
	insideLines, err := cn.listOnce(ctx, dir, listing{verb: verb, inside: true}, &cut)
	if err != nil {
		return nil, false
	}
	inside := cn.readListing(ctx, dir, insideLines, false)
	if sameNames(inside, got) {
		return nil, false // dir really has its parent's names; ask again next time
	}
	lp.mu.Lock()
	first := !lp.inside
	lp.inside = true
	lp.mu.Unlock()
	if first {
		lp.logf("the server ignores the path of LIST (%s listed as %s): listing each directory from inside it (CWD, then LIST)", dir, path.Dir(dir))
	}
	return inside, true
}

func sameNames(a, b []Entry) bool {
	if len(a) != len(b) {
		return false
	}
	names := make(map[string]bool, len(a))
	for _, e := range a {
		names[e.Name] = true
	}
	for _, e := range b {
		if !names[e.Name] {
			return false
		}
	}
	return true
}
