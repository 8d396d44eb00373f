package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// The timeout promise (README, "Timeouts"): every system call on a server that stops answering
// returns within -o timeout plus a small slack. silentTimeout is the mount's timeout and
// silentSlack that slack, generous: this is a bound against waiting twice or retrying, not a speed
// measurement.
const (
	silentTimeout = 3 * time.Second
	silentSlack   = 3 * time.Second
)

// TestSilentServer: vsftpd is stopped with SIGSTOP after the mount (the kernel still accepts
// connections; nobody answers), and once the listing cache has expired each command fails within
// the timeout plus the slack: no dial retried after a timeout, no PASV after an EPSV that timed
// out, no idle check before a dial each waiting the whole timeout, no listing fetched again for
// every lookup. Each command gets a server and mount of its own.
func TestSilentServer(t *testing.T) {
	t.Parallel()
	local := t.TempDir()
	if err := os.WriteFile(filepath.Join(local, "src"), []byte("local file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Expired: the listings have expired (dir_cache=1), so each command first waits for a
	// listing. Cached: the listings are fresh (dir_cache=60), so the command's own request
	// (RETR, MKD, STOR, the LIST of a directory not listed yet) is what waits.
	for _, c := range []struct{ name, cache, script string }{
		{"expired/ls", "1", "ls d"},
		{"expired/ls-root", "1", "ls -l"},
		{"expired/cat", "1", "cat f"},
		{"expired/cp-in", "1", "cp " + q(filepath.Join(local, "src")) + " new"},
		{"expired/cp-out", "1", "cp f " + q(filepath.Join(local, "out"))},
		{"expired/mkdir", "1", "mkdir newdir"},
		{"cached/ls", "60", "ls d/e"},
		{"cached/cat", "60", "cat f"},
		{"cached/cp-in", "60", "cp " + q(filepath.Join(local, "src")) + " new"},
		{"cached/cp-within", "60", "cp f f2"}, // two waits: the read of f, then the upload of f2 at its close
		{"cached/mkdir", "60", "mkdir newdir"},
		{"cached/write", "60", "echo x | tee g >/dev/null"}, // not `echo x > g`: bash ignores the close's error
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := startVsftpd(t)
			srv.sh(t, srv.DataDir, "mkdir -p d/e && echo in-d > d/x && echo in-e > d/e/y && echo hello > f")
			logFile := filepath.Join(t.TempDir(), "ftpmount.log")
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("ftpmount debug log, last lines:\n%s", harness.Tail(logFile, 60))
				}
			})
			mnt := mount(t, srv, "timeout=3", "dir_cache="+c.cache, "debug", "logfile="+logFile)
			sh(t, mnt.Dir, "ls d >/dev/null") // connections in the pool, listings cached
			srv.signal(t, syscall.SIGSTOP)
			t.Cleanup(func() { srv.signal(t, syscall.SIGCONT) }) // before the unmount
			time.Sleep(2500 * time.Millisecond)                  // the pool's connections idle past their check (and dir_cache=1 expires)
			start := time.Now()
			r := try(cmdTimeout, mnt.Dir, c.script)
			took := time.Since(start)
			waits := time.Duration(1 + strings.Count(c.script, "cp f f2"))
			if bound := waits*silentTimeout + silentSlack; r.TimedOut || took > bound {
				t.Errorf("on a silent server with timeout=%v, %q took %v (bound %v): %v", silentTimeout, c.script,
					took.Round(100*time.Millisecond), bound, r)
			}
			if r.Err == nil {
				t.Errorf("%q succeeded on a silent server: %v", c.script, r)
			}
			t.Logf("%q failed after %v: %s", c.script, took.Round(100*time.Millisecond), r.Stderr)
		})
	}
}
