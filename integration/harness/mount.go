package harness

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Mount runs `bin SOURCE DIR [-o opts]` (ftpmount daemonizes and returns when the mount is ready)
// and checks that dir is then a FUSE mount. It returns the command's Result (the daemon's pid is
// not in it: find it with ProcessesMatching(dir)). On an error the caller still unmounts dir:
// the command may have mounted it after all.
func Mount(ctx context.Context, bin, source, dir string, opts ...string) (Result, error) {
	argv := []string{bin, source, dir}
	if len(opts) > 0 {
		argv = append(argv, "-o", strings.Join(opts, ","))
	}
	r := Run(ctx, "/", nil, argv...) // from /: a relative path in opts would be a mistake
	if r.Err != nil {
		return r, fmt.Errorf("mount: %v", r)
	}
	fstype, ok := MountEntry(dir)
	if !ok {
		return r, fmt.Errorf("ftpmount exited 0 but %s is not in /proc/mounts: %v", dir, r)
	}
	if !strings.HasPrefix(fstype, "fuse") {
		return r, fmt.Errorf("%s is mounted as %q, want a FUSE filesystem", dir, fstype)
	}
	return r, nil
}

// unmountTries is how often Unmount runs fusermount3 -u before it aborts the mount.
const unmountTries = 5

// Unmount unmounts dir with fusermount3 -u, retried (a process that just closed a file may
// still hold the mount busy for a moment). When the mount will not go, it is aborted (AbortFUSE)
// and lazily unmounted so that the caller can go on, and the error says so. A dir that is not
// mounted is no error. It neither waits for the daemon nor removes dir.
func Unmount(ctx context.Context, dir string) error {
	if !IsMounted(dir) {
		return nil
	}
	var r Result
	for range unmountTries {
		if r = Run(ctx, "/", nil, "fusermount3", "-u", dir); r.Err == nil || !IsMounted(dir) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !IsMounted(dir) {
		return nil
	}
	AbortFUSE(dir)
	Run(ctx, "/", nil, "fusermount3", "-u", "-z", dir)
	return fmt.Errorf("unmount: %v", r)
}

// MountEntry returns the filesystem type /proc/mounts lists for dir, and whether dir is a mount
// point.
func MountEntry(dir string) (fstype string, ok bool) {
	f, err := os.Open("/proc/mounts")
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && fields[1] == dir {
			fstype, ok = fields[2], true // the last entry is the one on top
		}
	}
	return fstype, ok
}

// IsMounted reports whether dir is a mount point.
func IsMounted(dir string) bool {
	_, ok := MountEntry(dir)
	return ok
}

// MountsUnder lists the mount points at or below dir.
func MountsUnder(dir string) []string {
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && (f[1] == dir || strings.HasPrefix(f[1], dir+"/")) {
			out = append(out, f[1])
		}
	}
	return out
}

// AbortFUSE aborts the FUSE connection behind the mount at dir (through the fusectl filesystem,
// mounted first if need be), which fails every request still waiting on it: the last resort that
// frees processes stuck in a hung mount.
func AbortFUSE(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 35 0:52 / /tmp/ftpmount-mnt-123 rw,... - fuse.ftpmount ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[4] != dir {
			continue
		}
		_, minor, _ := strings.Cut(fields[2], ":")
		const fusectl = "/sys/fs/fuse/connections"
		if _, err := os.Stat(filepath.Join(fusectl, minor)); err != nil {
			RunTimeout(10*time.Second, "/", nil, "mount", "-t", "fusectl", "fusectl", fusectl)
		}
		os.WriteFile(filepath.Join(fusectl, minor, "abort"), []byte("1"), 0o200)
	}
}
