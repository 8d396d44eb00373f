package ftpconn

import (
	"context"
	"fmt"
	"path"
	"strings"
)

// Case-only renames. Case-insensitive servers (Windows, IIS, FileZilla
// Server, most NAS with SMB-style shares) refuse RNTO report.txt after
// RNFR Report.txt: to them the target exists, and it is the file itself.
// Then the rename goes through a temporary name in the same directory:
// Report.txt → .ftpmount-case-N → report.txt.

// renameCaseOnly is tried when a rename failed and from and to differ only
// in the case of their last element. ok is false when it does not apply
// (then the original failure stands).
func (cn *conn) renameCaseOnly(ctx context.Context, from, to string) (ok bool, err error) {
	if path.Dir(from) != path.Dir(to) || from == to || !strings.EqualFold(path.Base(from), path.Base(to)) {
		return false, nil
	}
	tmp := path.Join(path.Dir(from), fmt.Sprintf(".ftpmount-case-%d", cn.id))
	if err := cn.sc.Rename(from, tmp); err != nil {
		return false, nil
	}
	if err := cn.sc.Rename(tmp, to); err != nil {
		// Put it back as it was; the original failure stands.
		if berr := cn.sc.Rename(tmp, from); berr != nil {
			return true, fmt.Errorf("case-only rename of %s: %v; and %s is left as %s: %v", from, err, from, tmp, berr)
		}
		return false, nil
	}
	cn.debugf("ftp[%d] case-only rename %s -> %s through %s (the server ignores case)", cn.id, from, to, tmp)
	return true, nil
}
