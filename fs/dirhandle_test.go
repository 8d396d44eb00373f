package fs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn/ftpfake"
)

// requestLog collects go-fuse's debug lines (every FUSE request), which
// go to the standard logger.
type requestLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *requestLog) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

var requestOp = regexp.MustCompile(`rx \d+: ([A-Z_]+) `)

// take counts the requests logged since the last take, by op name.
func (r *requestLog) take() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, m := range requestOp.FindAllStringSubmatch(r.buf.String(), -1) {
		out[m[1]]++
	}
	r.buf.Reset()
	return out
}

// mountLogged mounts fake with every FUSE request logged into the
// returned log (the standard logger is restored when the test ends).
func mountLogged(t *testing.T, fake *ftpfake.Client, ttl time.Duration) (string, *requestLog) {
	t.Helper()
	rl := &requestLog{}
	prev, flags := log.Writer(), log.Flags()
	log.SetOutput(rl)
	t.Cleanup(func() { log.SetOutput(prev); log.SetFlags(flags) })
	return mountClient(t, fake, Options{DirTTL: ttl, KernelTTL: 0, FuseDebug: true}), rl
}

// An `ls -l` of a large directory: READDIRPLUS gives every entry's
// attributes, and the kernel may keep them as long as the listing is
// fresh, so the stats that follow ask nothing (the kernel TTL is 0 here);
// the second listing comes from the kernel's directory cache.
func TestListingLargeDirectoryAsksOnce(t *testing.T) {
	const n = 3000
	fake := ftpfake.New()
	for i := range n {
		fake.WriteFile(fmt.Sprintf("/big/f%05d", i), bytes.Repeat([]byte("x"), i%97))
	}
	mnt, rl := mountLogged(t, fake, time.Minute)
	dir := filepath.Join(mnt, "big")
	lsl := func() {
		t.Helper()
		ents, err := os.ReadDir(dir)
		if err != nil || len(ents) != n {
			t.Fatalf("readdir: %d entries, %v", len(ents), err)
		}
		for i, e := range ents {
			fi, err := os.Lstat(filepath.Join(dir, e.Name()))
			if err != nil || fi.Name() != fmt.Sprintf("f%05d", i) || fi.Size() != int64(i%97) {
				t.Fatalf("entry %d: %v, %v", i, fi, err)
			}
		}
	}
	os.Stat(dir)
	rl.take()
	lsl()
	cold := rl.take()
	t.Logf("cold: %v", cold)
	if cold["LOOKUP"]+cold["GETATTR"] > 10 {
		t.Fatalf("a cold ls -l of %d entries sent %d LOOKUPs and %d GETATTRs: READDIRPLUS's attributes were not kept", n, cold["LOOKUP"], cold["GETATTR"])
	}
	lsl()
	warm := rl.take()
	t.Logf("warm: %v", warm)
	if warm["READDIRPLUS"]+warm["READDIR"] > 0 || warm["LOOKUP"] > 10 {
		t.Fatalf("a warm ls -l sent %v: it must come from the kernel's caches", warm)
	}
	if fake.Calls("List") != 2 { // the root and big
		t.Fatalf("%d listings, want 2", fake.Calls("List"))
	}

	// A change through the mount: the kernel drops its cache, and the next
	// listing shows it.
	if err := os.Remove(filepath.Join(dir, "f00001")); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != n-1 || ents[1].Name() != "f00002" {
		t.Fatalf("after rm: %d entries, %v", len(ents), err)
	}
	if got := rl.take(); got["READDIRPLUS"]+got["READDIR"] == 0 {
		t.Fatalf("after rm the kernel listed from its stale cache: %v", got)
	}
	var names []string
	for _, e := range ents[:3] {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "f00000 f00002 f00003" {
		t.Fatalf("after rm: %v", names)
	}
}

// The kernel's copy of a listing goes when the listing does: a file another
// client made shows once the TTL ran out.
func TestKernelDropsAnOldListing(t *testing.T) {
	fake := ftpfake.New()
	fake.WriteFile("/d/old.txt", []byte("1"))
	mnt := mountFake(t, fake, 200*time.Millisecond)
	dir := filepath.Join(mnt, "d")
	names := func() string {
		t.Helper()
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			out = append(out, e.Name())
		}
		return strings.Join(out, " ")
	}
	if got := names(); got != "old.txt" {
		t.Fatalf("ls = %q", got)
	}
	fake.WriteFile("/d/new.txt", []byte("2"))
	time.Sleep(300 * time.Millisecond)
	if got := names(); got != "new.txt old.txt" {
		t.Fatalf("after the TTL: ls = %q, want the new file too", got)
	}
}

// dirents reads fd's directory entries with getdents64 into a buffer of
// bufSize bytes at a time, from the current offset to the end (or for
// pieces calls, when not 0): names and each entry's d_off (the offset to
// seek to for the entries after it).
func dirents(t *testing.T, fd, bufSize, pieces int) (names []string, offs []int64) {
	t.Helper()
	buf := make([]byte, bufSize)
	for piece := 0; pieces == 0 || piece < pieces; piece++ {
		n, err := syscall.Getdents(fd, buf)
		if err != nil {
			t.Fatalf("getdents: %v", err)
		}
		if n == 0 {
			return names, offs
		}
		for b := buf[:n]; len(b) > 0; {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
			reclen := int(binary.LittleEndian.Uint16(b[16:18]))
			off := int64(binary.LittleEndian.Uint64(b[8:16]))
			name := b[19:reclen]
			name = name[:bytes.IndexByte(name, 0)]
			names, offs = append(names, string(name)), append(offs, off)
			b = b[reclen:]
		}
	}
	return names, offs
}

// telldir/seekdir: a listing read in small pieces, then from an offset
// further on, gives the same entries in the same order. With a TTL of 0
// each opendir drops the kernel's copy, so a seek past what this open
// read so far reaches our Seekdir.
func TestSeekInALargeDirectory(t *testing.T) {
	const n = 500
	fake := ftpfake.New()
	for i := range n {
		fake.WriteFile(fmt.Sprintf("/big/f%04d", i), nil)
	}
	mnt := mountFake(t, fake, 0)
	dir := filepath.Join(mnt, "big")
	open := func() int {
		t.Helper()
		fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Close(fd) })
		return fd
	}
	names, offs := dirents(t, open(), 512, 0)
	if len(names) != n+2 || names[0] != "." || names[1] != ".." || names[2] != "f0000" || names[n+1] != fmt.Sprintf("f%04d", n-1) {
		t.Fatalf("%d entries: %v ... %v", len(names), names[:min(4, len(names))], names[max(0, len(names)-2):])
	}
	for _, k := range []int{0, 1, 2, 137, 400, n} {
		fd := open()
		dirents(t, fd, 512, 1) // one piece, then seek on
		if _, err := syscall.Seek(fd, offs[k], 0); err != nil {
			t.Fatal(err)
		}
		rest, _ := dirents(t, fd, 512, 0)
		want := names[k+1:]
		for i := range max(len(rest), len(want)) {
			if i >= len(rest) || i >= len(want) || rest[i] != want[i] {
				t.Fatalf("after seeking past entry %d (%q, offset %d): %d entries, want %d; first difference at %d: %v, want %v",
					k, names[k], offs[k], len(rest), len(want), i, rest[i:min(i+3, len(rest))], want[i:min(i+3, len(want))])
			}
		}
	}
}

// slowClock is a clock that moves step at every reading: handing a
// listing to the kernel then takes long in its time, as for a directory
// of 200,000 entries in real time, while the test stays quick.
type slowClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *slowClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// A listing that takes longer to hand to the kernel than the TTL: the
// entries' timeouts count from when each was handed over (Snapshot.Handed),
// so the stats of the `ls -l` that follows, and the warm `ls -l` after it,
// are all answered by the kernel. When they counted from the listing's
// arrival, the entries handed after the TTL ran out came with no timeout
// and every stat of them went back to the daemon.
func TestSlowHandingKeepsKernelTimeouts(t *testing.T) {
	const n = 3000
	fake := ftpfake.New()
	for i := range n {
		fake.WriteFile(fmt.Sprintf("/big/f%05d", i), nil)
	}
	rl := &requestLog{}
	prev, flags := log.Writer(), log.Flags()
	log.SetOutput(rl)
	t.Cleanup(func() { log.SetOutput(prev); log.SetFlags(flags) })
	clk := &slowClock{t: time.Unix(1_700_000_000, 0), step: 14 * time.Millisecond}
	// Each entry handed reads the clock once: the pass takes about 42 s
	// of its time, more than the TTL (and less than the extension's bound,
	// the TTL again).
	mnt := mountClient(t, fake, Options{DirTTL: 30 * time.Second, KernelTTL: 0, FuseDebug: true, Now: clk.now})
	dir := filepath.Join(mnt, "big")
	os.Stat(dir)
	for pass := range 2 {
		rl.take()
		ents, err := os.ReadDir(dir)
		if err != nil || len(ents) != n {
			t.Fatalf("readdir: %d entries, %v", len(ents), err)
		}
		for _, e := range ents {
			if _, err := os.Lstat(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
		got := rl.take()
		t.Logf("pass %d: %v", pass, got)
		if got["LOOKUP"]+got["GETATTR"] > 10 {
			t.Fatalf("pass %d: the stats after the readdir sent %d LOOKUPs and %d GETATTRs: the kernel was not let keep what READDIRPLUS gave", pass, got["LOOKUP"], got["GETATTR"])
		}
	}
	if c := fake.Calls("List"); c != 2 { // the root and big
		t.Fatalf("%d listings, want 2", c)
	}
}
