package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// errStopping refuses new commands once the run is being abandoned.
var errStopping = errors.New("stopping")

// result is what run returns about one command.
type result struct {
	stdout, stderr string
	dur            time.Duration // from start to exit
	err            error
}

func (r result) Error() string {
	msg := r.err.Error()
	if s := strings.TrimSpace(r.stderr); s != "" {
		if len(s) > 600 {
			s = "..." + s[len(s)-600:]
		}
		msg += ": " + s
	}
	return msg
}

// errTimedOut is a command killed at its deadline: it is not tried again
// (a tool that slow at one latency, rclone listing 10,000 files at 40 ms,
// would only spend the run's time again).
var errTimedOut = errors.New("timed out")

// errOf is nil when the command succeeded, else an error carrying its stderr
// (errTimedOut when it was killed at its deadline).
func (r result) errOf() error {
	if r.err == nil {
		return nil
	}
	if errors.Is(r.err, errTimedOut) {
		return fmt.Errorf("%w: %s", errTimedOut, r.Error())
	}
	return errors.New(r.Error())
}

// run runs argv in its own process group with stdin from /dev/null (or stdin), and kills the group
// after timeout. A process stuck in a FUSE request cannot die: when the group is still there 5 s
// after the kill, every mount of this run is aborted (fusectl), which fails the request.
func (b *bench) run(timeout time.Duration, stdin io.Reader, argv ...string) result {
	if b.stopping.Load() {
		return result{err: errStopping}
	}
	return b.runAlways(timeout, stdin, argv...)
}

// runAlways is run, also while stopping (for unmounting).
func (b *bench) runAlways(timeout time.Duration, stdin io.Reader, argv ...string) result {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdin = stdin
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{err: err}
	}
	pgid := cmd.Process.Pid
	b.trackGroup(pgid, true)
	defer b.trackGroup(pgid, false)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout):
		syscall.Kill(-pgid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			b.logf("%s is stuck after SIGKILL: aborting this run's FUSE mounts", filepath.Base(argv[0]))
			b.abortAllMounts()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
			}
		}
		err = fmt.Errorf("%s: %w after %v", strings.Join(argv, " "), errTimedOut, timeout)
	}
	r := result{stdout: so.String(), stderr: se.String(), dur: time.Since(start), err: err}
	if err != nil && !errors.Is(err, errTimedOut) {
		r.err = fmt.Errorf("%s: %w", strings.Join(shortArgs(argv), " "), err)
	}
	return r
}

// shortArgs elides long argument lists in error messages.
func shortArgs(argv []string) []string {
	out := make([]string, 0, len(argv))
	for _, a := range argv {
		if len(a) > 200 {
			a = a[:200] + "..."
		}
		out = append(out, a)
	}
	return out
}

func (b *bench) trackGroup(pgid int, on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.groups == nil {
		b.groups = map[int]bool{}
	}
	if on {
		b.groups[pgid] = true
	} else {
		delete(b.groups, pgid)
	}
}

// dropCaches empties the page cache, dentries and inodes (server side and mount side alike).
func (b *bench) dropCaches() error {
	return b.run(3*time.Minute, nil, "sh", "-c", "sync && echo 3 > /proc/sys/vm/drop_caches").errOf()
}

// warm reads a local file once so that it is in the page cache (an upload's source).
func (b *bench) warm(path string) error {
	return b.run(5*time.Minute, nil, "dd", "if="+path, "of=/dev/null", "bs=1M", "status=none").errOf()
}

// ddBytes parses the byte count of dd's final report.
func ddBytes(stderr string) (int64, error) {
	for _, line := range strings.Split(stderr, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[1] == "bytes" {
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("no byte count in dd's output %q", stderr)
}

// transferTimeout bounds a transfer of size bytes: generous (5 MB/s) plus a minute; only against hangs.
func transferTimeout(size int64) time.Duration {
	return time.Minute + time.Duration(size/(5<<20))*time.Second
}

// rssKiB reads VmRSS of pid (resident now), in KiB.
func rssKiB(pid int) (int64, bool) { return procStatusKiB(pid, "VmRSS") }

// hwmKiB reads VmHWM of pid (the peak resident size so far), in KiB.
func hwmKiB(pid int) (int64, bool) { return procStatusKiB(pid, "VmHWM") }

// procStatusKiB reads a "kB" field of /proc/PID/status.
func procStatusKiB(pid int, field string) (int64, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, err := strconv.ParseInt(f[0], 10, 64)
				return n, err == nil
			}
		}
	}
	return 0, false
}

// rssSampler records the largest VmRSS of a process, sampled every 100 ms until stop is called.
type rssSampler struct {
	stopc chan struct{}
	done  chan int64
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{stopc: make(chan struct{}), done: make(chan int64, 1)}
	go func() {
		var peak int64
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if v, ok := rssKiB(pid); ok && v > peak {
				peak = v
			}
			select {
			case <-s.stopc:
				s.done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends sampling and returns the peak in KiB.
func (s *rssSampler) stop() int64 {
	close(s.stopc)
	return <-s.done
}
