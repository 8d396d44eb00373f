package ftpconn

import "time"

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
	Target  string // symlink target, as the server reported it ("" when it did not say)

	// Mode is the permission bits (0o7777 at most: rwx for owner, group
	// and others, setuid, setgid, sticky) from MLSD's UNIX.mode, an EPLF
	// "up" fact or a LIST permission string; 0 when the server gave none.
	Mode uint32
	// Owner and Group as listed (names or numbers); "" when not given.
	Owner, Group string
	// Perm is MLSD's perm fact (RFC 3659 §7.5.5: "adfr", "flcdmpe"...),
	// "" when not given; Unique its unique fact (§7.5.2).
	Perm, Unique string
}
