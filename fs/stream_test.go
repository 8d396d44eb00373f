package fs

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/fs/core"
	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
)

// Streamed uploads (core/stream.go) against a real FTP server in process: the
// upload starts while the file is written, and whatever the writer does
// meanwhile, the server ends up with exactly what was written.

// mountStreaming mounts addr (the server s, or a proxy in front of it)
// with streamed uploads on.
func mountStreaming(t *testing.T, s *ftptest.Server, addr string) string {
	t.Helper()
	requireFuse(t)
	client, err := ftpconn.Dial(t.Context(), ftpconn.Config{Addr: addr, User: s.User, Password: s.Password, Timeout: 10 * time.Second, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return mountClient(t, client, Options{DirTTL: 2 * time.Second, KernelTTL: time.Second, Streams: 2, Debugf: t.Logf})
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	r.Read(b)
	return b
}

// writeUntilOnServer writes data in 1 MiB pieces and returns once the
// upload has bytes on the server (under a temporary name beside server)
// while the file is still open, failing the test (after closing f) if it
// does not within a few seconds.
func writeUntilOnServer(t *testing.T, f *os.File, data []byte, server string) {
	t.Helper()
	for off := 0; off < len(data); off += 1 << 20 {
		if _, err := f.Write(data[off:min(off+1<<20, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if streamedBytes(server) > 0 {
			return
		}
		if time.Now().After(deadline) {
			f.Close()
			t.Fatalf("%s: nothing on the server while the file is open: the upload did not start early", server)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// streamedBytes is the size of the temporary upload of server in its
// directory (0 when there is none).
func streamedBytes(server string) int64 {
	ents, _ := os.ReadDir(filepath.Dir(server))
	for _, e := range ents {
		if _, ok := core.IsTempName(e.Name()); ok && strings.HasPrefix(e.Name(), "."+filepath.Base(server)+".") {
			if fi, err := e.Info(); err == nil {
				return fi.Size()
			}
		}
	}
	return 0
}

// finish writes rest, closes f and checks that the server has want.
func finish(t *testing.T, f *os.File, rest []byte, server string, want []byte) {
	t.Helper()
	if _, err := f.Write(rest); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	checkServerFile(t, server, want)
}

func checkServerFile(t *testing.T, server string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(server)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: server has %d bytes, want %d (equal prefix: %v)", server, len(got), len(want), bytes.HasPrefix(want, got))
	}
	noTempUploads(t, filepath.Dir(server))
}

func TestStreamedUploadStartsBeforeClose(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	mnt := mountStreaming(t, s, s.Addr)
	data := randomBytes(9<<20+12345, 1)
	f, err := os.Create(filepath.Join(mnt, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	writeUntilOnServer(t, f, data[:6<<20], filepath.Join(s.Dir, "big.bin"))
	finish(t, f, data[6<<20:], filepath.Join(s.Dir, "big.bin"), data)
}

// Anything but an append abandons the stream; the close uploads the whole
// spool.
func TestStreamedUploadAbandoned(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	mnt := mountStreaming(t, s, s.Addr)
	cases := map[string]func(t *testing.T, f *os.File, data []byte) []byte{
		"overwrite": func(t *testing.T, f *os.File, data []byte) []byte {
			if _, err := f.WriteAt([]byte("XYZ"), 100); err != nil {
				t.Fatal(err)
			}
			want := bytes.Clone(data)
			copy(want[100:], "XYZ")
			return want
		},
		"truncate and go on": func(t *testing.T, f *os.File, data []byte) []byte {
			if err := f.Truncate(1 << 20); err != nil {
				t.Fatal(err)
			}
			more := randomBytes(2<<20, 7)
			if _, err := f.WriteAt(more, 1<<20); err != nil {
				t.Fatal(err)
			}
			return append(bytes.Clone(data[:1<<20]), more...)
		},
		"write past the end": func(t *testing.T, f *os.File, data []byte) []byte {
			if _, err := f.WriteAt([]byte("tail"), int64(len(data))+10); err != nil {
				t.Fatal(err)
			}
			return append(append(bytes.Clone(data), make([]byte, 10)...), "tail"...)
		},
	}
	seed := uint64(10)
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			seed++
			data := randomBytes(6<<20, seed)
			name := "abandon-" + string(rune('a'+seed%26)) + ".bin"
			f, err := os.Create(filepath.Join(mnt, name))
			if err != nil {
				t.Fatal(err)
			}
			writeUntilOnServer(t, f, data, filepath.Join(s.Dir, name))
			want := change(t, f, data)
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			checkServerFile(t, filepath.Join(s.Dir, name), want)
		})
	}
}

// A file deleted while open for writing is gone from the server, even
// though its upload had started.
func TestStreamedUploadOfDeletedFile(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	mnt := mountStreaming(t, s, s.Addr)
	p := filepath.Join(mnt, "gone.bin")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	writeUntilOnServer(t, f, randomBytes(6<<20, 3), filepath.Join(s.Dir, "gone.bin"))
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(randomBytes(1<<20, 4)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "gone.bin")); !os.IsNotExist(err) {
		t.Fatalf("deleted file on the server: stat = %v", err)
	}
	noTempUploads(t, s.Dir)
}

// noTempUploads fails when a temporary upload is left in dir.
func noTempUploads(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if _, ok := core.IsTempName(e.Name()); ok {
			t.Errorf("temporary upload %s left in %s", e.Name(), dir)
		}
	}
}

// The data connection of the streamed STOR is cut half way: the close
// still returns only once the server has every byte.
func TestStreamedUploadCut(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	var cuts atomic.Int32
	p := ftptest.StartProxy(t, s.Addr, ftptest.TransferFaults{
		Upload: func(path string, offset int64) *ftptest.Cut {
			if cuts.Add(1) == 1 {
				return &ftptest.Cut{After: 3 << 20}
			}
			return nil
		},
	})
	mnt := mountStreaming(t, s, p.Addr)
	data := randomBytes(10<<20, 5)
	f, err := os.Create(filepath.Join(mnt, "cut.bin"))
	if err != nil {
		t.Fatal(err)
	}
	writeUntilOnServer(t, f, data, filepath.Join(s.Dir, "cut.bin"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if cuts.Load() < 2 {
		t.Fatalf("%d STORs: the cut was not survived by a second one", cuts.Load())
	}
	checkServerFile(t, filepath.Join(s.Dir, "cut.bin"), data)
}

// A close uploads the file while the writer goes on through another
// descriptor (a dup, a child process): no stream may start meanwhile, or
// the close's STOR would truncate what the stream had sent.
func TestNoStreamWhileACloseUploads(t *testing.T) {
	var stors atomic.Int32
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: func(cmd, param string) *ftptest.Action {
		if cmd == "STOR" && stors.Add(1) == 1 {
			return &ftptest.Action{Stall: time.Second} // hold the close's upload
		}
		return nil
	}}})
	mnt := mountStreaming(t, s, s.Addr)
	data := randomBytes(7<<20, 9)
	f, err := os.Create(filepath.Join(mnt, "two.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data[:3<<20]); err != nil {
		t.Fatal(err)
	}
	dup, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- syscall.Close(dup) }() // uploads 3 MiB, held by the stall
	time.Sleep(300 * time.Millisecond)
	if _, err := f.Write(data[3<<20 : 6<<20]); err != nil { // past streamMin meanwhile
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("close of the dup: %v", err)
	}
	finish(t, f, data[6<<20:], filepath.Join(s.Dir, "two.bin"), data)
}

// After an fsync confirmed part of a file, more appended bytes go up as an
// append (REST+STOR at the confirmed size) at the next close, not as a
// new stream from byte 0 that would truncate the confirmed bytes.
func TestNoStreamAfterAConfirmedUpload(t *testing.T) {
	var rests []string
	var mu sync.Mutex
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: func(cmd, param string) *ftptest.Action {
		if cmd == "REST" || cmd == "STOR" {
			mu.Lock()
			rests = append(rests, cmd+" "+param)
			mu.Unlock()
		}
		return nil
	}}})
	mnt := mountStreaming(t, s, s.Addr)
	data := randomBytes(10<<20, 11)
	f, err := os.Create(filepath.Join(mnt, "synced.bin"))
	if err != nil {
		t.Fatal(err)
	}
	writeUntilOnServer(t, f, data[:5<<20], filepath.Join(s.Dir, "synced.bin"))
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	checkServerFile(t, filepath.Join(s.Dir, "synced.bin"), data[:5<<20])
	finish(t, f, data[5<<20:], filepath.Join(s.Dir, "synced.bin"), data)
	mu.Lock()
	defer mu.Unlock()
	// The stream went to a temporary name renamed over the file at fsync;
	// the rest is an append to the file itself.
	want := []string{"REST 5242880", "STOR /synced.bin"}
	if len(rests) != 3 || !strings.HasPrefix(rests[0], "STOR /.synced.bin.ftpmount-") || fmt.Sprint(rests[1:]) != fmt.Sprint(want) {
		t.Fatalf("transfers %q, want a STOR to a temporary name, then %q", rests, want)
	}
}
