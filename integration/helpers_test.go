package integration

// The tests' side of the harness (package harness starts the servers and runs the mounts): each
// helper here wraps one harness call for a test, turning its error into t.Fatal, its cleanup into
// t.Cleanup, and FTPMOUNT_SERVERS into skips.

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// ftpServer is a running server private to one test (see startServer).
type ftpServer struct{ *harness.Server }

// suiteServerKinds are the kinds forEachServer runs the shared suites (TestHarness, TestRead,
// TestWrite, TestNamespace, TestTools, TestLargeFile) on when FTPMOUNT_SERVERS does not choose:
// the plain servers and their explicit-TLS twins. The implicit kinds differ from those only in how
// the control connection starts: TestTLS* tests them (see forEachServerOf). TestInetdServers runs
// the suites that apply to the inetd kinds.
var suiteServerKinds = slices.Concat(harness.PlainKinds, harness.TLSKinds)

// selectedServers returns the kinds FTPMOUNT_SERVERS names (see harness.Select), or nil when it
// does not choose. An unknown name fails the test.
func selectedServers(t *testing.T) []string {
	t.Helper()
	env := os.Getenv("FTPMOUNT_SERVERS")
	kinds, err := harness.Select(env)
	if err != nil {
		t.Fatalf("FTPMOUNT_SERVERS=%q: %v", env, err)
	}
	return kinds
}

// serverSelected tells whether FTPMOUNT_SERVERS lets tests run on kind.
func serverSelected(t *testing.T, kind string) bool {
	t.Helper()
	sel := selectedServers(t)
	return sel == nil || slices.Contains(sel, kind)
}

// forEachServer runs test as a parallel subtest named after each server kind of the shared suites:
// the kinds FTPMOUNT_SERVERS names, else suiteServerKinds.
func forEachServer(t *testing.T, test func(t *testing.T, kind string)) {
	t.Helper()
	kinds := selectedServers(t)
	if kinds == nil {
		kinds = suiteServerKinds
	}
	runKinds(t, kinds, test)
}

// forEachServerOf runs test as a parallel subtest named after each of kinds that FTPMOUNT_SERVERS
// lets run (all of them when it does not choose).
func forEachServerOf(t *testing.T, kinds []string, test func(t *testing.T, kind string)) {
	t.Helper()
	var run []string
	for _, k := range kinds {
		if serverSelected(t, k) {
			run = append(run, k)
		}
	}
	if len(run) == 0 {
		t.Skipf("FTPMOUNT_SERVERS=%s selects none of %s", os.Getenv("FTPMOUNT_SERVERS"), strings.Join(kinds, ","))
	}
	runKinds(t, run, test)
}

func runKinds(t *testing.T, kinds []string, test func(t *testing.T, kind string)) {
	t.Helper()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			test(t, kind)
		})
	}
}

// startVsftpd starts a private vsftpd; see startServer.
func startVsftpd(t *testing.T) *ftpServer {
	t.Helper()
	return startServer(t, "vsftpd")
}

// startServer starts a server of the given kind (harness.Launch) serving a fresh directory under
// harness.Home, and stops it in Cleanup, showing the end of its logs if the test failed. A kind
// FTPMOUNT_SERVERS leaves out skips the test, and so does a missing server (a failure under
// CI=true: see requireEnv).
func startServer(t *testing.T, kind string) *ftpServer {
	t.Helper()
	return startServerWith(t, kind, nil)
}

// startServerWith is startServer with adjust, when not nil, changing the launch options (the
// certificate, say) first.
func startServerWith(t *testing.T, kind string, adjust func(o *harness.Options)) *ftpServer {
	t.Helper()
	if !harness.Known(kind) {
		t.Fatalf("unknown server kind %q (known: %s)", kind, strings.Join(harness.Kinds, ", "))
	}
	if !serverSelected(t, kind) {
		t.Skipf("%s is not in FTPMOUNT_SERVERS=%s", kind, os.Getenv("FTPMOUNT_SERVERS"))
	}
	requireEnv(t, harness.Tools(kind)...)
	data, err := harness.NewDataDir("t-" + kind + "-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	opts := harness.Options{DataDir: data, Dir: t.TempDir()}
	if harness.IsTLS(kind) {
		opts.PKI = testPKI(t)
	}
	if adjust != nil {
		adjust(&opts)
	}
	s, err := harness.Launch(context.Background(), kind, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s on %s:\n%s", kind, s.Addr, s.LogTails(60))
		}
	})
	return &ftpServer{s}
}

// sh runs a bash script in dir as the FTP user, the way the server itself would create files, so
// that the server can later rename or delete them. It returns stdout; a failure fails the test.
func (s *ftpServer) sh(t *testing.T, dir, script string) string {
	t.Helper()
	return mustRun(t, cmdTimeout, dir, s.Cred, script)
}

// signal sends sig to every process of the server (the listener and its sessions).
func (s *ftpServer) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := s.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// The test certificates, made once per test binary (testPKI) and removed by TestMain.
var (
	pkiOnce sync.Once
	pkiDir  string
	pkiVal  *harness.PKI
	pkiErr  error
)

// testPKI returns the test certificates (harness.MakePKI), making them on first use.
func testPKI(t *testing.T) *harness.PKI {
	t.Helper()
	pkiOnce.Do(func() {
		pkiDir, pkiErr = os.MkdirTemp("", "ftpmount-pki-")
		if pkiErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		defer cancel()
		pkiVal, pkiErr = harness.MakePKI(ctx, pkiDir)
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiVal
}

// removePKI removes what testPKI made; TestMain calls it after the tests.
func removePKI() {
	if pkiDir != "" {
		os.RemoveAll(pkiDir)
	}
}

// dirCacheFast makes server-side changes show through the mount within 2 s; the tests that create
// fixtures on the server side wait for them (up to visibleWithin).
const dirCacheFast = "dir_cache=2"

// exitWithin bounds how long the ftpmount daemon may take to exit once unmounted (or after a
// failed mount): a bound against hanging, not a performance check.
const exitWithin = 10 * time.Second

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

// mount mounts srv on a fresh directory with the -o options it needs (srv.MountOptions: the test
// CA for TLS kinds) and the given ones, and unmounts it in Cleanup.
func mount(t *testing.T, srv *ftpServer, opts ...string) *mountPoint {
	t.Helper()
	return mountSource(t, srv.URL(), append(srv.MountOptions(), opts...)...)
}

// mountSource mounts source on a fresh directory with the given -o options and unmounts it in
// Cleanup.
func mountSource(t *testing.T, source string, opts ...string) *mountPoint {
	t.Helper()
	return mountAt(t, source, newMountDir(t), opts...)
}

// mountAt mounts source on dir (harness.Mount) with the given -o options and unmounts it in
// Cleanup.
func mountAt(t *testing.T, source, dir string, opts ...string) *mountPoint {
	t.Helper()
	m := &mountPoint{Dir: dir}
	t.Cleanup(func() { m.unmount(t) })
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	if _, err := harness.Mount(ctx, binary(t), source, dir, opts...); err != nil {
		t.Fatal(err)
	}
	return m
}

// newMountDir makes an empty directory to mount on; the mount's cleanup removes it. It is not a
// t.TempDir: removing a still-mounted directory recursively would delete the server's files.
func newMountDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ftpmount-mnt-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// unmount unmounts (harness.Unmount), then checks that the ftpmount daemon has exited and removes
// the empty directory. A mount that will not go, or a daemon that stays, fails the test.
func (m *mountPoint) unmount(t *testing.T) {
	t.Helper()
	if m.done {
		return
	}
	m.done = true
	ctx, cancel := context.WithTimeout(context.Background(), 2*cmdTimeout)
	defer cancel()
	if err := harness.Unmount(ctx, m.Dir); err != nil {
		t.Error(err)
	}
	if left := harness.WaitNoProcess(m.Dir, exitWithin); len(left) > 0 {
		t.Errorf("after unmounting %s, still running: %v", m.Dir, left)
		harness.KillMatching(m.Dir)
	}
	if !harness.IsMounted(m.Dir) {
		os.Remove(m.Dir)
	}
}

// mountFailTimeout bounds how long a mount that must fail may take to say so.
const mountFailTimeout = 30 * time.Second

// mountFails runs ftpmount SOURCE DIR [-o opts], which must fail: non-zero exit within
// mountFailTimeout, something on stderr, nothing mounted on dir, no process left. It returns
// stderr.
func mountFails(t *testing.T, source, dir string, opts ...string) string {
	t.Helper()
	m := &mountPoint{Dir: dir}
	t.Cleanup(func() { m.unmount(t) }) // in case it mounted after all
	r := runFtpmount(t, mountFailTimeout, source, dir, opts...)
	switch {
	case r.TimedOut:
		t.Fatalf("still running after %v: %v", mountFailTimeout, r)
	case r.Err == nil:
		t.Fatalf("exited 0, want a failure: %v", r)
	}
	t.Logf("ftpmount failed as it should: %v; stderr: %q", r.Err, r.Stderr)
	if strings.TrimSpace(r.Stderr) == "" {
		t.Errorf("nothing on stderr: %v", r)
	}
	if harness.IsMounted(dir) {
		t.Errorf("%s is mounted though ftpmount failed", dir)
	}
	if left := harness.WaitNoProcess(dir, exitWithin); len(left) > 0 {
		t.Errorf("ftpmount failed but left processes running: %v", left)
	}
	return r.Stderr
}

// fixture is a private FTP server mounted by ftpmount.
type fixture struct {
	srv *ftpServer
	mnt *mountPoint
}

// newFixture starts a server of the given kind (see harness.Kinds) and mounts it with the given
// -o options.
func newFixture(t *testing.T, kind string, opts ...string) *fixture {
	t.Helper()
	srv := startServer(t, kind)
	return &fixture{srv: srv, mnt: mount(t, srv, opts...)}
}

// caseDir is one subtest's directory, as the mount shows it (Mnt) and on the server's disk (Srv).
type caseDir struct {
	Mnt string
	Srv string
}

// dir makes the subtest's own directory on the server side, runs setup in it as the FTP user (so
// the server may change what it creates), and waits until the directory shows through the mount.
func (f *fixture) dir(t *testing.T, setup string) caseDir {
	t.Helper()
	name := filepath.Base(t.Name())
	c := caseDir{Mnt: filepath.Join(f.mnt.Dir, name), Srv: filepath.Join(f.srv.DataDir, name)}
	f.srv.sh(t, f.srv.DataDir, "mkdir -- "+q(name))
	if setup != "" {
		f.srv.sh(t, c.Srv, setup)
	}
	eventually(t, "the server-side directory "+name+" to show through the mount", func() (bool, string) {
		r := try(cmdTimeout, f.mnt.Dir, "test -d "+q(name))
		return r.Err == nil, r.String()
	})
	return c
}

// serverPath is rel inside the subtest's directory on the server's disk.
func (c caseDir) serverPath(rel string) string {
	return filepath.Join(c.Srv, rel)
}

// serverBytes reads rel from the server's disk.
func (c caseDir) serverBytes(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(c.serverPath(rel))
	if err != nil {
		t.Fatalf("server side: %v", err)
	}
	return b
}
