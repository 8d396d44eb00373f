package integration

import (
	crand "crypto/rand"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrite writes through the mount with shell tools and checks the bytes on both sides, on each
// server.
func TestWrite(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, kind string) { testWrite(t, newFixture(t, kind, dirCacheFast)) })
}

func testWrite(t *testing.T, f *fixture) {
	t.Run("cp_in_out", func(t *testing.T) {
		c := f.dir(t, "head -c 2000000 /dev/urandom > server.bin")
		scratch := t.TempDir()
		data := randomFile(t, filepath.Join(scratch, "in.bin"), 3<<20)

		sh(t, c.Mnt, "cp "+q(filepath.Join(scratch, "in.bin"))+" in.bin")
		wantBothSides(t, c, "in.bin", data)

		for _, name := range []string{"in.bin", "server.bin"} {
			out := filepath.Join(scratch, "out-"+name)
			sh(t, c.Mnt, "cp "+q(name)+" "+q(out))
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if diff := diffBytes(got, c.serverBytes(t, name)); diff != "" {
				t.Errorf("cp %s out of the mount: %s", name, diff)
			}
		}
	})

	t.Run("touch", func(t *testing.T) {
		c := f.dir(t, "")
		sh(t, c.Mnt, "touch new.txt")
		wantBothSides(t, c, "new.txt", nil)
		if got := strings.TrimSpace(sh(t, c.Mnt, "stat -c '%F %s' new.txt")); got != "regular empty file 0" {
			t.Errorf("stat new.txt: %q", got)
		}
	})

	t.Run("echo_redirect", func(t *testing.T) {
		c := f.dir(t, "")
		sh(t, c.Mnt, "echo one > f.txt")
		wantBothSides(t, c, "f.txt", []byte("one\n"))
		sh(t, c.Mnt, "echo two >> f.txt")
		wantBothSides(t, c, "f.txt", []byte("one\ntwo\n"))
		sh(t, c.Mnt, "echo three > f.txt")
		wantBothSides(t, c, "f.txt", []byte("three\n"))
	})

	t.Run("truncate", func(t *testing.T) {
		c := f.dir(t, "printf '0123456789abcdefghij' > data.txt")
		sh(t, c.Mnt, "truncate -s 10 data.txt")
		wantBothSides(t, c, "data.txt", []byte("0123456789"))
		sh(t, c.Mnt, "truncate -s 1000 data.txt")
		wantBothSides(t, c, "data.txt", append([]byte("0123456789"), make([]byte, 990)...))
		sh(t, c.Mnt, "truncate -s 0 data.txt")
		wantBothSides(t, c, "data.txt", nil)
		sh(t, c.Mnt, "truncate -s 1000 data.txt")
		wantBothSides(t, c, "data.txt", make([]byte, 1000))
		sh(t, c.Mnt, "truncate -s 1000 created.bin")
		wantBothSides(t, c, "created.bin", make([]byte, 1000))
	})

	t.Run("dd", func(t *testing.T) {
		c := f.dir(t, "")
		src := filepath.Join(t.TempDir(), "src.bin")
		data := randomFile(t, src, 6<<20)
		sh(t, c.Mnt, "dd if="+q(src)+" of=dd.bin bs=1M count=5 status=none")
		wantBothSides(t, c, "dd.bin", data[:5<<20])
	})
}

// randomFile writes n random bytes to path (outside the mount) and returns them.
func randomFile(t *testing.T, path string, n int) []byte {
	t.Helper()
	data := randomBytes(n)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// randomBytes returns n random bytes from a ChaCha8 stream with a random seed, made 64 KiB at a
// time. One crypto/rand.Read of a large buffer is one call into the vDSO that the Go runtime cannot
// preempt: 200 MiB took 3.6 s here, and a garbage collection that began meanwhile stopped the whole
// test process, with its in-process FTP servers, until it ended (the mounts under test timed out).
func randomBytes(n int) []byte {
	var seed [32]byte
	crand.Read(seed[:])
	rng := mrand.NewChaCha8(seed)
	data := make([]byte, n)
	for off := 0; off < n; off += 64 << 10 {
		rng.Read(data[off:min(n, off+64<<10)])
	}
	return data
}
