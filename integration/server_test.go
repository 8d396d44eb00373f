package integration

import (
	"fmt"
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
// and create files as that user. A TLS variant would add its certificate here, for its starter
// to configure and for ftpURL and mount to pass on.
type ftpServer struct {
	Kind     string // a key of serverStarters
	Addr     string // 127.0.0.1:PORT, the control connection
	DataDir  string // what the FTP root "/" is on disk; owned by User
	User     string
	Password string

	cred     *syscall.Credential // User's ids, to make server-side files as the server itself would
	logFiles []string            // the server's protocol and error logs, shown when the test fails
}

// serverKinds are the servers tests run on, in order. FTPMOUNT_SERVERS (comma-separated) selects
// some of them; tests on the others skip.
var serverKinds = []string{"vsftpd", "proftpd", "pure-ftpd", "pyftpdlib"}

// serverStarters start one kind of server process on fresh ports (s.Addr, s.DataDir, s.cred and
// the credentials are set) and register its stop with t.Cleanup. They return an error mentioning
// "bind" or "in use" when a port was taken meanwhile, and startServer tries again.
var serverStarters = map[string]func(t *testing.T, s *ftpServer) error{
	"vsftpd":    startVsftpdProcess,
	"proftpd":   startProftpdProcess,
	"pure-ftpd": startPureftpdProcess,
	"pyftpdlib": startPyftpdlibProcess,
}

// serverTools are the files each kind needs, beyond requireEnv's.
var serverTools = map[string][]string{
	"vsftpd":    {"vsftpd"},
	"proftpd":   {proftpdBin},
	"pure-ftpd": {pureftpdBin, purePwBin},
	"pyftpdlib": {pythonWithPyftpdlib},
}

// serversDir is where scripts/install-deps.sh unpacks the servers that conflict with vsftpd as
// Debian packages.
const serversDir = "/opt/ftpmount-servers"

// selectedServers returns the kinds FTPMOUNT_SERVERS names (all when it is unset, empty or "all").
// An unknown name fails the test: a typo must not make a run test nothing.
func selectedServers(t *testing.T) []string {
	t.Helper()
	env := strings.TrimSpace(os.Getenv("FTPMOUNT_SERVERS"))
	if env == "" || env == "all" {
		return serverKinds
	}
	var kinds []string
	for _, k := range strings.FieldsFunc(env, func(r rune) bool { return r == ',' || r == ' ' }) {
		if _, ok := serverStarters[k]; !ok {
			t.Fatalf("FTPMOUNT_SERVERS=%q: unknown server %q (known: %s)", env, k, strings.Join(serverKinds, ","))
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// forEachServer runs test as a parallel subtest named after each selected server kind.
func forEachServer(t *testing.T, test func(t *testing.T, kind string)) {
	t.Helper()
	for _, kind := range selectedServers(t) {
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
	if _, ok := serverStarters[kind]; !ok {
		t.Fatalf("unknown server kind %q (known: %s)", kind, strings.Join(serverKinds, ", "))
	}
	if !slices.Contains(selectedServers(t), kind) {
		t.Skipf("%s is not in FTPMOUNT_SERVERS=%s", kind, os.Getenv("FTPMOUNT_SERVERS"))
	}
	requireEnv(t, serverTools[kind]...)
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
	if err := ftpLogin(s.Addr, s.User, s.Password); err != nil {
		hint := ""
		if kind == "vsftpd" {
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
// until something greets with 220 on s.Addr, and registers with t.Cleanup a stop that kills the
// server with every process it started. When the server exits first, the error quotes the end of
// startupLog, where it writes its start-up errors. match is a string unique to this server's
// command line (its configuration file, say), to find session processes that left its group and
// were orphaned.
func (s *ftpServer) launch(t *testing.T, cmd *exec.Cmd, startupLog, match string) error {
	t.Helper()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
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
		if greets(s.Addr) {
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
