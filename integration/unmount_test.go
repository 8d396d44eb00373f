package integration

import (
	"testing"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestUnmount checks that fusermount3 -u, after some use, leaves neither the mount nor an ftpmount
// process behind.
func TestUnmount(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "vsftpd", dirCacheFast)
	c := f.dir(t, "printf 'x\\n' > x.txt")
	sh(t, c.Mnt, "cat x.txt; echo y > y.txt; ls -l")
	if len(harness.ProcessesMatching(f.mnt.Dir)) == 0 {
		t.Errorf("no process has %s in its command line while mounted; the check below would prove nothing", f.mnt.Dir)
	}

	sh(t, "/", "fusermount3 -u "+q(f.mnt.Dir))
	if harness.IsMounted(f.mnt.Dir) {
		t.Errorf("%s still in /proc/mounts after fusermount3 -u", f.mnt.Dir)
	}
	if left := harness.WaitNoProcess(f.mnt.Dir, exitWithin); len(left) > 0 {
		t.Errorf("after fusermount3 -u, still running: %v", left)
	}
	if got := string(c.serverBytes(t, "y.txt")); got != "y\n" {
		t.Errorf("server side y.txt, written before the unmount: %q, want \"y\\n\"", got)
	}
}
