package fs

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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
