package fs

import (
	"context"
	"errors"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// Modes. A server that says what an entry's permission bits are (MLSD's
// UNIX.mode, a LIST permission string, EPLF's "up") is shown with those
// bits, with the mount's umask cleared from them (umask=, default 022);
// where it says nothing, files show 0666 and directories 0777 minus the
// umask, as before. chmod is sent as SITE CHMOD where the server accepts it
// (proftpd, pure-ftpd, vsftpd, IIS in unix mode, inetutils and netkit
// ftpd); where it does not, the mode is kept in memory for the inode's
// life, so that cp -p, tar and rsync still succeed.

// modeOf is the permission bits to show for e (file type bits not
// included). def is the mount's default for e's type.
func (m *mount) modeOf(e ftpconn.Entry, def uint32) uint32 {
	if e.Mode == 0 || e.Type == ftpconn.TypeSymlink {
		return def
	}
	// The umask is what the default leaves out of 0777.
	return e.Mode&0o7000 | e.Mode&m.opts.DirMode&0o777
}

// chmod sends SITE CHMOD for p (core.Chmod). It reports whether the server
// took it; a refusal is logged in debug mode only (the caller keeps the
// mode itself).
func (m *mount) chmod(ctx context.Context, p string, mode uint32) bool {
	err := m.core.Chmod(ctx, p, mode&0o7777)
	if err != nil {
		if !errors.Is(err, ftpconn.ErrNotSupported) {
			m.debugf("chmod %s %o: %v (kept in memory only)", p, mode&0o7777, err)
		}
		return false
	}
	return true
}
