package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLargeFile copies 128 MiB in and reads it back cold (page cache dropped), by SHA-256, on each
// server.
func TestLargeFile(t *testing.T) {
	t.Parallel()
	forEachServer(t, testLargeFile)
}

func testLargeFile(t *testing.T, kind string) {
	f := newFixture(t, kind, dirCacheFast)
	c := f.dir(t, "")
	src := filepath.Join(t.TempDir(), "big.bin")
	want := sha256hex(randomFile(t, src, 128<<20))

	shTimeout(t, bigFileTimeout, c.Mnt, "cp "+q(src)+" big.bin")
	if got := sha256Of(t, "/", "sha256sum "+q(c.serverPath("big.bin"))); got != want {
		t.Fatalf("server side big.bin: sha256 %s, want %s (size %s)", got, want, sizeOf(c.serverPath("big.bin")))
	}
	sh(t, "/", "sync; echo 3 > /proc/sys/vm/drop_caches")
	if got := sha256Of(t, c.Mnt, "cat big.bin | sha256sum"); got != want {
		t.Errorf("cat big.bin through the mount: sha256 %s, want %s", got, want)
	}
}

// sha256Of runs a sha256sum script and returns the hash it printed.
func sha256Of(t *testing.T, dir, script string) string {
	t.Helper()
	out := strings.Fields(shTimeout(t, bigFileTimeout, dir, script))
	if len(out) == 0 {
		t.Fatalf("%s: no output", script)
	}
	return out[0]
}

func sizeOf(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprint(fi.Size())
}

// TestLargeDirectory lists a directory of 10,000 files made on the server side.
func TestLargeDirectory(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "vsftpd", dirCacheFast)
	c := f.dir(t, "mkdir many; cd many; for i in $(seq 1 10000); do : > f$i; done")

	if got := strings.TrimSpace(sh(t, c.Mnt, "ls many | wc -l")); got != "10000" {
		t.Errorf("ls many | wc -l: %s, want 10000", got)
	}
	if got, want := sh(t, c.Mnt, "ls many"), sh(t, c.Srv, "ls many"); got != want {
		t.Errorf("ls many: the mount and the server's disk list different names (%d and %d bytes)", len(got), len(want))
	}
	long := sh(t, c.Mnt, "ls -l many")
	if n := strings.Count(long, "\n"); n != 10001 {
		t.Errorf("ls -l many: %d lines, want 10001 (total + 10,000 entries)", n)
	}
}
