package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Deadlines for commands. They are there so that a blocked filesystem fails a test instead of hanging
// the run; no test asserts how fast anything is.
const (
	cmdTimeout     = 60 * time.Second
	bigFileTimeout = 10 * time.Minute
)

// result is what a finished (or killed) command left behind.
type result struct {
	cmd      string
	stdout   string
	stderr   string
	err      error // nil on exit status 0
	timedOut bool
}

func (r result) String() string {
	status := "exit 0"
	switch {
	case r.timedOut:
		status = "killed after its deadline (hung?)"
	case r.err != nil:
		status = r.err.Error()
	}
	return fmt.Sprintf("`%s`: %s\nstdout: %q\nstderr: %q", r.cmd, status, clip(r.stdout), clip(r.stderr))
}

// clip shortens long output for failure messages.
func clip(s string) string {
	const limit = 2000
	if len(s) <= limit {
		return s
	}
	return s[:limit/2] + "\n...\n" + s[len(s)-limit/2:]
}

// command runs argv in dir with a deadline. On expiry the whole process group is killed, so the
// children of a shell cannot outlive it. A process stuck in an uninterruptible FUSE request may not
// die even then: command gives up waiting for it a little later, and the mount's cleanup aborts the
// FUSE connection, which frees it. cred, when set, runs the command as another user.
func command(timeout time.Duration, dir string, cred *syscall.Credential, argv ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second // a grandchild holding stdout open must not block Wait
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := result{cmd: strings.Join(argv, " ")}
	if err := cmd.Start(); err != nil {
		r.err = err
		return r
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case r.err = <-done:
	case <-time.After(timeout + 15*time.Second):
		r.err = fmt.Errorf("still not dead %v after SIGKILL (stuck in the kernel?)", 15*time.Second)
	}
	r.stdout, r.stderr = stdout.String(), stderr.String()
	r.timedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
	return r
}

// lockedBuffer is a bytes.Buffer that command may read while an abandoned process still writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer // GUARDED_BY(mu)
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// try runs a bash script in dir and returns whatever happened.
func try(timeout time.Duration, dir, script string) result {
	r := command(timeout, dir, nil, "bash", "-c", script)
	r.cmd = script
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
	r.cmd = script
	if r.err != nil {
		who := "root"
		if cred != nil {
			who = "uid " + strconv.Itoa(int(cred.Uid))
		}
		t.Fatalf("as %s in %s: %v", who, dir, r)
	}
	return r.stdout
}

// shFails runs a script that must fail and returns what it wrote to stderr.
func shFails(t *testing.T, dir, script string) string {
	t.Helper()
	r := try(cmdTimeout, dir, script)
	if r.timedOut {
		t.Fatalf("in %s: %v", dir, r)
	}
	if r.err == nil {
		t.Fatalf("in %s: succeeded, want a failure: %v", dir, r)
	}
	return r.stderr
}

// q quotes s for bash.
func q(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
