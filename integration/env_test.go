package integration

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
)

// requireEnv checks what every test here needs: root, /dev/fuse, fusermount3, bash and the FTP test
// account, and the given tools (a command looked up like findTool, or an absolute path: a server's
// binary). Where one is missing the test is skipped with the reason, except under CI=true, where a
// missing piece is a failure: CI must run these tests, not skip them.
func requireEnv(t *testing.T, tools ...string) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (FUSE mounts, FTP servers, drop_caches)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		missing = append(missing, "/dev/fuse")
	}
	for _, tool := range append([]string{"fusermount3", "bash"}, tools...) {
		var err error
		if filepath.IsAbs(tool) {
			_, err = os.Stat(tool)
		} else {
			_, err = findTool(tool)
		}
		if err != nil {
			missing = append(missing, tool+" (run scripts/install-deps.sh)")
		}
	}
	if _, err := user.Lookup(ftpUser); err != nil {
		missing = append(missing, "user "+ftpUser+" (run scripts/install-deps.sh)")
	}
	if _, err := os.Stat(ftpHome); err != nil {
		missing = append(missing, ftpHome+" (run scripts/install-deps.sh)")
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and this test cannot run; missing: %q", missing)
	}
	t.Skipf("missing: %q", missing)
}

// findTool looks name up on PATH, then in the sbin and bin directories a non-login PATH may lack.
func findTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		if p, err2 := exec.LookPath(dir + "/" + name); err2 == nil {
			return p, nil
		}
	}
	return "", err
}
