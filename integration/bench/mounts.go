package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// mountInst is one live mount of ftpmount or rclone.
type mountInst struct {
	tool   tool
	dir    string
	pid    int           // the process serving it (ftpmount's daemon, rclone)
	cmd    *exec.Cmd     // rclone: runs in the foreground, our child
	exited chan struct{} // rclone: closed when cmd has exited
}

func (b *bench) newMountDir() (string, error) {
	b.mu.Lock()
	b.mountSeq++
	n := b.mountSeq
	b.mu.Unlock()
	dir := filepath.Join(b.work, fmt.Sprintf("mnt-%03d", n))
	return dir, os.Mkdir(dir, 0o755)
}

func (b *bench) register(m *mountInst) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mounts == nil {
		b.mounts = map[string]*mountInst{}
	}
	b.mounts[m.dir] = m
}

// ftpmountOpts are the -o options of a mount with the options opts: the run's log file, then opts.
func (b *bench) ftpmountOpts(opts ...string) []string {
	return append([]string{"logfile=" + filepath.Join(b.work, "ftpmount.log")}, opts...)
}

// ftpmountArgs is the command line that mounts ep at dir, with the -o options opts (what
// mountFtpmount runs, for the report).
func (b *bench) ftpmountArgs(ep endpoint, dir string, opts ...string) []string {
	return []string{b.bin, ep.url("/"), dir, "-o", strings.Join(b.ftpmountOpts(opts...), ",")}
}

// mountFtpmount mounts ep with ftpmount (harness.Mount: the command returns once the daemon has
// mounted) and checks that the mount answers.
func (b *bench) mountFtpmount(ep endpoint, opts ...string) (*mountInst, error) {
	if b.stopping.Load() {
		return nil, errStopping
	}
	dir, err := b.newMountDir()
	if err != nil {
		return nil, err
	}
	m := &mountInst{tool: toolFtpmount, dir: dir}
	b.register(m)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := harness.Mount(ctx, b.bin, ep.url("/"), dir, b.ftpmountOpts(opts...)...); err != nil {
		b.unmount(m)
		return nil, fmt.Errorf("ftpmount: %v", err)
	}
	m.pid = b.findDaemon(dir)
	if m.pid == 0 {
		return m, fmt.Errorf("no ftpmount process found for %s", dir)
	}
	return m, b.answers(m)
}

// findDaemon finds ftpmount's background process for dir: the process whose command line names
// the mount point and whose executable is the measured binary (dd and ls name the mount point too).
func (b *bench) findDaemon(dir string) int {
	for _, p := range harness.ProcessesMatching(dir) {
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.PID)); err == nil && exe == b.bin {
			return p.PID
		}
	}
	return 0
}

// rcloneArgs is the command line that mounts ep at dir with rclone.
func (b *bench) rcloneArgs(ep endpoint, dir, cacheMode string) []string {
	remote := fmt.Sprintf(":ftp,host=%s,port=%d,user=%s,pass=%s:", ep.host, ep.port, harness.User, b.rclonePass)
	args := []string{"rclone", "mount", remote, dir,
		"--config", filepath.Join(b.work, "rclone.conf"),
		"--cache-dir", filepath.Join(b.work, "rclone-cache"),
		"--vfs-cache-mode", cacheMode,
		"--log-file", filepath.Join(b.work, "rclone.log"), "--log-level", "NOTICE"}
	if cacheMode == "writes" {
		// Upload as soon as a file is closed (default: 5 s later); the bench times until it is on the server.
		args = append(args, "--vfs-write-back", "0s")
	}
	return args
}

// mountRclone runs rclone mount in the foreground as our child and waits until the mount answers.
func (b *bench) mountRclone(ep endpoint, cacheMode string) (*mountInst, error) {
	if b.stopping.Load() {
		return nil, errStopping
	}
	dir, err := b.newMountDir()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(b.work, "rclone.conf")
	if _, err := os.Stat(conf); err != nil {
		if err := os.WriteFile(conf, nil, 0o600); err != nil {
			return nil, err
		}
	}
	argv := b.rcloneArgs(ep, dir, cacheMode)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	m := &mountInst{tool: toolRclone, dir: dir, cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	m.pid = cmd.Process.Pid
	go func() { cmd.Wait(); close(m.exited) }()
	b.register(m)
	deadline := time.Now().Add(30 * time.Second)
	for !harness.IsMounted(dir) {
		select {
		case <-m.exited:
			b.unmount(m)
			return nil, fmt.Errorf("rclone mount exited: %s", harness.Tail(filepath.Join(b.work, "rclone.log"), 5))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.unmount(m)
			return nil, fmt.Errorf("rclone: %s not mounted after 30 s", dir)
		}
	}
	return m, b.answers(m)
}

// answers checks that the mount point responds (a getattr of the root only: no listing is cached).
func (b *bench) answers(m *mountInst) error {
	return b.run(30*time.Second, nil, "stat", "-c", "%i", m.dir).errOf()
}

// unmount unmounts m (harness.Unmount: fusermount3 -u, retried; then abort and -uz), waits for its
// process to exit (killing it after 15 s), and removes the mount point. Safe to call twice.
func (b *bench) unmount(m *mountInst) {
	b.mu.Lock()
	_, live := b.mounts[m.dir]
	delete(b.mounts, m.dir)
	b.mu.Unlock()
	if !live {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := harness.Unmount(ctx, m.dir); err != nil {
		b.logf("%s would not unmount, so it was aborted and unmounted lazily: %v", m.dir, err)
	}
	switch {
	case m.exited != nil:
		select {
		case <-m.exited:
		case <-time.After(15 * time.Second):
			b.logf("%s: %s still running 15 s after unmounting: killed", m.dir, m.tool)
			syscall.Kill(-m.pid, syscall.SIGKILL)
			select {
			case <-m.exited:
			case <-time.After(10 * time.Second):
			}
		}
	case m.pid > 0:
		deadline := time.Now().Add(15 * time.Second)
		for harness.ProcessAlive(m.pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if harness.ProcessAlive(m.pid) {
			b.logf("%s: ftpmount (pid %d) still running 15 s after unmounting: killed", m.dir, m.pid)
			syscall.Kill(m.pid, syscall.SIGKILL)
		}
	}
	if !harness.IsMounted(m.dir) {
		os.Remove(m.dir)
	}
}

// abortAllMounts aborts every live mount of this run (to free processes stuck in one).
func (b *bench) abortAllMounts() {
	b.mu.Lock()
	dirs := make([]string, 0, len(b.mounts))
	for d := range b.mounts {
		dirs = append(dirs, d)
	}
	b.mu.Unlock()
	for _, d := range dirs {
		harness.AbortFUSE(d)
	}
}
