package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// Files unlinked or renamed over while open behave as on a local disk: the open descriptor reads
// the whole file, writes into it and reads them back, and the old name is gone at once; at the
// last close nothing is left on the server, and a crash meanwhile leaves nothing to upload or
// recover (core/unlinked.go).

// noStrayEventually is noStray once the last release has reached the daemon: the kernel sends
// RELEASE after close(2) has returned, and the hidden file's DELE follows it.
func noStrayEventually(t *testing.T, srvDir string, want ...string) {
	t.Helper()
	eventually(t, "the server's directory to hold only "+strings.Join(want, ","), func() (bool, string) {
		ents, err := os.ReadDir(srvDir)
		var got []string
		for _, e := range ents {
			got = append(got, e.Name())
		}
		return err == nil && strings.Join(got, "/") == strings.Join(want, "/"), fmt.Sprintf("%q %v", got, err)
	})
}

func TestUnlinkedWhileOpen(t *testing.T) {
	t.Parallel()
	forEachServerOf(t, safetyKinds, func(t *testing.T, kind string) {
		logFile := filepath.Join(t.TempDir(), "ftpmount.log")
		recovery := t.TempDir()
		f := newFixture(t, kind, dirCacheFast, "debug", "logfile="+logFile, "recovery_dir="+recovery)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("ftpmount log, last lines:\n%s", harness.Tail(logFile, 60))
			}
		})

		// open, unlink, then read the whole file; meanwhile the name is free for a new file.
		t.Run("read_after_unlink", func(t *testing.T) {
			c := f.dir(t, "")
			data := randomFile(t, c.serverPath("a.bin"), 32<<20)
			out := shTimeout(t, bigFileTimeout, c.Mnt, `/usr/bin/python3 -c '
import os, hashlib, sys
fd = os.open("a.bin", os.O_RDONLY)
os.unlink("a.bin")
try:
    os.stat("a.bin")
    sys.exit("stat of the unlinked name succeeded")
except FileNotFoundError:
    pass
if os.listdir(".") != []:
    sys.exit("listed after the unlink: %r" % os.listdir("."))
with open("a.bin", "w") as g:
    g.write("a new file\n")
if os.listdir(".") != ["a.bin"]:
    sys.exit("listed with the new file: %r" % os.listdir("."))
if os.fstat(fd).st_size != 32 << 20:
    sys.exit("fstat: %d bytes" % os.fstat(fd).st_size)
`+pyDigestFD+`'`)
			if want := sha256hex(data); out != want {
				t.Errorf("the open, unlinked file read back with digest %s, want %s", out, want)
			}
			noStrayEventually(t, c.Srv, "a.bin")
			wantBothSides(t, c, "a.bin", []byte("a new file\n"))
		})

		// rename over a file that is open: the descriptor still reads the old file.
		t.Run("rename_over_open", func(t *testing.T) {
			c := f.dir(t, "")
			old := randomFile(t, c.serverPath("b.bin"), 8<<20)
			fresh := randomFile(t, c.serverPath("a.bin"), 5<<20)
			out := shTimeout(t, bigFileTimeout, c.Mnt, `/usr/bin/python3 -c '
import os, hashlib, sys
fd = os.open("b.bin", os.O_RDONLY)
os.rename("a.bin", "b.bin")
`+pyDigestFD+`'`)
			if want := sha256hex(old); out != want {
				t.Errorf("the file renamed over read back with digest %s, want %s (the old content)", out, want)
			}
			noStrayEventually(t, c.Srv, "b.bin")
			wantBothSides(t, c, "b.bin", fresh)
		})

		// The temp-file pattern: create, unlink, write, read back, close. Nothing reaches the
		// server and nothing is kept for recovery.
		t.Run("temp_file", func(t *testing.T) {
			c := f.dir(t, "")
			sh(t, c.Mnt, `/usr/bin/python3 -c '
import os, sys
fd = os.open("scratch.tmp", os.O_CREAT | os.O_RDWR, 0o600)
os.unlink("scratch.tmp")
data = os.urandom(6 << 20)
for i in range(0, len(data), 1 << 16):
    os.write(fd, data[i:i + (1 << 16)])
os.lseek(fd, 0, os.SEEK_SET)
got = b""
while True:
    b = os.read(fd, 1 << 20)
    if not b:
        break
    got += b
if got != data:
    sys.exit("read back %d bytes, not what was written" % len(got))
os.close(fd)
'`)
			noStrayEventually(t, c.Srv)
			wantNoEntry(t, c.Mnt, "scratch.tmp")
		})

		// An existing file opened for writing, unlinked, then written inside its old bytes.
		t.Run("write_into_unlinked", func(t *testing.T) {
			c := f.dir(t, "printf 0123456789 > e.txt")
			out := sh(t, c.Mnt, `/usr/bin/python3 -c '
import os, sys
fd = os.open("e.txt", os.O_RDWR)
os.unlink("e.txt")
os.pwrite(fd, b"ab", 4)
sys.stdout.write(os.pread(fd, 100, 0).decode())
os.close(fd)
'`)
			if out != "0123ab6789" {
				t.Errorf("read back %q, want 0123ab6789", out)
			}
			noStrayEventually(t, c.Srv)
		})

		// rm -r of a directory holding an open file: the directory goes (the server would
		// refuse to remove it with the hidden file in it), and the descriptor reads on while
		// its RETR is open.
		t.Run("rm_r_while_open", func(t *testing.T) {
			c := f.dir(t, "mkdir sub && printf hello > sub/x")
			out := sh(t, c.Mnt, `/usr/bin/python3 -c '
import os, shutil, sys
fd = os.open("sub/x", os.O_RDONLY)
first = os.read(fd, 2)
shutil.rmtree("sub")
sys.stdout.write((first + os.read(fd, 100)).decode())
os.close(fd)
'`)
			if out != "hello" {
				t.Errorf("read %q, want hello", out)
			}
			noStrayEventually(t, c.Srv)
		})

		if kept, _ := os.ReadDir(recovery); len(kept) != 0 {
			t.Errorf("the recovery folder holds %v, want nothing", kept)
		}
	})
}

// TestCrashWithUnlinkedFilesOpen: the daemon dies (SIGKILL) while a process holds files it
// unlinked (a new one written, an old one written into, one open for reading); the next mount
// uploads nothing under the old names, keeps nothing in the recovery folder, and removes the files
// kept under temporary names.
func TestCrashWithUnlinkedFilesOpen(t *testing.T) {
	t.Parallel()
	forEachServerOf(t, safetyKinds, func(t *testing.T, kind string) {
		srv := startServer(t, kind)
		spool, recovery := t.TempDir(), t.TempDir()
		logFile := filepath.Join(t.TempDir(), "ftpmount.log")
		opts := []string{dirCacheFast, "debug", "spool_dir=" + spool, "recovery_dir=" + recovery, "logfile=" + logFile}
		f := &fixture{srv: srv, mnt: mount(t, srv, opts...)}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("ftpmount log, last lines:\n%s", harness.Tail(logFile, 60))
			}
		})
		c := f.dir(t, "printf 0123456789 > e.txt && echo read only > r.txt")
		py := exec.Command("/usr/bin/python3", "-c", `
import os, sys, time
fd = os.open("scratch.tmp", os.O_CREAT | os.O_RDWR, 0o600)
os.unlink("scratch.tmp")
os.write(fd, b"x" * 100000)
fd2 = os.open("e.txt", os.O_RDWR)
os.unlink("e.txt")
os.pwrite(fd2, b"ab", 4)
fd3 = os.open("r.txt", os.O_RDONLY)
os.unlink("r.txt")
print("ready", flush=True)
time.sleep(600)
`)
		py.Dir = c.Mnt
		py.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		var stderr bytes.Buffer
		py.Stderr = &stderr
		stdout, err := py.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := py.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			syscall.Kill(-py.Process.Pid, syscall.SIGKILL)
			py.Wait()
		}()
		ready := make(chan string, 1)
		go func() {
			line, _ := bufio.NewReader(stdout).ReadString('\n')
			ready <- line
		}()
		select {
		case line := <-ready:
			if line != "ready\n" {
				py.Wait()
				t.Fatalf("the writer stopped before the crash: %q, stderr %q", line, stderr.String())
			}
		case <-time.After(cmdTimeout):
			t.Fatal("the writer did not get ready")
		}
		for _, p := range harness.ProcessesMatching(f.mnt.Dir) {
			syscall.Kill(p.PID, syscall.SIGKILL)
		}
		harness.AbortFUSE(f.mnt.Dir)
		syscall.Kill(-py.Process.Pid, syscall.SIGKILL)
		py.Wait()
		command(cmdTimeout, "/", nil, "fusermount3", "-u", "-z", f.mnt.Dir)
		f.mnt.done = true

		mount(t, srv, opts...)
		eventually(t, "the next mount to clear what the dead daemon left", func() (bool, string) {
			left, _ := filepath.Glob(filepath.Join(spool, "ftpmount-spool-*"))
			ents, _ := os.ReadDir(c.Srv)
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			return len(left) == 0 && len(names) == 0, fmt.Sprintf("spool directory %v, server directory %q", left, names)
		})
		if kept, _ := os.ReadDir(recovery); len(kept) != 0 {
			t.Errorf("the recovery folder holds %v, want nothing", kept)
		}
	})
}

// TestFtruncateAfterFsync: a writer that fsyncs, then truncates its own descriptor and writes
// again, replaces the server's file only at its close: another client reading the server's
// directory sees the fsynced content until then, never an empty file.
func TestFtruncateAfterFsync(t *testing.T) {
	t.Parallel()
	forEachServerOf(t, safetyKinds, func(t *testing.T, kind string) {
		f := newFixture(t, kind, dirCacheFast)
		c := f.dir(t, "")
		out := sh(t, c.Mnt, `/usr/bin/python3 - `+q(c.serverPath("f.txt"))+` <<'EOF'
import os, sys
server = sys.argv[1]
def seen():
    with open(server, "rb") as s:
        return s.read().decode()
fd = os.open("f.txt", os.O_CREAT | os.O_WRONLY, 0o644)
os.write(fd, b"first version\n")
os.fsync(fd)
os.ftruncate(fd, 0)
sys.stdout.write(seen() + "|")
os.lseek(fd, 0, os.SEEK_SET)
os.write(fd, b"second\n")
sys.stdout.write(seen() + "|")
os.close(fd)
EOF`)
		if want := "first version\n|first version\n|"; out != want {
			t.Errorf("the server's file after ftruncate and after the next write: %q, want %q", out, want)
		}
		wantBothSides(t, c, "f.txt", []byte("second\n"))
	})
}

// pyDigestFD ends a python3 script (hashlib, os and sys imported) that has the descriptor fd
// open: it reads fd to its end, closes it and prints the SHA-256 of what it read.
const pyDigestFD = `h = hashlib.sha256()
while True:
    b = os.read(fd, 1 << 20)
    if not b:
        break
    h.update(b)
os.close(fd)
sys.stdout.write(h.hexdigest())
`
