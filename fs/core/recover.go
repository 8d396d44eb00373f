package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// Recover finishes what a daemon of the same server left behind when it
// died: for each spool of this server in the spool directory that no live
// daemon holds (its flock is free),
//
//   - a spool whose upload was under way (its close had been called) is
//     uploaded, the usual safe way, if the server's file is as it was when
//     the spool was made (same size, and same time where that was known);
//     else it goes to the recovery folder;
//   - a spool still open for writing is incomplete: it goes to the
//     recovery folder, never over the server's copy;
//   - the temporary name its upload was writing on the server is removed;
//   - a spool of a file unlinked while open is dropped, and the temporary
//     name the file was kept under is removed: nothing goes up under its
//     old name (unlinked.go).
//
// Up to Config.Writeback spools (one without write-back) are recovered at
// once. A spool whose server could not be asked (a timeout, a connection
// that failed) is tried again after each wait of Config.RecoverRetries;
// after the last it stays for the next mount.
//
// It returns one line per spool, saying what was done, for the caller to
// show, in no particular order. Errors of one spool do not stop the others.
func (c *Core) Recover(ctx context.Context) []string {
	report := c.cleanLeftovers() // leftovers.go
	names, _ := filepath.Glob(filepath.Join(c.cfg.SpoolDir, spoolPrefix+"*"+journalSuffix))
	var mu sync.Mutex // guards report
	say := func(line string) {
		mu.Lock()
		report = append(report, line)
		mu.Unlock()
		c.logf("%s", line)
	}
	for round := 0; len(names) > 0; round++ {
		if round > 0 {
			if round > len(c.cfg.RecoverRetries) || !sleepCtx(ctx, c.cfg.RecoverRetries[round-1]) {
				break
			}
		}
		last := round == len(c.cfg.RecoverRetries)
		var again []string
		var wg sync.WaitGroup
		slots := make(chan struct{}, max(1, c.cfg.Writeback))
		for _, jname := range names {
			j, err := readJournal(jname)
			if err != nil || j.Server != c.cfg.Server {
				continue
			}
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-slots; wg.Done() }()
				line, retry := c.recoverOne(ctx, strings.TrimSuffix(jname, journalSuffix), j, last)
				if retry {
					c.debugf("%s", line)
					mu.Lock()
					again = append(again, jname)
					mu.Unlock()
				} else if line != "" {
					say(line)
				}
			}()
		}
		wg.Wait()
		names = again
	}
	return report
}

// sleepCtx waits for d, or less when ctx ends first; it reports whether
// the whole wait passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// StartRecover runs Recover in the background: a mount must not wait for
// the uploads a dead daemon left (WaitUploads does).
func (c *Core) StartRecover() {
	c.uploads.Add(1)
	go func() {
		defer c.uploads.Done()
		c.Recover(context.Background())
	}()
}

// recoverOne recovers the spool name with journal j (see Recover). It
// returns what it did, and retry when the server could not be asked and
// the spool was left as it was: Recover tries it again later, unless last,
// when the line says it stays for the next mount.
func (c *Core) recoverOne(ctx context.Context, name string, j journal, last bool) (line string, retry bool) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		os.Remove(journalPath(name))
		return "", false
	}
	if err != nil {
		return fmt.Sprintf("spool %s of %s: %v", name, j.Path, err), false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return "", false // a live daemon owns it
	}
	if j.Temp != "" {
		c.removeTemp(ctx, j.Temp)
	}
	sp := &spool{f: f, size: j.Size, need: j.Need, base: j.Base, low: j.Low, dirty: true, jr: j}
	if j.State == stateUnlinked {
		sp.discard()
		c.debugf("%s: unlinked while open when ftpmount stopped; its spool is dropped", j.Path)
		return "", false
	}
	keep := func(why string) (string, bool) {
		where, err := sp.keep(c.cfg.RecoverDir, j.Path, c.cfg.Now())
		if err != nil {
			return fmt.Sprintf("%s: a crashed daemon's spool %s (%s) could not be kept: %v", j.Path, name, why, err), false
		}
		return fmt.Sprintf("%s: %s; its data is kept in %s", j.Path, why, where), false
	}
	if j.State != stateClosing {
		return keep("was being written when ftpmount stopped")
	}
	// leave is for a server that cannot be asked now: the spool stays,
	// for a later round or the next mount to try again. Closing f drops
	// the lock.
	leave := func(err error) (string, bool) {
		f.Close()
		if !last {
			return fmt.Sprintf("%s: its upload was cut by a crash; the server could not be asked now (%v); trying again", j.Path, err), true
		}
		return fmt.Sprintf("%s: its upload was cut by a crash; the server could not be asked now (%v); left for the next mount", j.Path, err), false
	}
	if j.Appending {
		if line, done := c.resumeAppend(ctx, sp, j); done {
			return line, false
		}
	}
	same, err := c.unchanged(ctx, j)
	if err != nil {
		return leave(err)
	}
	if !same {
		return keep("its upload was cut by a crash, and the server's file changed since")
	}
	if sp.need > 0 {
		if err := sp.fill(ctx, c.client, j.Path); err != nil {
			return keep(fmt.Sprintf("its upload was cut by a crash, and the rest of it could not be fetched (%v)", err))
		}
	}
	err = c.replace(ctx, j.Path, sp.f, sp.size, func(tmp string) {
		sp.jr.Temp = tmp
		if err := sp.save(c.cfg.Now()); err != nil {
			c.logf("%v", err)
		}
	}, nil)
	if errors.Is(err, ftpconn.ErrTransient) || errors.Is(err, context.DeadlineExceeded) {
		return leave(err)
	}
	if err != nil {
		return keep(fmt.Sprintf("its upload was cut by a crash and failed again (%v)", err))
	}
	c.dirs.Invalidate(path.Dir(j.Path))
	sp.discard()
	return fmt.Sprintf("%s: its upload was cut by a crash; uploaded now (%d bytes)", j.Path, j.Size), false
}

// resumeAppend finishes an append in place that a crash cut: the server's
// file holds between BaseSize and Size bytes, the first BaseSize its own
// and the rest the start of ours. done is false when the server's file is
// not in that range (another change): the usual checks decide then.
func (c *Core) resumeAppend(ctx context.Context, sp *spool, j journal) (string, bool) {
	st, err := c.client.Stat(ctx, j.Path)
	n := st.Size
	if err != nil || n < j.BaseSize || n > j.Size {
		return "", false
	}
	if n < j.Size {
		if err := c.client.Append(ctx, j.Path, sp.f, n, j.Size); err != nil {
			return "", false
		}
	}
	c.dirs.Invalidate(path.Dir(j.Path))
	sp.discard()
	return fmt.Sprintf("%s: its append was cut by a crash at %d of %d bytes; finished now", j.Path, n, j.Size), true
}

// unchanged reports whether the server's file is as the journal says it
// was: absent where it was absent, else the same size and (where known)
// the same time. An error means the server could not tell.
func (c *Core) unchanged(ctx context.Context, j journal) (bool, error) {
	entries, err := c.client.List(ctx, path.Dir(j.Path))
	if errors.Is(err, ftpconn.ErrNotFound) {
		return false, nil // the directory is gone
	}
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if e.Name != path.Base(j.Path) {
			continue
		}
		if e.Type != ftpconn.TypeFile || j.BaseSize != e.Size {
			return false, nil
		}
		return j.BaseTime.IsZero() || e.ModTime.IsZero() || j.BaseTime.Equal(e.ModTime), nil
	}
	return j.BaseSize == baseAbsent, nil
}
