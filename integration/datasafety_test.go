package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// The data-safety promise, from the shell: no operation removes, shortens or garbles data on the
// server before the content that replaces it is there and checked, and a reader sees a whole
// version of a file, old or new.

// safetyKinds are the servers the data-safety tests run on.
var safetyKinds = []string{"vsftpd", "pure-ftpd", "proftpd"}

// tempUpload matches ftpmount's temporary upload names (core.IsTempName).
var tempUpload = regexp.MustCompile(`\.ftpmount-[0-9a-z]+-[0-9a-f]{8}\.part$`)

// uploadOf reports whether a transfer of path stores the file target: to target itself, or to a
// temporary upload name beside it.
func uploadOf(path, target string) bool {
	dir, base := filepath.Split(target)
	return path == target || strings.HasPrefix(path, dir+"."+base+".") && tempUpload.MatchString(path)
}

// noStray fails when the server's directory holds anything but the names want.
func noStray(t *testing.T, srvDir string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(srvDir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, "/") != strings.Join(want, "/") {
		t.Errorf("server directory holds %q, want %q", got, want)
	}
}

func TestDataSafety(t *testing.T) {
	t.Parallel()
	forEachServerOf(t, safetyKinds, func(t *testing.T, kind string) {
		logFile := filepath.Join(t.TempDir(), "ftpmount.log")
		f := newFixture(t, kind, dirCacheFast, "debug", "logfile="+logFile)
		testOverwrites(t, f, logFile)
		testAppends(t, "", f)
		testAppends(t, "atomic_", &fixture{srv: f.srv, mnt: mount(t, f.srv, dirCacheFast, "atomic")})
		testOpenFiles(t, f)
	})
}

func testOverwrites(t *testing.T, f *fixture, logFile string) {
	// One file by two paths: the server's own folder and the mount. Copying it onto itself must
	// keep it (the truncate of the copy's open must not reach the server before the new content).
	for _, size := range []int{1000, 20 << 20} {
		name := "same_file_" + map[bool]string{true: "small", false: "large"}[size < 4<<20]
		t.Run(name, func(t *testing.T) {
			c := f.dir(t, "")
			data := randomFile(t, c.serverPath("f.bin"), size)
			sh(t, c.Mnt, "cat f.bin >/dev/null; cp "+q(c.serverPath("f.bin"))+" f.bin")
			wantBothSides(t, c, "f.bin", data)
			noStray(t, c.Srv, "f.bin")
		})
	}

	t.Run("one_upload_per_cp", func(t *testing.T) {
		c := f.dir(t, "echo old > target.txt")
		src := filepath.Join(t.TempDir(), "src.txt")
		os.WriteFile(src, []byte("new content\n"), 0o644)
		before := countLines(t, logFile, "> STOR .*target\\.txt")
		sh(t, c.Mnt, "cp "+q(src)+" target.txt")
		wantBothSides(t, c, "target.txt", []byte("new content\n"))
		if n := countLines(t, logFile, "> STOR .*target\\.txt") - before; n != 1 {
			t.Errorf("cp over an existing file sent %d STORs, want 1; the log:\n%s", n, harness.Tail(logFile, 60))
		}
	})

	// Another client reading the server's file while it is overwritten sees the old content or
	// the new, whole, every time.
	t.Run("reader_sees_old_or_new", func(t *testing.T) {
		c := f.dir(t, "")
		old := randomFile(t, c.serverPath("f.bin"), 12<<20)
		src := filepath.Join(t.TempDir(), "new.bin")
		fresh := randomFile(t, src, 12<<20+4096)
		var stop atomic.Bool
		var wg sync.WaitGroup
		var bad string
		var reads int
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				got, err := os.ReadFile(c.serverPath("f.bin"))
				reads++
				if err != nil || !(bytes.Equal(got, old) || bytes.Equal(got, fresh)) {
					bad = describeStat(nil, err) + ": " + diffBytes(got, old)
					return
				}
			}
		}()
		sh(t, c.Mnt, "cp "+q(src)+" f.bin")
		stop.Store(true)
		wg.Wait()
		if bad != "" {
			t.Fatalf("a reader of the server's file saw neither version (after %d reads): %s", reads, bad)
		}
		wantBothSides(t, c, "f.bin", fresh)
		noStray(t, c.Srv, "f.bin")
	})

	// A name the server would store under another one (pure-ftpd: "name " as "name_") fails
	// and leaves nothing behind; where the server keeps it, it is kept exactly.
	t.Run("mangled_name", func(t *testing.T) {
		c := f.dir(t, "")
		// Python, not a shell redirection: bash ignores what close(2) returns.
		r := try(cmdTimeout, c.Mnt, `/usr/bin/python3 -c 'f = open("name ", "w"); f.write("data\n"); f.close()'`)
		if r.Err == nil {
			wantBothSides(t, c, "name ", []byte("data\n"))
			noStray(t, c.Srv, "name ")
			return
		}
		if !strings.Contains(r.Stderr, "Invalid argument") {
			t.Errorf("close of a mangled name: %v, want EINVAL", r)
		}
		noStray(t, c.Srv)
	})

	t.Run("fsync_dir", func(t *testing.T) {
		c := f.dir(t, "")
		sh(t, c.Mnt, `/usr/bin/python3 -c 'import os; fd = os.open(".", os.O_RDONLY); os.fsync(fd)'`)
	})
}

// countLines counts the lines of file matching pattern.
func countLines(t *testing.T, file, pattern string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return len(regexp.MustCompile(pattern).FindAll(b, -1))
}

// testAppends checks appends on f's mount; prefix names the subtests (each has its own directory).
func testAppends(t *testing.T, prefix string, f *fixture) {
	t.Run(prefix+"append", func(t *testing.T) {
		c := f.dir(t, "")
		sh(t, c.Mnt, "echo a > f; echo b >> f")
		wantBothSides(t, c, "f", []byte("a\nb\n"))
	})
	t.Run(prefix+"append_large", func(t *testing.T) {
		// Made by the FTP user: an append to a file the server cannot reopen fails (and
		// pure-ftpd then removes the file; see the README's Servers section).
		c := f.dir(t, "head -c 31457280 /dev/urandom > big.bin")
		data := c.serverBytes(t, "big.bin")
		sh(t, c.Mnt, "echo one more line >> big.bin")
		wantBothSides(t, c, "big.bin", append(data, "one more line\n"...))
		noStray(t, c.Srv, "big.bin")
	})
}

func testOpenFiles(t *testing.T, f *fixture) {
	// An open file follows a rename through the mount, and stays statable after unlink.
	t.Run("rename_while_open", func(t *testing.T) {
		c := f.dir(t, "")
		data := randomFile(t, c.serverPath("a.bin"), 32<<20)
		out := sh(t, c.Mnt, `/usr/bin/python3 -c '
import os, hashlib, sys
fd = os.open("a.bin", os.O_RDONLY)
first = os.read(fd, 1 << 20)
os.rename("a.bin", "b.bin")
os.lseek(fd, 30 << 20, os.SEEK_SET)
tail = os.read(fd, 4 << 20)
os.close(fd)
sys.stdout.write(hashlib.sha256(first + tail).hexdigest())
'`)
		want := sha256hex(append(bytes.Clone(data[:1<<20]), data[30<<20:]...))
		if out != want {
			t.Errorf("reads after the rename: digest %s, want %s", out, want)
		}
	})
	t.Run("fstat_after_unlink", func(t *testing.T) {
		c := f.dir(t, "printf 0123456789 > u.txt")
		out := sh(t, c.Mnt, `/usr/bin/python3 -c '
import os
fd = os.open("u.txt", os.O_RDONLY)
os.unlink("u.txt")
print(os.fstat(fd).st_size)
os.close(fd)
'`)
		if strings.TrimSpace(out) != "10" {
			t.Errorf("fstat after unlink: %q, want size 10", out)
		}
		wantGone(t, c, "u.txt")
	})
}

// TestSameSizeOverwriteSeenByAnotherMount: two mounts of one directory; after one overwrites a
// file with another of the same size, the other mount shows the new content within the
// documented delay (dir_cache plus the kernel's second), and never a mix of the two.
func TestSameSizeOverwriteSeenByAnotherMount(t *testing.T) {
	t.Parallel()
	forEachServerOf(t, safetyKinds, func(t *testing.T, kind string) {
		srv := startServer(t, kind)
		a := &fixture{srv: srv, mnt: mount(t, srv, dirCacheFast)}
		b := mount(t, srv, dirCacheFast)
		c := a.dir(t, "")
		old := randomFile(t, c.serverPath("f.bin"), 2<<20)
		time.Sleep(3 * time.Second) // the file's time is settled, as for any file not just written
		inB := filepath.Join(b.Dir, filepath.Base(c.Mnt), "f.bin")
		for range 3 { // the pages are cached, and the file is known unchanged
			if got, err := os.ReadFile(inB); err != nil || !bytes.Equal(got, old) {
				t.Fatalf("second mount before the overwrite: %v %s", err, diffBytes(got, old))
			}
		}
		src := filepath.Join(t.TempDir(), "new.bin")
		fresh := randomFile(t, src, 2<<20)
		sh(t, c.Mnt, "cp "+q(src)+" f.bin")
		deadline := time.Now().Add(visibleWithin)
		for {
			got, err := os.ReadFile(inB)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(got, fresh) {
				return
			}
			if !bytes.Equal(got, old) {
				t.Fatalf("second mount read a mix of the versions: %s", diffBytes(got, fresh))
			}
			if time.Now().After(deadline) {
				t.Fatalf("second mount still serves the old content %v after the overwrite", visibleWithin)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

// sha256hex hashes b 1 MiB at a time: one call over hundreds of MiB cannot be preempted, and
// would hold up the next garbage collection of the whole test process (see randomBytes).
func sha256hex(b []byte) string {
	h := sha256.New()
	for off := 0; off < len(b); off += 1 << 20 {
		h.Write(b[off:min(len(b), off+1<<20)])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestCrashDuringOverwrite: the daemon is killed (SIGKILL) while a writer overwrites a large file
// and still holds it open. The server keeps the old content whole, under its name; the next mount
// of the server removes the temporary upload, keeps the unfinished spool in the recovery folder
// and says so in its log.
func TestCrashDuringOverwrite(t *testing.T) {
	t.Parallel()
	forEachServerOf(t, safetyKinds, func(t *testing.T, kind string) {
		srv := startServer(t, kind)
		spool, recovery := t.TempDir(), t.TempDir()
		logFile := filepath.Join(t.TempDir(), "ftpmount.log")
		opts := []string{dirCacheFast, "spool_dir=" + spool, "recovery_dir=" + recovery, "logfile=" + logFile}
		f := &fixture{srv: srv, mnt: mount(t, srv, opts...)}
		c := f.dir(t, "head -c 67108864 /dev/urandom > big.bin")
		old := c.serverBytes(t, "big.bin")
		src := filepath.Join(t.TempDir(), "new.bin")
		randomFile(t, src, 200<<20)

		// The writer overwrites big.bin (O_TRUNC, as cp does) and then holds it open until the
		// test says stop, so the daemon dies with the spool still open for writing. A writer that
		// had reached close() would leave a complete spool, which the next mount rightly uploads
		// (journal state closing; TestWritebackCrash): with cp, which of the two happened
		// depended on how fast the machine was.
		stop := filepath.Join(t.TempDir(), "stop")
		writer := make(chan result, 1)
		go func() {
			writer <- try(bigFileTimeout, c.Mnt, "exec 3> big.bin && cat "+q(src)+" >&3 && until [ -e "+q(stop)+" ]; do sleep 0.1; done")
		}()
		eventually(t, "the upload to start (a temporary name on the server)", func() (bool, string) {
			ents, _ := os.ReadDir(c.Srv)
			for _, e := range ents {
				if fi, err := e.Info(); err == nil && tempUpload.MatchString(e.Name()) && fi.Size() > 0 {
					return true, ""
				}
			}
			return false, fmt.Sprint(ents)
		})
		daemons := harness.ProcessesMatching(f.mnt.Dir)
		if len(daemons) == 0 {
			t.Fatal("no ftpmount process for the mount")
		}
		for _, p := range daemons {
			syscall.Kill(p.PID, syscall.SIGKILL)
		}
		if err := os.WriteFile(stop, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		<-writer
		harness.AbortFUSE(f.mnt.Dir)
		command(cmdTimeout, "/", nil, "fusermount3", "-u", "-z", f.mnt.Dir)
		f.mnt.done = true

		if diff := diffBytes(c.serverBytes(t, "big.bin"), old); diff != "" {
			t.Fatalf("after the crash the server's file is not the old content: %s", diff)
		}
		mount(t, srv, opts...)
		said := "big.bin: was being written when ftpmount stopped; its data is kept in"
		eventually(t, "the next mount to recover the spool and log it", func() (bool, string) {
			kept, _ := filepath.Glob(filepath.Join(recovery, "big.bin.*"))
			left, _ := filepath.Glob(filepath.Join(spool, "ftpmount-spool-*"))
			n := countLines(t, logFile, said) // written once the spool has moved
			return len(kept) == 1 && len(left) == 0 && n > 0, fmt.Sprintf("recovery folder %v, spool directory %v, log lines %d", kept, left, n)
		})
		noStray(t, c.Srv, "big.bin")
		if n := countLines(t, logFile, said); n != 1 {
			t.Errorf("the log says %d times what became of the spool, want once:\n%s", n, harness.Tail(logFile, 20))
		}
	})
}
