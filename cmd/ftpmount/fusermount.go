package main

import (
	"os"
	"strings"
	"syscall"
	"time"
)

// Without root, go-fuse mounts through the setuid helper fusermount3, which
// explains a refusal on its stderr and exits 1; go-fuse then only says
// "fusermount exited with code 256". In the background our stderr goes
// nowhere, so the explanation would be lost. withStderrCaptured runs the
// mount with fd 2 pointing into a pipe and returns what was written there,
// so that the error line can carry it, with the fix.

// withStderrCaptured runs fn with the process's fd 2 redirected and
// returns what was written to it meanwhile (at most 64 KiB). Nothing else
// may write to fd 2 in between: it is used around the mount only.
func withStderrCaptured(fn func() error) (string, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", fn()
	}
	defer r.Close()
	saved, err := syscall.Dup(2)
	if err != nil {
		w.Close()
		return "", fn()
	}
	syscall.CloseOnExec(saved)
	if err := syscall.Dup3(int(w.Fd()), 2, 0); err != nil {
		syscall.Close(saved)
		w.Close()
		return "", fn()
	}
	ferr := fn()
	syscall.Dup3(saved, 2, 0)
	syscall.Close(saved)
	w.Close()
	// A helper still running (none is expected) would keep the pipe open:
	// read what is there, without waiting for its end.
	r.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 64<<10)
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			break
		}
	}
	return string(buf[:n]), ferr
}

// mountCaptured runs fn like withStderrCaptured. On success what was
// captured goes on to stderr (-d output during the mount); on failure
// fusermount's lines become the returned hint and the rest goes on.
func mountCaptured(fn func() error) (hint string, err error) {
	out, err := withStderrCaptured(fn)
	var helper, rest []string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if err != nil && strings.Contains(line, "fusermount") {
			helper = append(helper, line)
		} else if line != "" {
			rest = append(rest, line)
		}
	}
	if len(rest) > 0 {
		os.Stderr.WriteString(strings.Join(rest, "\n") + "\n")
	}
	return fusermountHint(strings.Join(helper, "\n")), err
}

// fusermountHint turns fusermount3's explanation into the cause and the
// fix, for the common refusals; "" when it said nothing we know.
func fusermountHint(out string) string {
	out = strings.TrimSpace(out)
	switch {
	case out == "":
		return ""
	case strings.Contains(out, "user_allow_other"):
		return "-o allow_other needs user_allow_other in /etc/fuse.conf for users other than root (add that line as root, or mount without allow_other)"
	case strings.Contains(out, "/dev/fuse") && (strings.Contains(out, "Permission denied") || strings.Contains(out, "Operation not permitted")):
		return "no access to /dev/fuse (the user needs read and write permission on it; in a container, pass the device in)"
	case strings.Contains(out, "/dev/fuse") && strings.Contains(out, "No such file"):
		return "/dev/fuse is missing (load the fuse module: modprobe fuse; in a container, pass the device in)"
	case strings.Contains(out, "mountpoint is not empty") || strings.Contains(out, "not empty"):
		return "the mount point is not empty"
	}
	// Unknown: its own first line.
	line, _, _ := strings.Cut(out, "\n")
	return line
}
