package integration

import (
	"testing"
)

// sh runs a bash script in dir as the FTP user, the way vsftpd itself would create files, so that
// the server can later rename or delete them. It returns stdout; a failure fails the test.
func (s *vsftpd) sh(t *testing.T, dir, script string) string {
	t.Helper()
	return mustRun(t, cmdTimeout, dir, s.cred, script)
}
