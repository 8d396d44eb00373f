package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// makeFixtures writes the server's files (then hands them to harness.User) and the local cp source.
func (b *bench) makeFixtures() error {
	files := []struct {
		name string
		size int64
		seed uint64
	}{{"big.bin", b.sz.big, 1}, {"mid.bin", b.sz.mid, 2}, {"huge.bin", b.sz.huge, 3}}
	for _, f := range files {
		if err := genFile(filepath.Join(b.data, f.name), f.size, f.seed); err != nil {
			return err
		}
	}
	dir := filepath.Join(b.data, "dir10k")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for i := range b.sz.dirEntries {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("entry-%05d.txt", i)), fmt.Appendf(nil, "entry %d\n", i), 0o644); err != nil {
			return err
		}
	}
	for d := range b.sz.treeDirs {
		sub := filepath.Join(b.data, "tree", fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		for f := range b.sz.treeFiles {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%02d.txt", f)), fmt.Appendf(nil, "file %d/%d\n", d, f), 0o644); err != nil {
				return err
			}
		}
	}
	if err := os.Mkdir(filepath.Join(b.data, "up"), 0o755); err != nil {
		return err
	}
	// Each huge directory in a parent of its own: listing one must not
	// prefetch the other (cache/prefetch.go lists sibling directories).
	for _, h := range []struct {
		name string
		n    int
	}{{"huge1", b.sz.huge1}, {"huge2", b.sz.huge2}} {
		if !b.selected(h.name) {
			continue
		}
		dir := filepath.Join(b.data, h.name, "d")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for i := range h.n {
			f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("entry-%07d.txt", i)), os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			f.Close()
		}
	}
	err := filepath.WalkDir(b.data, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(b.account.Uid), int(b.account.Gid))
	})
	if err != nil {
		return err
	}

	// Local small files for cp -r: 1-64 KiB, seeded.
	b.cpSrc = filepath.Join(b.work, "cpsrc")
	if err := os.Mkdir(b.cpSrc, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range b.sz.cpFiles {
		buf := make([]byte, 1024+rng.IntN(63*1024))
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		if err := os.WriteFile(filepath.Join(b.cpSrc, fmt.Sprintf("small-%03d.dat", i)), buf, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// genFile writes size bytes: a random 1 MiB block (seeded ChaCha8) repeated, with the first 8 bytes
// of every 4 KiB page replaced by the page's number, so that no two pages are alike. Fast (disk speed).
func genFile(path string, size int64, seed uint64) error {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	block := make([]byte, 1<<20)
	rand.NewChaCha8(key).Read(block)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 4<<20)
	buf := make([]byte, len(block))
	var page uint64
	for off := int64(0); off < size; off += int64(len(buf)) {
		copy(buf, block)
		for p := 0; p < len(buf); p += 4096 {
			binary.LittleEndian.PutUint64(buf[p:], page^seed<<56)
			page++
		}
		n := int64(len(buf))
		if size-off < n {
			n = size - off
		}
		if _, err := w.Write(buf[:n]); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
