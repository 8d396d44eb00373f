package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// -o auto_unmount: when the serving process dies (killed, crashed), the
// mount is removed instead of staying behind answering ENOTCONN
// ("Transport endpoint is not connected") until someone runs
// fusermount3 -u. libfuse does this in fusermount3, which watches a
// socket the file system keeps open; go-fuse closes that socket right
// after mounting, so ftpmount keeps its own watcher: a small process
// holding the read end of a pipe whose write end only the server holds.
// When the server exits, however it exits, the pipe reaches EOF; the
// watcher then unmounts the mount point if, and only if, it is a dead
// FUSE mount (a clean exit has unmounted already).

// watchEnv marks the watcher process; its argument is the mount point.
const watchEnv = "FTPMOUNT_WATCH"

// startWatcher starts the watcher for mountpoint. The returned file is
// the pipe's write end: keep it open for the life of the process.
func startWatcher(mountpoint string) (*os.File, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	// go-fuse's direct mount (as root) opens /dev/fuse without
	// O_CLOEXEC: a watcher inheriting it would keep the mount alive.
	closeFuseOnExec()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cmd := exec.Command(exe, "auto_unmount", mountpoint)
	cmd.Env = append(environWithout(passwordEnv), watchEnv+"=1")
	cmd.Stdin = r
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, err
	}
	cmd.Process.Release()
	return w, nil
}

// closeFuseOnExec marks this process's descriptors of /dev/fuse
// close-on-exec.
func closeFuseOnExec() {
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, e := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == "/dev/fuse" {
			if fd, err := strconv.Atoi(e.Name()); err == nil {
				syscall.CloseOnExec(fd)
			}
		}
	}
}

// runWatcher is the watcher: wait for EOF on stdin, then unmount a dead
// mount at the mount point.
func runWatcher(args []string) int {
	if len(args) != 2 {
		return 2
	}
	mountpoint := args[1]
	io.Copy(io.Discard, os.Stdin)
	var st syscall.Stat_t
	if err := syscall.Stat(mountpoint, &st); !errors.Is(err, syscall.ENOTCONN) {
		return 0 // unmounted already, or alive (another process serves it)
	}
	if os.Geteuid() == 0 && syscall.Unmount(mountpoint, syscall.MNT_DETACH) == nil {
		return 0
	}
	if exec.Command("fusermount3", "-u", "-z", mountpoint).Run() != nil {
		exec.Command("fusermount", "-u", "-z", mountpoint).Run()
	}
	return 0
}
