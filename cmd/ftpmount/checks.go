package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Checks made before anything is mounted, each failing with one line that
// names the cause and the fix.

// checkMountpoint: p must be an existing directory on which no FUSE file
// system is mounted already (a second mount would silently hide the
// first; a dead one answers ENOTCONN).
func checkMountpoint(p string) error {
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, syscall.ENOTCONN):
		return fmt.Errorf("mount point %s: a dead FUSE mount is still there (run fusermount3 -u %s)", p, p)
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("mount point %s does not exist (create it with mkdir)", p)
	case err != nil:
		return fmt.Errorf("mount point %s: %v", p, err)
	case !st.IsDir():
		return fmt.Errorf("mount point %s is not a directory", p)
	}
	if src, fstype, ok := mountedAt(p); ok && strings.HasPrefix(fstype, "fuse") {
		return fmt.Errorf("mount point %s: %s is already mounted there (unmount it first: fusermount3 -u %s)", p, src, p)
	}
	return nil
}

// mountedAt looks p up in /proc/self/mountinfo: the source and type of the
// topmost mount at exactly p.
func mountedAt(p string) (source, fstype string, ok bool) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", "", false
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
		pre, post, found := strings.Cut(sc.Text(), " - ")
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if !found || len(fields) < 5 || len(tail) < 2 {
			continue
		}
		if unescapeMountinfo(fields[4]) == abs {
			source, fstype, ok = unescapeMountinfo(tail[1]), tail[0], true
		}
	}
	return source, fstype, ok
}

// unescapeMountinfo undoes the kernel's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%3o", &v); err == nil {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// checkDir: a directory option (spool_dir, recovery_dir) must name a
// directory this process can write; a missing one is created (mode 0700)
// when its parent exists.
func checkDir(option, p string) error {
	st, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(p, 0o700); err != nil {
			return fmt.Errorf("%s %s does not exist and cannot be created: %v", option, p, unwrapPath(err))
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s %s: %v", option, p, unwrapPath(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("%s %s is not a directory", option, p)
	}
	if err := syscall.Access(p, 0x2|0x1); /* W_OK|X_OK */ err != nil {
		return fmt.Errorf("%s %s is not writable: %v", option, p, err)
	}
	return nil
}

// unwrapPath drops the *PathError's repetition of the path.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
