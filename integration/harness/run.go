package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Result is what a finished (or killed) command left behind.
type Result struct {
	Cmd      string // the command line, or the script it ran, for reports
	Stdout   string
	Stderr   string
	Err      error // nil on exit status 0
	TimedOut bool  // killed because its context's deadline passed
}

func (r Result) String() string {
	status := "exit 0"
	switch {
	case r.TimedOut:
		status = "killed after its deadline (hung?)"
	case r.Err != nil:
		status = r.Err.Error()
	}
	return fmt.Sprintf("`%s`: %s\nstdout: %q\nstderr: %q", r.Cmd, status, Clip(r.Stdout), Clip(r.Stderr))
}

// Clip shortens long output for failure messages: its first and last 1000 bytes.
func Clip(s string) string {
	const limit = 2000
	if len(s) <= limit {
		return s
	}
	return s[:limit/2] + "\n...\n" + s[len(s)-limit/2:]
}

// stillDeadWait is how long Run waits for a command killed at its deadline to be reaped.
const stillDeadWait = 15 * time.Second

// Run runs argv in dir until it exits or ctx ends. When ctx ends the whole process group is
// killed, so the children of a shell cannot outlive it. A process stuck in an uninterruptible FUSE
// request may not die even then: Run gives up waiting for it 15 s later, and the mount's cleanup
// ([Unmount], [AbortFUSE]) frees it. cred, when set, runs the command as another user.
//
// The command changes into dir itself, after exec (through sh), never between fork and exec: Go
// starts commands with vfork, so until the child has exec'd the parent's thread waits with its
// signals blocked, and a garbage collection starting meanwhile stops the whole test process, with
// the FTP servers it runs in-process, until then. A chdir into a mount whose daemon is busy or
// being killed can take seconds.
func Run(ctx context.Context, dir string, cred *syscall.Credential, argv ...string) Result {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if dir != "" {
		cmd = exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", `cd "$0" && exec "$@"`, dir}, argv...)...)
		cmd.Dir = "/"
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second // a grandchild holding stdout open must not block Wait
	var stdout, stderr LockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := Result{Cmd: strings.Join(argv, " ")}
	if err := cmd.Start(); err != nil {
		r.Err = err
		return r
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case r.Err = <-done:
	case <-ctx.Done():
		select {
		case r.Err = <-done:
		case <-time.After(stillDeadWait):
			r.Err = fmt.Errorf("still not dead %v after SIGKILL (stuck in the kernel?)", stillDeadWait)
		}
	}
	r.Stdout, r.Stderr = stdout.String(), stderr.String()
	r.TimedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
	return r
}

// RunTimeout is Run under a deadline of timeout from now.
func RunTimeout(timeout time.Duration, dir string, cred *syscall.Credential, argv ...string) Result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return Run(ctx, dir, cred, argv...)
}

// LockedBuffer is a bytes.Buffer that one goroutine may read while a process still writes to it.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer // GUARDED_BY(mu)
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FindTool looks name up on PATH, then in the sbin and bin directories a non-login PATH may lack.
func FindTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		if p, err2 := exec.LookPath(dir + "/" + name); err2 == nil {
			return p, nil
		}
	}
	return "", err
}

// Tail returns the last n lines of a file, for failure reports (or the error reading it).
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
