package integration

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// mountEntry returns the filesystem type /proc/mounts lists for dir, and whether dir is a mount point.
func mountEntry(dir string) (fstype string, ok bool) {
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

func isMounted(dir string) bool {
	_, ok := mountEntry(dir)
	return ok
}

// abortFUSE aborts the FUSE connection behind the mount at dir (through the fusectl filesystem),
// which fails every request still waiting on it: the last resort that frees processes stuck in a
// hung mount so that the test run can end.
func abortFUSE(dir string) {
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
			command(cmdTimeout, "/", nil, "mount", "-t", "fusectl", "fusectl", fusectl)
		}
		os.WriteFile(filepath.Join(fusectl, minor, "abort"), []byte("1"), 0o200)
	}
}
