package core

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// What a daemon killed between two steps of its spool bookkeeping leaves
// behind, and what Recover makes of it before it reads the journals:
//
//   - NAME.journal.new: killed between writing a journal and renaming it
//     over the old one. With the journal present, the old one is the last
//     complete record and the .new goes. Without it (the first save was
//     cut), a .new that reads whole becomes the journal; one cut short goes.
//   - a spool with no journal: killed right after creating it (empty), or
//     a journal that could not be written (the disk was full). An empty
//     one goes once it is older than bornGrace (a live daemon creates a
//     spool, then locks it, then journals it); one with data goes to the
//     recovery folder: nobody knows which file it was.
//
// Spools are only removed in the order spool first, journal after
// (discard, keep), so a kill in between leaves a journal without its spool,
// which recoverOne drops.

// newSuffix ends a journal being written (spool.save).
const newSuffix = ".new"

// bornGrace is how old an empty spool without a journal must be before it
// counts as left behind rather than being born.
const bornGrace = time.Minute

// cleanLeftovers handles the leftovers above in the spool folder and
// returns one line per spool kept in the recovery folder.
func (c *Core) cleanLeftovers() []string {
	dir := c.cfg.SpoolDir
	news, _ := filepath.Glob(filepath.Join(dir, spoolPrefix+"*"+journalSuffix+newSuffix))
	for _, n := range news {
		jname := strings.TrimSuffix(n, newSuffix)
		if locked(strings.TrimSuffix(jname, journalSuffix)) {
			continue // a live daemon is between the two steps
		}
		if _, err := os.Stat(jname); os.IsNotExist(err) {
			if _, err := readJournal(n); err == nil && os.Rename(n, jname) == nil {
				continue
			}
		}
		os.Remove(n)
	}
	var report []string
	spools, _ := filepath.Glob(filepath.Join(dir, spoolPrefix+"*"))
	for _, name := range spools {
		if strings.HasSuffix(name, journalSuffix) || strings.HasSuffix(name, newSuffix) {
			continue
		}
		if _, err := os.Lstat(journalPath(name)); !os.IsNotExist(err) {
			continue // Recover reads its journal
		}
		fi, err := os.Lstat(name)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		// A spool being born is empty and young: it is left before the
		// lock test, whose brief lock would make its owner's flock fail.
		young := c.cfg.Now().Sub(fi.ModTime()) <= bornGrace
		if fi.Size() == 0 && young || locked(name) {
			continue
		}
		if fi.Size() == 0 {
			os.Remove(name)
			continue
		}
		line := fmt.Sprintf("a spool without a journal (%d bytes, written %s) was left by a crashed daemon", fi.Size(), fi.ModTime().Format(time.DateTime))
		if where, err := keepFile(name, c.cfg.RecoverDir, "unknown", c.cfg.Now()); err != nil {
			line += fmt.Sprintf(" and could not be kept: %v", err)
		} else {
			line += "; its data is kept in " + where
		}
		c.logf("%s", line)
		report = append(report, line)
	}
	return report
}

// locked reports whether a live daemon holds the spool name (flock).
func locked(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return true
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}
