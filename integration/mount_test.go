package integration

import (
	"os"
	"strings"
	"testing"
	"time"
)

// dirCacheFast makes server-side changes show through the mount within 2 s; the tests that create
// fixtures on the server side wait for them (up to visibleWithin).
const dirCacheFast = "dir_cache=2"

// mountPoint is a directory where ftpmount runs, daemonized.
type mountPoint struct {
	Dir  string
	done bool // unmounted and checked
}

// runFtpmount runs `ftpmount SOURCE MOUNTPOINT [-o opts]` and returns when the command has exited:
// on success, after the mount is ready and the daemon has detached.
func runFtpmount(t *testing.T, timeout time.Duration, source, dir string, opts ...string) result {
	t.Helper()
	argv := []string{binary(t), source, dir}
	if len(opts) > 0 {
		argv = append(argv, "-o", strings.Join(opts, ","))
	}
	return command(timeout, "/", nil, argv...)
}

// mount mounts srv on a fresh directory with the -o options it needs (srv.mountOptions: the test CA
// for TLS kinds) and the given ones, and unmounts it in Cleanup.
func mount(t *testing.T, srv *ftpServer, opts ...string) *mountPoint {
	t.Helper()
	return mountSource(t, srv.ftpURL(), append(srv.mountOptions(), opts...)...)
}

// mountSource mounts source on a fresh directory with the given -o options and unmounts it in
// Cleanup. The directory is not a t.TempDir: removing a still-mounted directory recursively would
// delete the server's files.
func mountSource(t *testing.T, source string, opts ...string) *mountPoint {
	t.Helper()
	dir, err := os.MkdirTemp("", "ftpmount-mnt-")
	if err != nil {
		t.Fatal(err)
	}
	m := &mountPoint{Dir: dir}
	t.Cleanup(func() { m.unmount(t) })
	r := runFtpmount(t, cmdTimeout, source, dir, opts...)
	if r.err != nil {
		t.Fatalf("mount: %v", r)
	}
	fstype, ok := mountEntry(dir)
	if !ok {
		t.Fatalf("ftpmount exited 0 but %s is not in /proc/mounts: %v", dir, r)
	}
	if !strings.HasPrefix(fstype, "fuse") {
		t.Fatalf("%s is mounted as %q, want a FUSE filesystem", dir, fstype)
	}
	return m
}

// unmount unmounts with fusermount3 -u (retried: a process that just closed a file may still hold
// the mount busy for a moment), then checks that the ftpmount daemon has exited and removes the
// empty directory. When the mount will not go, it is aborted and lazily unmounted so that the
// run can continue, and the test fails.
func (m *mountPoint) unmount(t *testing.T) {
	t.Helper()
	if m.done {
		return
	}
	m.done = true
	if isMounted(m.Dir) {
		var r result
		for range 5 {
			if r = command(cmdTimeout, "/", nil, "fusermount3", "-u", m.Dir); r.err == nil {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
		if isMounted(m.Dir) {
			t.Errorf("unmount: %v", r)
			abortFUSE(m.Dir)
			command(cmdTimeout, "/", nil, "fusermount3", "-u", "-z", m.Dir)
		}
	}
	if left := waitNoProcess(m.Dir, exitWithin); len(left) > 0 {
		t.Errorf("after unmounting %s, still running: %v", m.Dir, left)
		killMatching(m.Dir)
	}
	if !isMounted(m.Dir) {
		os.Remove(m.Dir)
	}
}

// exitWithin bounds how long the ftpmount daemon may take to exit once unmounted (or after a
// failed mount): a bound against hanging, not a performance check.
const exitWithin = 10 * time.Second

// waitNoProcess waits (up to limit) until no process mentions dir in its
// command line, and returns the ones still there.
func waitNoProcess(dir string, limit time.Duration) []process {
	deadline := time.Now().Add(limit)
	for {
		left := processesMatching(dir)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(100 * time.Millisecond)
	}
}
