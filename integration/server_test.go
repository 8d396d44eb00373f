package integration

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ftpServer is a running FTP server private to one test, of one of serverKinds: its own control
// port and passive range on 127.0.0.1, its own configuration in a t.TempDir and its own data
// directory under ftpHome, owned by the FTP user. All kinds let ftpUser log in with ftpPassword
// and create files as that user. The TLS kinds (see tlsKind) require TLS on the control and data
// connections and present a certificate signed by the test CA (testPKI): ftpURL is ftps:// for
// them, and mount trusts that CA with -o cafile.
type ftpServer struct {
	Kind    string // a key of serverStarters
	Addr    string // 127.0.0.1:PORT, the control connection
	DataDir string // what the FTP root "/" (or URLPath) is on disk; owned by User
	// URLPath is DataDir as the path of an ftp:// URL, relative to the login directory (RFC
	// 1738), for servers that do not chroot (inetd_test.go); "" for those that do.
	URLPath  string
	User     string
	Password string

	TLS        bool   // FTPS required: control and data connections are protected
	Implicit   bool   // implicit FTPS: TLS from the first byte (else AUTH TLS)
	CAFile     string // the CA (PEM) that signed the server's certificate, for -o cafile
	TLSVersion string // what the harness's login check negotiated ("TLS 1.3"): what ftpmount gets

	cred      *syscall.Credential // User's ids, to make server-side files as the server itself would
	logFiles  []string            // the server's protocol and error logs, shown when the test fails
	cert      serverCert          // the certificate and key a TLS kind serves
	tlsName   string              // the name the harness checks the certificate against; default: Addr's host
	extraConf string              // lines added to the server's configuration (vsftpd only)
	procMatch string              // a string unique to the command lines of the server's processes
}

// The server kinds. Each plain kind has a TLS twin, KIND-tls: the same server requiring explicit
// FTPS (AUTH TLS) on control and data connections, with data connections that must resume the
// control connection's TLS session where the server can demand it (vsftpd's require_ssl_reuse,
// proftpd's default). vsftpd and proftpd also run as KIND-tls-implicit: implicit FTPS (TLS from
// the first byte, mounted with -o implicit_tls); pure-ftpd and pyftpdlib cannot.
var (
	plainServerKinds    = []string{"vsftpd", "proftpd", "pure-ftpd", "pyftpdlib"}
	tlsServerKinds      = []string{"vsftpd-tls", "proftpd-tls", "pure-ftpd-tls", "pyftpdlib-tls"}
	implicitServerKinds = []string{"vsftpd-tls-implicit", "proftpd-tls-implicit"}
	// inetdServerKinds are old Unix servers run under a super-server (inetd_test.go): they do not
	// chroot and cannot set times. TestInetdServers runs the suites that apply to them.
	inetdServerKinds = []string{"inetutils-ftpd", "netkit-ftpd"}
)

// serverKinds are all the kinds, in order.
var serverKinds = slices.Concat(plainServerKinds, tlsServerKinds, implicitServerKinds, inetdServerKinds)

// suiteServerKinds are the kinds forEachServer runs the shared suites (TestHarness, TestRead,
// TestWrite, TestNamespace, TestTools, TestLargeFile) on when FTPMOUNT_SERVERS does not choose:
// the plain servers and their explicit-TLS twins. The implicit kinds differ from those only in how
// the control connection starts: TestTLS* tests them (see forEachServerOf).
var suiteServerKinds = slices.Concat(plainServerKinds, tlsServerKinds)

// serverGroups are names FTPMOUNT_SERVERS accepts for several kinds at once.
var serverGroups = map[string][]string{
	"plain":    plainServerKinds,
	"tls":      slices.Concat(tlsServerKinds, implicitServerKinds),
	"explicit": tlsServerKinds,
	"implicit": implicitServerKinds,
	"inetd":    inetdServerKinds,
}

// serverStarters start one kind of server process on fresh ports (s.DataDir, s.cred and the
// credentials are set, and for TLS kinds s.TLS, s.Implicit, s.CAFile and s.cert), set s.Addr and
// register its stop with t.Cleanup. They return an error mentioning "bind" or "in use" when a port
// was taken meanwhile, and startServer tries again.
var serverStarters = map[string]func(t *testing.T, s *ftpServer) error{
	"vsftpd":               startVsftpdProcess,
	"proftpd":              startProftpdProcess,
	"pure-ftpd":            startPureftpdProcess,
	"pyftpdlib":            startPyftpdlibProcess,
	"vsftpd-tls":           startVsftpdProcess,
	"proftpd-tls":          startProftpdProcess,
	"pure-ftpd-tls":        startPureftpdProcess,
	"pyftpdlib-tls":        startPyftpdlibProcess,
	"inetutils-ftpd":       startInetdProcess,
	"netkit-ftpd":          startInetdProcess,
	"vsftpd-tls-implicit":  startVsftpdProcess,
	"proftpd-tls-implicit": startProftpdProcess,
}

// serverTools are the files each kind needs, beyond requireEnv's (openssl for the TLS kinds, which
// make their certificates with it).
var serverTools = map[string][]string{
	"vsftpd":         {"vsftpd"},
	"proftpd":        {proftpdBin},
	"pure-ftpd":      {pureftpdBin, purePwBin},
	"pyftpdlib":      {pythonWithPyftpdlib},
	"inetutils-ftpd": {"tcpserver", inetutilsFtpdBin},
	"netkit-ftpd":    {"tcpserver", netkitFtpdBin},
}

// baseKind is the server program a kind runs: "vsftpd" for "vsftpd-tls-implicit".
func baseKind(kind string) string {
	base, _, _ := strings.Cut(kind, "-tls")
	return base
}

// tlsKind tells the kinds that require FTPS; implicitKind those that speak TLS from the first byte.
func tlsKind(kind string) bool      { return strings.Contains(kind, "-tls") }
func implicitKind(kind string) bool { return strings.HasSuffix(kind, "-tls-implicit") }

// serversDir is where scripts/install-deps.sh unpacks the servers that conflict with vsftpd as
// Debian packages.
const serversDir = "/opt/ftpmount-servers"

// selectedServers returns the kinds FTPMOUNT_SERVERS names, in its order, or nil when it is unset,
// empty or "all" (no choice: every kind may run). Besides kinds it takes the names of
// serverGroups ("tls", "plain", ...). An unknown name fails the test: a typo must not make a run
// test nothing.
func selectedServers(t *testing.T) []string {
	t.Helper()
	env := strings.TrimSpace(os.Getenv("FTPMOUNT_SERVERS"))
	if env == "" || env == "all" {
		return nil
	}
	var kinds []string
	for _, name := range strings.FieldsFunc(env, func(r rune) bool { return r == ',' || r == ' ' }) {
		group, ok := serverGroups[name]
		if !ok {
			if _, ok := serverStarters[name]; !ok {
				t.Fatalf("FTPMOUNT_SERVERS=%q: unknown server %q (known: %s, and the groups %s)", env, name,
					strings.Join(serverKinds, ","), strings.Join(slices.Sorted(maps.Keys(serverGroups)), ","))
			}
			group = []string{name}
		}
		for _, k := range group {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
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

// startServer starts a server of the given kind on a free control port and passive range,
// serving a fresh directory under ftpHome, checks that the test user can log in, and stops it in
// Cleanup, showing the end of its logs if the test failed. A kind FTPMOUNT_SERVERS leaves out
// skips the test.
func startServer(t *testing.T, kind string) *ftpServer {
	t.Helper()
	return startServerWith(t, kind, nil)
}

// startServerWith is startServer with adjust, when not nil, changing the server's settings (its
// certificate, say) before it starts.
func startServerWith(t *testing.T, kind string, adjust func(s *ftpServer)) *ftpServer {
	t.Helper()
	if _, ok := serverStarters[kind]; !ok {
		t.Fatalf("unknown server kind %q (known: %s)", kind, strings.Join(serverKinds, ", "))
	}
	if !serverSelected(t, kind) {
		t.Skipf("%s is not in FTPMOUNT_SERVERS=%s", kind, os.Getenv("FTPMOUNT_SERVERS"))
	}
	tools := serverTools[baseKind(kind)]
	if tlsKind(kind) {
		tools = append(slices.Clip(tools), "openssl")
	}
	requireEnv(t, tools...)
	u, err := user.Lookup(ftpUser)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	data, err := os.MkdirTemp(ftpHome, "t-"+kind+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(data, uid, gid); err != nil {
		t.Fatal(err)
	}
	s := &ftpServer{
		Kind:     kind,
		DataDir:  data,
		User:     ftpUser,
		Password: ftpPassword,
		cred:     &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)},
	}
	if tlsKind(kind) {
		s.TLS, s.Implicit = true, implicitKind(kind)
		p := testPKI(t)
		s.CAFile, s.cert = p.CA, p.Server
	}
	if adjust != nil {
		adjust(s)
	}
	// The ports are free when picked but may be taken before the server binds them: retry then.
	for attempt := 1; ; attempt++ {
		s.logFiles = nil
		err := serverStarters[kind](t, s)
		if err == nil {
			break
		}
		if attempt == 5 || !(strings.Contains(err.Error(), "bind") || strings.Contains(err.Error(), "in use")) {
			t.Fatalf("%s: %v", kind, err)
		}
	}
	// A server that limits connections per address (extraConf) may still count the greeting
	// check's connection for a moment: its 421 is retried.
	err = s.checkLogin()
	for deadline := time.Now().Add(5 * time.Second); err != nil && strings.Contains(err.Error(), "421") && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		err = s.checkLogin()
	}
	if err != nil {
		hint := ""
		if baseKind(kind) == "vsftpd" {
			hint = "\n(PAM: /etc/pam.d/vsftpd denies users in /etc/ftpusers and shells missing from /etc/shells; " +
				"scripts/install-deps.sh sets the account up)"
		}
		t.Fatalf("%s on %s runs, but %s cannot log in: %v%s\n%s", kind, s.Addr, s.User, err, hint, s.logTails())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s on %s:\n%s", kind, s.Addr, s.logTails())
		}
	})
	return s
}

// logTails returns the last lines of each of the server's logs.
func (s *ftpServer) logTails() string {
	var b strings.Builder
	for _, f := range s.logFiles {
		fmt.Fprintf(&b, "%s %s, last lines:\n%s\n", s.Kind, filepath.Base(f), tail(f, 60))
	}
	return b.String()
}

// launch runs cmd (a server that stays in the foreground) in a process group of its own, waits
// until it greets with 220 on s.Addr (see s.greets), and registers with t.Cleanup a stop that
// kills the server with every process it started. When the server exits first, the error quotes
// the end of startupLog, where it writes its start-up errors. match is a string unique to this
// server's command line (its configuration file, say), to find session processes that left its
// group and were orphaned.
func (s *ftpServer) launch(t *testing.T, cmd *exec.Cmd, startupLog, match string) error {
	t.Helper()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	s.procMatch = match
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		select {
		case <-exited:
			// It died by itself and was reaped: its pid and group may be someone else's now.
		default:
			killTree(cmd.Process.Pid)
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		killMatching(match)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("exited at start-up (%v): %s", err, strings.TrimSpace(tail(startupLog, 20)))
		default:
		}
		if s.greets() {
			t.Cleanup(stop)
			return nil
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("no 220 greeting on %s after 15 s: %s", s.Addr, strings.TrimSpace(tail(startupLog, 20)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killTree stops the process root and all its descendants, then kills them all: servers fork a
// process per session, and some of those leave the server's process group.
func killTree(root int) {
	tree := map[int]bool{root: true}
	syscall.Kill(root, syscall.SIGSTOP)
	for grown := true; grown; {
		grown = false
		for pid, ppid := range parentPIDs() {
			if tree[ppid] && !tree[pid] {
				tree[pid] = true
				syscall.Kill(pid, syscall.SIGSTOP) // no more forks
				grown = true
			}
		}
	}
	for pid := range tree {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// parentPIDs maps each running process to its parent, from /proc.
func parentPIDs() map[int]int {
	parents := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			parents[pid] = ppid
		}
	}
	return parents
}

// openLog creates (truncating) a log file for a server's output.
func openLog(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
}

// sh runs a bash script in dir as the FTP user, the way the server itself would create files, so
// that the server can later rename or delete them. It returns stdout; a failure fails the test.
func (s *ftpServer) sh(t *testing.T, dir, script string) string {
	t.Helper()
	return mustRun(t, cmdTimeout, dir, s.cred, script)
}
