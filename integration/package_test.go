package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestInstalledPackage checks the Debian package that `make deb-test` built and installed: the
// binary in /usr/bin says which commit it was built from, the man page is there, and an fstab
// entry of type fuse.ftpmount (no path: mount.fuse3 finds ftpmount on PATH) mounts vsftpd with
// the installed binary. It runs only under make deb-test (FTPMOUNT_PACKAGE_TEST=1), which installs
// the package first and removes it afterwards.
func TestInstalledPackage(t *testing.T) {
	if os.Getenv("FTPMOUNT_PACKAGE_TEST") != "1" {
		t.Skip("run by make deb-test, which installs the package first")
	}
	requireEnv(t, "mount.fuse3", "dpkg")
	const bin = "/usr/bin/ftpmount"
	if out, err := exec.Command("dpkg", "-S", bin).CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "ftpmount:") {
		t.Fatalf("dpkg -S %s: %s %v", bin, out, err)
	}
	out, err := exec.Command("zcat", "/usr/share/man/man1/ftpmount.1.gz").Output()
	if err != nil || !strings.Contains(string(out), ".SH OPTIONS") {
		t.Errorf("the man page: %v", err)
	}
	if _, err := os.Stat("/usr/share/doc/ftpmount/examples/fstab"); err != nil {
		t.Error(err)
	}
	checkVersion(t, bin)

	srv := startVsftpd(t)
	srv.sh(t, srv.DataDir, "echo from-server > s.txt")
	dir := newMountDir(t)
	tmp := t.TempDir()
	pw := filepath.Join(tmp, "pw")
	if err := os.WriteFile(pw, []byte(srv.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fstab := filepath.Join(tmp, "fstab")
	line := "ftp://" + srv.User + "@" + srv.Addr + "/ " + dir + " fuse.ftpmount password_file=" + pw + ",_netdev,auto_unmount 0 0\n"
	if err := os.WriteFile(fstab, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	m := &mountPoint{Dir: dir}
	t.Cleanup(func() { m.unmount(t) })
	// A standard PATH, as at boot: /usr/bin's ftpmount is the one found.
	r := command(cmdTimeout, "/", nil, "env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "mount", "-T", fstab, dir)
	if r.Err != nil {
		t.Fatalf("mount -T: %v", r)
	}
	var exe string
	for _, p := range harness.ProcessesMatching(dir) {
		if target, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(p.PID), "exe")); err == nil && strings.HasSuffix(target, "/ftpmount") {
			exe = target
		}
	}
	if exe != bin {
		t.Errorf("the mount is served by %q, want the installed %s", exe, bin)
	}
	if got := sh(t, dir, "cat s.txt; echo via-package > p.txt; cat p.txt"); got != "from-server\nvia-package\n" {
		t.Errorf("through the mount: %q", got)
	}
	if b, err := os.ReadFile(filepath.Join(srv.DataDir, "p.txt")); err != nil || string(b) != "via-package\n" {
		t.Errorf("server side p.txt: %q, %v", b, err)
	}
	sh(t, "/", "umount "+q(dir))
	if harness.IsMounted(dir) {
		t.Error("still mounted after umount")
	}
}

// checkVersion: bin --version names the commit it was built from, where the go command can see it:
// in a clone (a git worktree's .git is a file, and the go command records no VCS state there).
func checkVersion(t *testing.T, bin string) {
	t.Helper()
	v, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.HasPrefix(string(v), "ftpmount ") {
		t.Fatalf("%s --version: %q, %v", bin, v, err)
	}
	rev, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if st, serr := os.Stat("../.git"); err != nil || serr != nil || !st.IsDir() {
		t.Logf("not a clone: the version %q is not checked against a commit", v)
		return
	}
	if !strings.Contains(string(v), strings.TrimSpace(string(rev))) {
		t.Errorf("%s --version: %q, want the commit %s", bin, v, rev)
	}
}

// TestVersion: --version of the binary under test names its commit (see checkVersion).
func TestVersion(t *testing.T) {
	t.Parallel()
	checkVersion(t, binary(t))
}
