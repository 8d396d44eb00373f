package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ftpmount/ftpmount/fs"
	"github.com/ftpmount/ftpmount/ftpconn"
)

// `ftpmount status MOUNTPOINT` asks the process serving a mount what it is
// doing. That process listens on a unix socket named after the mount
// point in a runtime directory of the user's (statusDir), private to that
// user (0700); a connection gets one JSON document (statusReport) and is
// closed. The command prints it for people, or as it is with --json.

// statusReport is what the serving process answers.
type statusReport struct {
	Source     string               `json:"source"`
	Mountpoint string               `json:"mountpoint"`
	PID        int                  `json:"pid"`
	Started    time.Time            `json:"started"`
	Activity   ftpconn.ActivityView `json:"activity"`
	Mount      fs.Status            `json:"mount"`
	Problems   []logEntry           `json:"problems"` // the last warnings and errors
}

// statusDir is where the status sockets of this user's mounts live:
// /run/ftpmount for root, else $XDG_RUNTIME_DIR/ftpmount, else
// /tmp/ftpmount-UID.
func statusDir() string {
	if os.Geteuid() == 0 {
		return "/run/ftpmount"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "ftpmount")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("ftpmount-%d", os.Geteuid()))
}

// statusSocket is the socket of the mount at mountpoint (an absolute
// path, symbolic links resolved: the daemon calls it before mounting).
func statusSocket(mountpoint string) string {
	if r, err := filepath.EvalSymlinks(mountpoint); err == nil {
		mountpoint = r
	}
	sum := sha256.Sum256([]byte(filepath.Clean(mountpoint)))
	return filepath.Join(statusDir(), hex.EncodeToString(sum[:8])+".sock")
}

// serveStatus listens on the socket path (statusSocket of the mount
// point, found before mounting) and answers with report(). The returned
// function stops listening and removes the socket.
func serveStatus(path string, report func() statusReport) (func(), error) {
	dir := statusDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return nil, err
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); !st.IsDir() || st.Mode().Perm()&0o077 != 0 || (ok && int(sys.Uid) != os.Geteuid()) {
		return nil, fmt.Errorf("status directory %s is not a private directory of this user (mode %v)", dir, st.Mode())
	}
	os.Remove(path) // left by a process that was killed
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(true)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			json.NewEncoder(conn).Encode(report())
			conn.Close()
		}
	}()
	return func() { ln.Close() }, nil
}

// runStatus is `ftpmount status [--json] MOUNTPOINT`.
func runStatus(args []string) int {
	asJSON := false
	var pos []string
	for _, a := range args {
		switch a {
		case "--json":
			asJSON = true
		case "-h", "--help":
			fmt.Println("usage: ftpmount status [--json] MOUNTPOINT")
			return 0
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) != 1 {
		fmt.Fprintln(os.Stderr, "ftpmount: usage: ftpmount status [--json] MOUNTPOINT")
		return 2
	}
	mp, _ := filepath.Abs(pos[0])
	conn, err := net.DialTimeout("unix", statusSocket(mp), 5*time.Second)
	if err != nil {
		why := "no ftpmount of this user serves it"
		if src, fstype, ok := mountedAt(mp); ok && strings.HasPrefix(fstype, "fuse") {
			why = fmt.Sprintf("%s is mounted there, but its process does not answer (another user's mount, or it died: %v)", src, unwrapSyscall(err))
		}
		fmt.Fprintf(os.Stderr, "ftpmount: status of %s: %s\n", mp, why)
		return 1
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(conn)
	var rep statusReport
	if err == nil {
		err = json.Unmarshal(b, &rep)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ftpmount: status of %s: %v\n", mp, err)
		return 1
	}
	if asJSON {
		os.Stdout.Write(b)
		return 0
	}
	printStatus(os.Stdout, rep)
	return 0
}

func unwrapSyscall(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return syscall.ECONNREFUSED
	}
	return err
}

// printStatus writes the report for people.
func printStatus(w io.Writer, r statusReport) {
	fmt.Fprintf(w, "%s on %s (pid %d, up %s)\n", r.Source, r.Mountpoint, r.PID, time.Since(r.Started).Round(time.Second))
	a := r.Activity
	fmt.Fprintf(w, "connections: %d in use, %d idle, at most %d\n", a.ConnsInUse, a.ConnsIdle, a.ConnsMax)
	var sending, waiting []ftpconn.UploadState
	for _, u := range a.Uploads {
		if u.Sending {
			sending = append(sending, u)
		} else {
			waiting = append(waiting, u)
		}
	}
	fmt.Fprintf(w, "uploads: %d in flight (%d of them starting: waiting for a connection or the server)\n", len(sending)+len(waiting), len(waiting))
	for _, u := range a.Uploads {
		state := "sending"
		if !u.Sending {
			state = "starting"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", state, displayPath(u.Path), progress(u))
	}
	m := r.Mount
	if len(m.Queued) > 0 {
		fmt.Fprintf(w, "closed with writeback, not on the server yet: %d\n", len(m.Queued))
		for _, q := range m.Queued {
			state := "queued or uploading"
			if q.Err != "" {
				state = "failed: " + q.Err
			}
			fmt.Fprintf(w, "  %s (%s): %s\n", displayPath(q.Path), size(q.Size), state)
		}
	}
	fmt.Fprintf(w, "recovery folder %s: %d files\n", m.RecoveryDir, len(m.Recovery))
	for _, f := range m.Recovery {
		fmt.Fprintf(w, "  %s (%s, last written %s)\n", f.Path, size(f.Size), f.Kept.Local().Format("2006-01-02 15:04:05"))
	}
	if m.RecoveryErr != "" {
		fmt.Fprintf(w, "  cannot read it: %s\n", m.RecoveryErr)
	}
	fmt.Fprintf(w, "last problems: %d\n", len(r.Problems))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  %s %s: %s\n", p.Time.Local().Format("15:04:05"), p.Level, p.Msg)
	}
}

// displayPath names an upload by the file the user wrote: new content goes
// up under a temporary name beside it (see fs.UploadTarget), shown as
// "/dir/NAME (as .NAME.ftpmount-...part)".
func displayPath(p string) string {
	target, ok := fs.UploadTarget(p)
	if !ok {
		return p
	}
	return target + " (as " + path.Base(p) + ")"
}

// progress is "1.5 MiB of 10.0 MiB (15%)".
func progress(u ftpconn.UploadState) string {
	if u.Total == ftpconn.SizeUnknown {
		return size(u.Sent) + " sent, still being written"
	}
	pct := 100.0
	if u.Total > 0 {
		pct = float64(u.Sent) * 100 / float64(u.Total)
	}
	return fmt.Sprintf("%s of %s (%.0f%%)", size(u.Sent), size(u.Total), pct)
}

// size is n bytes for people.
func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
