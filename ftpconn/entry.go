package ftpconn

import (
	"strings"
	"time"

	"github.com/jlaffaye/ftp"
)

// EntryType tells files, directories and symbolic links apart.
type EntryType int

const (
	TypeFile EntryType = iota
	TypeDir
	TypeSymlink
)

// Entry is one name in a directory listing.
type Entry struct {
	Name    string
	Type    EntryType
	Size    int64
	ModTime time.Time
	Target  string // symlink target, as the server reported it
}

// fromLibrary converts a jlaffaye entry. ok is false for entries that must
// never reach the filesystem: "." and ".." (MLSD's cdir/pdir come back under
// those names), empty names, and names a hostile or broken server made up
// with a '/' or NUL in them.
func fromLibrary(e *ftp.Entry) (Entry, bool) {
	name := e.Name
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return Entry{}, false
	}
	out := Entry{Name: name, Size: int64(e.Size), ModTime: e.Time, Target: e.Target}
	switch e.Type {
	case ftp.EntryTypeFolder:
		out.Type = TypeDir
		out.Size = 0
	case ftp.EntryTypeLink:
		out.Type = TypeSymlink
		out.Size = int64(len(e.Target))
	default:
		out.Type = TypeFile
	}
	return out, true
}
