package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
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

// ftpmountArgs is the command line that mounts ep at dir, with the -o options opts.
func (b *bench) ftpmountArgs(ep endpoint, dir string, opts ...string) []string {
	o := strings.Join(append([]string{"logfile=" + filepath.Join(b.work, "ftpmount.log")}, opts...), ",")
	return []string{b.bin, ep.url("/"), dir, "-o", o}
}

// mountFtpmount mounts ep with ftpmount (daemonized; it returns once the mount answers).
func (b *bench) mountFtpmount(ep endpoint, opts ...string) (*mountInst, error) {
	dir, err := b.newMountDir()
	if err != nil {
		return nil, err
	}
	m := &mountInst{tool: toolFtpmount, dir: dir}
	b.register(m)
	r := b.run(2*time.Minute, nil, b.ftpmountArgs(ep, dir, opts...)...)
	if r.err != nil {
		b.unmount(m)
		return nil, fmt.Errorf("ftpmount: %v", r.Error())
	}
	if !isMounted(dir) {
		b.unmount(m)
		return nil, fmt.Errorf("ftpmount exited 0 but %s is not mounted", dir)
	}
	m.pid = b.findDaemon(dir)
	if m.pid == 0 {
		return m, fmt.Errorf("no ftpmount process found for %s", dir)
	}
	return m, b.answers(m)
}

// findDaemon finds ftpmount's background process for dir: pgrep -f on the mount point, keeping the
// process whose executable is the measured binary (dd and ls name the mount point too).
func (b *bench) findDaemon(dir string) int {
	r := b.run(10*time.Second, nil, "pgrep", "-f", dir)
	for _, f := range strings.Fields(r.stdout) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && exe == b.bin {
			return pid
		}
	}
	return 0
}

// rcloneArgs is the command line that mounts ep at dir with rclone.
func (b *bench) rcloneArgs(ep endpoint, dir, cacheMode string) []string {
	remote := fmt.Sprintf(":ftp,host=%s,port=%d,user=%s,pass=%s:", ep.host, ep.port, ftpUser, b.rclonePass)
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
	for !isMounted(dir) {
		select {
		case <-m.exited:
			b.unmount(m)
			return nil, fmt.Errorf("rclone mount exited: %s", tailFile(filepath.Join(b.work, "rclone.log"), 5))
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

// unmount unmounts m (fusermount3 -u, retried; then abort and -uz), waits for its process to exit
// (killing it after 15 s), and removes the mount point. Safe to call twice.
func (b *bench) unmount(m *mountInst) {
	b.mu.Lock()
	_, live := b.mounts[m.dir]
	delete(b.mounts, m.dir)
	b.mu.Unlock()
	if !live {
		return
	}
	if isMounted(m.dir) {
		for range 5 {
			if b.runAlways(30*time.Second, nil, "fusermount3", "-u", m.dir).err == nil || !isMounted(m.dir) {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
		if isMounted(m.dir) {
			b.logf("%s will not unmount: aborting it and unmounting lazily", m.dir)
			b.abortFUSE(m.dir)
			b.runAlways(30*time.Second, nil, "fusermount3", "-u", "-z", m.dir)
		}
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
		for processAlive(m.pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if processAlive(m.pid) {
			b.logf("%s: ftpmount (pid %d) still running 15 s after unmounting: killed", m.dir, m.pid)
			syscall.Kill(m.pid, syscall.SIGKILL)
		}
	}
	if !isMounted(m.dir) {
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
		b.abortFUSE(d)
	}
}

// tailFile returns the last n lines of a file.
func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
