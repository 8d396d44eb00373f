package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// spoolPrefix starts the name of every spool file; its journal has the
// same name plus journalSuffix.
const spoolPrefix = "ftpmount-spool-"

// spool is the local copy of a file being written: a temporary file on
// disk, locked (flock) by the daemon that owns it, with a journal beside
// it. All its fields are guarded by the owning File's mu.
type spool struct {
	f    *os.File
	size int64 // the file's size as the writers see it
	need int64 // bytes [0, need) are still on the server only (filled lazily)
	// base is how many bytes the server's file has in common with the
	// spool: its size when the spool was opened or last uploaded, or 0.
	// low is the lowest offset changed since then. While low >= base and
	// size >= base, the change is a pure append: only [base, size) needs to
	// go up (REST+STOR), and the old content never needs downloading.
	base  int64
	low   int64
	dirty bool // changed since the last successful upload
	// settled: a flush found or left the server with everything, and no
	// writer opened and nothing changed since. A truncate then is nobody's
	// pending overwrite: it goes to the server at once (File.Truncate).
	settled bool
	gen     uint64    // bumped by every change; an upload knows what it sent
	mtime   time.Time // shown while the spool exists
	// setTime is an mtime asked for (utimens) while dirty, applied after
	// the upload that follows.
	setTime *time.Time
	// sequential: every byte was written in order from an empty file, so
	// an upload may follow the writes (stream.go).
	sequential bool
	stream     *upstream // the upload following the writes, if any
	jr         journal   // what the journal beside the spool says
}

// newSpool creates a spool in dir and locks it: Recover in another daemon
// leaves a locked spool alone.
func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, spoolPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("spool: lock: %w", err)
	}
	return &spool{f: f, low: math.MaxInt64}, nil
}

// appendOnly reports whether only bytes [base, size) changed.
func (s *spool) appendOnly() bool {
	return s.base > 0 && s.low >= s.base && s.size >= s.base
}

// uploaded records that the server now holds the spool's first size bytes.
func (s *spool) uploaded(size int64) {
	s.base = size
	s.low = math.MaxInt64
}

// fill fetches the server's bytes [0, need) that the spool does not have
// yet. Everything that looks at or changes the content calls it first,
// unless a truncate made the old bytes irrelevant.
func (s *spool) fill(ctx context.Context, client ftpconn.Client, p string) error {
	if s.need <= 0 {
		return nil
	}
	r := client.OpenReader(p, s.need)
	defer r.Close()
	buf := make([]byte, 1<<20)
	var off int64
	for off < s.need {
		n, err := r.ReadAt(ctx, buf[:min(int64(len(buf)), s.need-off)], off)
		if n > 0 {
			if _, werr := s.f.WriteAt(buf[:n], off); werr != nil {
				return fmt.Errorf("spool: %w", werr)
			}
			off += int64(n)
		}
		if errors.Is(err, io.EOF) {
			break // the server's file is shorter than listed: take what is there
		}
		if err != nil {
			return err
		}
	}
	if off < s.need && s.size == s.need {
		s.size = off
	}
	s.need = 0
	return nil
}

func (s *spool) writeAt(data []byte, off int64, now time.Time) error {
	if off != s.size {
		s.sequential = false
	}
	s.low = min(s.low, off)
	if _, err := s.f.WriteAt(data, off); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.size = max(s.size, off+int64(len(data)))
	s.touch(now)
	return nil
}

func (s *spool) truncate(size int64, now time.Time) error {
	if err := s.f.Truncate(size); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.low = min(s.low, size)
	s.size = size
	s.need = min(s.need, size)
	s.sequential = size == 0 && s.need == 0
	s.touch(now)
	return nil
}

func (s *spool) touch(now time.Time) {
	s.dirty = true
	s.settled = false
	s.gen++
	s.mtime = now
}

// discard removes the spool file, then its journal (a crash in between
// leaves a journal without a spool, which Recover drops), and only then
// lets go of the lock, so that no Recover takes them meanwhile.
func (s *spool) discard() {
	name := s.f.Name()
	os.Remove(name)
	os.Remove(journalPath(name))
	s.f.Close()
}

// keep moves the spool of a failed upload into dir so that nothing written
// is lost, and returns where it went. Then the journal goes (see discard).
func (s *spool) keep(dir, remote string, now time.Time) (string, error) {
	defer s.f.Close()
	where, err := keepFile(s.f.Name(), dir, remote, now)
	if err == nil {
		os.Remove(journalPath(s.f.Name()))
	}
	return where, err
}

// keepFile moves the file name into the recovery folder dir, under the
// base name of remote and a time stamp, and returns where it went.
func keepFile(name, dir, remote string, now time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return name, err
	}
	base := filepath.Base(remote)
	if len(base) > 100 { // leave room for the suffix within NAME_MAX
		base = base[:100]
	}
	dst := filepath.Join(dir, fmt.Sprintf("%s.%d", base, now.UnixNano()))
	err := os.Rename(name, dst)
	if errors.Is(err, syscall.EXDEV) { // another file system: copy, then remove
		err = copyFile(name, dst)
		if err == nil {
			os.Remove(name)
		}
	}
	if err != nil {
		return name, err
	}
	return dst, nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		os.Remove(to)
		return err
	}
	return dst.Close()
}
