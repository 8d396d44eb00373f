package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestFstabMount mounts through mount(8) and mount.fuse3 from a temporary fstab, with the password
// in a password_file and the options mount(8) passes along, and checks the mount works, the
// password shows nowhere in the mount table, and umount ends it.
func TestFstabMount(t *testing.T) {
	t.Parallel()
	srv := startVsftpd(t)
	if _, err := harness.FindTool("mount.fuse3"); err != nil {
		t.Fatalf("mount.fuse3: %v (package fuse3)", err)
	}
	dir := newMountDir(t)
	tmp := t.TempDir()
	pw := filepath.Join(tmp, "host.pw")
	if err := os.WriteFile(pw, []byte(srv.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fstab := filepath.Join(tmp, "fstab")
	// mount(8) runs helpers with a standard PATH (/usr/local/bin is in it: `make install`),
	// so the test names its binary by full path in the type, which mount.fuse3 accepts.
	line := "ftp://" + srv.User + "@" + srv.Addr + "/ " + dir + " fuse." + binary(t) + " " +
		"password_file=" + pw + ",_netdev,nofail,noatime,nodev,nosuid,x-systemd.automount,dir_cache=2 0 0\n"
	if err := os.WriteFile(fstab, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	m := &mountPoint{Dir: dir}
	t.Cleanup(func() { m.unmount(t) })
	sh(t, "/", "mount -T "+q(fstab)+" "+q(dir))
	if !harness.IsMounted(dir) {
		t.Fatalf("mount -T returned 0 but %s is not mounted", dir)
	}
	sh(t, dir, "echo via-fstab > f.txt; cat f.txt")
	if b, err := os.ReadFile(filepath.Join(srv.DataDir, "f.txt")); err != nil || string(b) != "via-fstab\n" {
		t.Fatalf("server side f.txt: %q, %v", b, err)
	}
	mounts, _ := os.ReadFile("/proc/mounts")
	if strings.Contains(string(mounts), srv.Password) {
		t.Error("the password shows in /proc/mounts")
	}
	sh(t, "/", "umount "+q(dir))
	if harness.IsMounted(dir) {
		t.Fatal("still mounted after umount")
	}
}

// TestReadOnlyAndOwner checks -o ro (every write fails with EROFS, reads work) and -o uid=,gid=,umask=.
func TestReadOnlyAndOwner(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "vsftpd", dirCacheFast, "ro", "uid=1234", "gid=5678", "umask=027")
	c := f.dir(t, "printf 'x\\n' > x.txt; mkdir sub")
	if got := strings.TrimSpace(sh(t, c.Mnt, "stat -c '%u %g %a' x.txt; stat -c '%u %g %a' sub")); got != "1234 5678 640\n1234 5678 750" {
		t.Errorf("owner and modes: %q, want \"1234 5678 640\\n1234 5678 750\"", got)
	}
	if got := sh(t, c.Mnt, "cat x.txt"); got != "x\n" {
		t.Errorf("read on a ro mount: %q", got)
	}
	for _, cmd := range []string{"touch new", "echo y > x.txt", "rm x.txt", "mkdir d", "mv x.txt y.txt", "rmdir sub"} {
		out := shFails(t, c.Mnt, cmd)
		if !strings.Contains(out, "Read-only file system") {
			t.Errorf("%s on a ro mount: %q, want \"Read-only file system\"", cmd, out)
		}
	}
	if b := c.serverBytes(t, "x.txt"); string(b) != "x\n" {
		t.Errorf("server side x.txt changed: %q", b)
	}
}
