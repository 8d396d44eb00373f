package integration

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFsx is an fsx-style test of our own: random writes, appends, truncates, reads, mmap reads,
// fsyncs, closes and reopens of one file through the mount, each checked against a shadow copy in
// memory; after every close the server's disk must hold the shadow exactly. It runs in each mode
// of replacing a file: the default (temporary name), atomic (appends too) and inplace, and with
// -o writeback, where close returns before the upload: there half the closes are followed by an
// fsync(2) through a read-only descriptor (which waits for the server) and the check, the other
// half go straight on, so that the next open, truncate and writes meet the upload of the version
// before; the last close is always checked.
func TestFsx(t *testing.T) {
	t.Parallel()
	ops := map[string]int{"vsftpd": 10_000, "pure-ftpd": 3_000, "proftpd": 3_000}
	forEachServerOf(t, safetyKinds, func(t *testing.T, kind string) {
		srv := startServer(t, kind)
		for _, mode := range []string{"default", "atomic", "inplace", "writeback"} {
			t.Run(mode, func(t *testing.T) {
				opts := []string{dirCacheFast}
				if mode != "default" {
					opts = append(opts, mode)
				}
				n := ops[kind]
				if mode == "writeback" {
					n = min(n, 3_000)
				}
				f := &fixture{srv: srv, mnt: mount(t, srv, opts...)}
				c := f.dir(t, "")
				fsx(t, c, n, uint64(len(mode)), mode == "writeback")
			})
		}
	})
}

// fsxMax bounds the file's size: large enough for several kernel pages and write sizes, small
// enough that each close's upload is quick.
const fsxMax = 384 << 10

func fsx(t *testing.T, c caseDir, n int, seed uint64, writeback bool) {
	rng := rand.New(rand.NewPCG(seed, 42))
	name := filepath.Join(c.Mnt, "fsx.bin")
	var shadow []byte
	var f *os.File
	var err error
	open := func(flags int) {
		if f, err = os.OpenFile(name, flags, 0o644); err != nil {
			t.Fatalf("open: %v", err)
		}
	}
	check := func(op int, what string, got, want []byte) {
		if !bytes.Equal(got, want) {
			t.Fatalf("op %d (%s): %s", op, what, diffBytes(got, want))
		}
	}
	closeAndCompare := func(op int, last bool) {
		if err := f.Close(); err != nil {
			t.Fatalf("op %d: close: %v", op, err)
		}
		f = nil
		if writeback {
			if !last && rng.IntN(2) == 0 {
				return // the upload runs on while the file is opened and written again
			}
			r, err := os.Open(name)
			if err != nil {
				t.Fatalf("op %d: open to sync: %v", op, err)
			}
			err = r.Sync()
			r.Close()
			if err != nil {
				t.Fatalf("op %d: fsync after a write-back close: %v", op, err)
			}
		}
		check(op, "the server's copy after close", c.serverBytes(t, "fsx.bin"), shadow)
	}
	open(os.O_RDWR | os.O_CREATE | os.O_TRUNC)
	for op := range n {
		if f == nil {
			flags := os.O_RDWR
			if rng.IntN(10) == 0 {
				flags |= os.O_TRUNC
				shadow = shadow[:0]
			}
			open(flags)
		}
		switch k := rng.IntN(100); {
		case k < 30: // write somewhere
			off := rng.IntN(fsxMax - 1)
			data := randomBytesN(rng, 1+rng.IntN(min(64<<10, fsxMax-off)))
			if _, err := f.WriteAt(data, int64(off)); err != nil {
				t.Fatalf("op %d: write %d at %d: %v", op, len(data), off, err)
			}
			if end := off + len(data); end > len(shadow) {
				shadow = append(shadow, make([]byte, end-len(shadow))...)
			}
			copy(shadow[off:], data)
		case k < 45: // append
			if len(shadow) >= fsxMax {
				continue
			}
			data := randomBytesN(rng, 1+rng.IntN(min(16<<10, fsxMax-len(shadow))))
			if _, err := f.WriteAt(data, int64(len(shadow))); err != nil {
				t.Fatalf("op %d: append: %v", op, err)
			}
			shadow = append(shadow, data...)
		case k < 53: // truncate, shorter or longer
			size := rng.IntN(fsxMax)
			if err := f.Truncate(int64(size)); err != nil {
				t.Fatalf("op %d: truncate %d: %v", op, size, err)
			}
			if size < len(shadow) {
				shadow = shadow[:size]
			} else {
				shadow = append(shadow, make([]byte, size-len(shadow))...)
			}
		case k < 75: // read a range
			if len(shadow) == 0 {
				continue
			}
			off := rng.IntN(len(shadow))
			got := make([]byte, 1+rng.IntN(len(shadow)-off))
			m, err := f.ReadAt(got, int64(off))
			if err != nil && m != len(got) {
				t.Fatalf("op %d: read %d at %d: %d, %v", op, len(got), off, m, err)
			}
			check(op, fmt.Sprintf("read %d at %d", len(got), off), got[:m], shadow[off:off+len(got)])
		case k < 82: // read all through mmap
			if len(shadow) == 0 {
				continue
			}
			m, err := syscall.Mmap(int(f.Fd()), 0, len(shadow), syscall.PROT_READ, syscall.MAP_SHARED)
			if err != nil {
				t.Fatalf("op %d: mmap: %v", op, err)
			}
			got := bytes.Clone(m)
			syscall.Munmap(m)
			check(op, "mmap", got, shadow)
		case k < 87: // size
			if fi, err := f.Stat(); err != nil || fi.Size() != int64(len(shadow)) {
				t.Fatalf("op %d: fstat: %v, size %d, want %d", op, err, fi.Size(), len(shadow))
			}
		case k < 90:
			if err := f.Sync(); err != nil {
				t.Fatalf("op %d: fsync: %v", op, err)
			}
			check(op, "the server's copy after fsync", c.serverBytes(t, "fsx.bin"), shadow)
		default:
			closeAndCompare(op, false)
		}
	}
	if f != nil {
		closeAndCompare(n, true)
	} else if writeback {
		open(os.O_RDONLY)
		closeAndCompare(n, true)
	}
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	check(n, "read back through the mount", got, shadow)
}

func randomBytesN(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}
