package ftptest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	server "goftp.io/server/v2"
)

// fsys is the goftp.io Driver: the served directory, reached through an
// os.Root so that no FTP path (nor a symlink) can leave it.
//
// It replaces goftp.io's driver/file, whose RMD deletes recursively, whose
// MKD creates parents and succeeds on an existing directory, and whose
// errors carry local paths. Here every error names the FTP path
// ("lstat /x: no such file or directory"), and times are UTC.
type fsys struct {
	root            *os.Root
	caseInsensitive bool // Quirks.CaseInsensitive
}

var _ server.Driver = (*fsys)(nil)

// errBadRest is the error for REST beyond the end of the file being stored.
var errBadRest = errors.New("restart offset beyond end of file")

// rel turns an absolute FTP path into a name relative to the root.
func rel(p string) string {
	r := strings.TrimPrefix(path.Clean("/"+p), "/")
	if r == "" {
		return "."
	}
	return r
}

// rootOps renames os.Root's operations ("statat") to the usual ones.
var rootOps = map[string]string{"openat": "open", "statat": "stat", "lstatat": "lstat",
	"mkdirat": "mkdir", "removeat": "remove", "unlinkat": "remove", "renameat": "rename"}

// fixErr replaces the local name inside a path error by the FTP path.
func fixErr(p string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		op := pe.Op
		if o, ok := rootOps[op]; ok {
			op = o
		}
		return &os.PathError{Op: op, Path: p, Err: pe.Err}
	}
	return err
}

// utcInfo reports the modification time in UTC, so that MLSD, MLST, MDTM
// and LIST do not depend on the test machine's time zone.
type utcInfo struct{ os.FileInfo }

func (i utcInfo) ModTime() time.Time { return i.FileInfo.ModTime().UTC() }

// Stat implements server.Driver. Symlinks are not followed.
func (f *fsys) Stat(_ *server.Context, p string) (os.FileInfo, error) {
	fi, err := f.root.Lstat(rel(p))
	if err != nil {
		return nil, fixErr(p, err)
	}
	return utcInfo{fi}, nil
}

// entries returns the entries of directory p sorted by name.
func (f *fsys) entries(p string) ([]os.FileInfo, error) {
	d, err := f.root.Open(rel(p))
	if err != nil {
		return nil, fixErr(p, err)
	}
	defer d.Close()
	des, err := d.ReadDir(-1)
	if err != nil {
		return nil, fixErr(p, err)
	}
	var out []os.FileInfo
	for _, de := range des {
		fi, err := de.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, utcInfo{fi})
	}
	slices.SortFunc(out, func(a, b os.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// ListDir implements server.Driver (used by goftp.io's STAT).
func (f *fsys) ListDir(_ *server.Context, p string, fn func(os.FileInfo) error) error {
	fis, err := f.entries(p)
	if err != nil {
		return err
	}
	for _, fi := range fis {
		if err := fn(fi); err != nil {
			return err
		}
	}
	return nil
}

// DeleteDir implements server.Driver: RMD removes empty directories only.
func (f *fsys) DeleteDir(_ *server.Context, p string) error {
	fi, err := f.root.Lstat(rel(p))
	if err != nil {
		return fixErr(p, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: not a directory", p)
	}
	return fixErr(p, f.root.Remove(rel(p)))
}

// DeleteFile implements server.Driver: DELE removes anything but directories.
func (f *fsys) DeleteFile(_ *server.Context, p string) error {
	fi, err := f.root.Lstat(rel(p))
	if err != nil {
		return fixErr(p, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("%s: is a directory", p)
	}
	return fixErr(p, f.root.Remove(rel(p)))
}

// Rename implements server.Driver. It replaces an existing target file,
// like every real server tried. goftp.io calls it with from=="" when RNTO
// comes without RNFR.
func (f *fsys) Rename(_ *server.Context, from, to string) error {
	if from == "" || rel(from) == "." || rel(to) == "." {
		return errors.New("bad rename: send RNFR first, and never rename /")
	}
	if f.caseInsensitive && f.caseClash(to) {
		return errors.New("file exists")
	}
	if err := f.root.Rename(rel(from), rel(to)); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			return &os.LinkError{Op: "rename", Old: from, New: to, Err: le.Err}
		}
		return err
	}
	return nil
}

// MakeDir implements server.Driver: no parents, fails if p exists.
func (f *fsys) MakeDir(_ *server.Context, p string) error {
	return fixErr(p, f.root.Mkdir(rel(p), 0o755))
}

// openRead opens file p for RETR, positioned at off (which may lie past
// the end: the download is then empty).
func (f *fsys) openRead(p string, off int64) (*os.File, error) {
	fl, err := f.root.Open(rel(p))
	if err != nil {
		return nil, fixErr(p, err)
	}
	fi, err := fl.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a plain file", p)
	}
	if err == nil {
		_, err = fl.Seek(off, io.SeekStart)
	}
	if err != nil {
		fl.Close()
		return nil, err
	}
	return fl, nil
}

// writeMode is how an upload opens its file.
type writeMode int

const (
	writeTruncate writeMode = iota // STOR: create or truncate
	writeAt                        // REST+STOR: write from off on without truncating; off must not exceed the size
	writeAppend                    // APPE: write at the end, creating the file (a REST before it is ignored)
)

// openWrite opens file p for an upload, as mode says (off: writeAt's offset).
func (f *fsys) openWrite(p string, mode writeMode, off int64) (*os.File, error) {
	flags := os.O_WRONLY | os.O_CREATE
	switch mode {
	case writeAppend:
		flags |= os.O_APPEND
	case writeTruncate:
		flags |= os.O_TRUNC
	}
	fl, err := f.root.OpenFile(rel(p), flags, 0o644)
	if err != nil {
		return nil, fixErr(p, err)
	}
	if mode == writeAt {
		fi, err := fl.Stat()
		if err == nil && off > fi.Size() {
			err = errBadRest
		}
		if err == nil {
			_, err = fl.Seek(off, io.SeekStart)
		}
		if err != nil {
			fl.Close()
			return nil, err
		}
	}
	return fl, nil
}

// GetFile implements server.Driver. goftp.io calls it only from RETR,
// which ftptest replaces; it is here to complete the interface.
func (f *fsys) GetFile(_ *server.Context, p string, off int64) (int64, io.ReadCloser, error) {
	fl, err := f.openRead(p, off)
	if err != nil {
		return 0, nil, err
	}
	fi, err := fl.Stat()
	if err != nil {
		fl.Close()
		return 0, nil, err
	}
	return max(fi.Size()-off, 0), fl, nil
}

// PutFile implements server.Driver, like GetFile only for completeness.
func (f *fsys) PutFile(_ *server.Context, p string, r io.Reader, off int64) (int64, error) {
	mode := writeAt
	if off < 0 { // goftp.io's "no REST"
		mode = writeTruncate
	}
	fl, err := f.openWrite(p, mode, off)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(fl, r)
	if cerr := fl.Close(); err == nil {
		err = cerr
	}
	return n, err
}
