package integration

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// Deadlines for commands. They are there so that a blocked filesystem fails a test instead of hanging
// the run; no test asserts how fast anything is.
const (
	cmdTimeout     = 60 * time.Second
	bigFileTimeout = 10 * time.Minute
)

// result is what a finished (or killed) command left behind.
type result = harness.Result

// command runs argv in dir with a deadline (harness.Run): on expiry the whole process group is
// killed. cred, when set, runs the command as another user.
func command(timeout time.Duration, dir string, cred *syscall.Credential, argv ...string) result {
	return harness.RunTimeout(timeout, dir, cred, argv...)
}

// try runs a bash script in dir and returns whatever happened.
func try(timeout time.Duration, dir, script string) result {
	r := command(timeout, dir, nil, "bash", "-c", script)
	r.Cmd = script
	return r
}

// sh runs a bash script in dir (as root) and returns its stdout; any failure fails the test.
func sh(t *testing.T, dir, script string) string {
	t.Helper()
	return shTimeout(t, cmdTimeout, dir, script)
}

// shTimeout is sh with a longer deadline, for big files.
func shTimeout(t *testing.T, timeout time.Duration, dir, script string) string {
	t.Helper()
	return mustRun(t, timeout, dir, nil, script)
}

// mustRun runs a bash script (with -e and pipefail) in dir, as cred's user if set, and returns
// its stdout; any failure fails the test.
func mustRun(t *testing.T, timeout time.Duration, dir string, cred *syscall.Credential, script string) string {
	t.Helper()
	r := command(timeout, dir, cred, "bash", "-c", "set -eo pipefail\n"+script)
	r.Cmd = script
	if r.Err != nil {
		who := "root"
		if cred != nil {
			who = "uid " + strconv.Itoa(int(cred.Uid))
		}
		t.Fatalf("as %s in %s: %v", who, dir, r)
	}
	return r.Stdout
}

// shFails runs a script that must fail and returns what it wrote to stderr.
func shFails(t *testing.T, dir, script string) string {
	t.Helper()
	r := try(cmdTimeout, dir, script)
	if r.TimedOut {
		t.Fatalf("in %s: %v", dir, r)
	}
	if r.Err == nil {
		t.Fatalf("in %s: succeeded, want a failure: %v", dir, r)
	}
	return r.Stderr
}

// q quotes s for bash.
func q(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
