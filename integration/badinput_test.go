package integration

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// failWithin bounds how long ftpmount may take to refuse a bad input. The cases that talk to a server
// run with timeout=20, so a check that fell back to waiting for the timeout would exceed it: the
// bound is how the "within a second or two" of a wrong protocol is kept, with room for a slow
// machine.
const failWithin = 10 * time.Second

// TestBadInputs runs the real binary on inputs it must refuse: each must exit non-zero within
// failWithin with exactly one line on stderr naming the cause, leave nothing mounted (no more
// mounts at the mount point than before) and no process behind.
func TestBadInputs(t *testing.T) {
	t.Parallel()
	requireEnv(t)
	srv := startVsftpd(t)
	srv.sh(t, srv.DataDir, "echo x > plain.txt")
	implicit := startServer(t, "vsftpd-tls-implicit")
	good := srv.URL()
	to := "timeout=20"

	https := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(https.Close)
	plainHTTP := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plainHTTP.Close)
	sshAddr := fakeBanner(t, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
	creds := srv.User + ":" + srv.Password + "@"
	// A path under a regular file can never be created, not even by root.
	aFile := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(aFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		source string
		opts   []string
		want   []string // each must be in the line
	}{
		{"debug_with_value", good, []string{"debug=0"}, []string{"debug", "takes no value"}},
		{"timeout_nan", good, []string{"timeout=NaN"}, []string{"timeout", "NaN"}},
		{"dir_cache_inf", good, []string{"dir_cache=Inf"}, []string{"dir_cache", "Inf"}},
		{"spool_dir_impossible", good, []string{to, "spool_dir=" + aFile + "/spool"}, []string{"spool_dir", aFile + "/spool", "not a directory"}},
		{"logfile_unwritable", good, []string{to, "logfile=" + aFile + "/ftpmount.log"}, []string{"logfile", aFile}},
		{"source_is_a_file", good + "plain.txt", []string{to}, []string{"/plain.txt", "is a file"}},
		{"source_missing", good + "no-such-dir", []string{to}, []string{"/no-such-dir", "does not exist"}},
		{"password_unescaped", "ftp://" + srv.User + ":pa/ss@" + srv.Addr + "/", nil, []string{"percent-escape", "password_file"}},
		{"no_password_no_terminal", "ftp://" + srv.User + "@" + srv.Addr + "/", []string{to, "netrc=/dev/null"}, []string{"no password", "terminal", "password_file"}},
		{"ftp_on_https", "ftp://" + creds + https.Listener.Addr().String() + "/", []string{to}, []string{"TLS server", "implicit_tls"}},
		{"ftp_on_http", "ftp://" + creds + plainHTTP.Listener.Addr().String() + "/", []string{to}, []string{"HTTP server"}},
		{"ftp_on_ssh", "ftp://" + creds + sshAddr + "/", []string{to}, []string{"SSH server", "sshfs"}},
		{"ftp_on_implicit_ftps", "ftp://" + creds + implicit.Addr + "/", []string{to}, []string{"TLS server", "implicit_tls"}},
		{"ftps_on_implicit_port", "ftps://" + creds + implicit.Addr + "/", []string{to, "cafile=" + implicit.CAFile}, []string{"implicit FTPS", "add -o implicit_tls"}},
		{"implicit_on_plain_ftp", "ftps://" + creds + srv.Addr + "/", []string{to, "implicit_tls"}, []string{"plain FTP server", "drop -o implicit_tls"}},
		{"ftps_without_tls", "ftps://" + creds + srv.Addr + "/", []string{to}, []string{"does not offer FTPS", "ftp://"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			line := refused(t, nil, tc.source, newMountDir(t), tc.opts...)
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("the line %q does not say %q", line, w)
				}
			}
			if strings.Contains(line, srv.Password) {
				t.Errorf("the line shows the password: %q", line)
			}
		})
	}

	t.Run("mounted_twice", func(t *testing.T) {
		t.Parallel()
		m := mount(t, srv)
		line := refused(t, nil, good, m.Dir)
		if !strings.Contains(line, "already mounted") || !strings.Contains(line, "fusermount3 -u") {
			t.Errorf("the line %q does not say the point is already mounted and how to unmount", line)
		}
		if r := try(cmdTimeout, m.Dir, "cat plain.txt"); r.Err != nil || r.Stdout != "x\n" {
			t.Errorf("the first mount no longer works: %v", r)
		}
	})

	t.Run("allow_other_as_user", func(t *testing.T) {
		t.Parallel()
		// Where /dev/fuse is closed to users, that refusal is checked whatever fuse.conf says.
		conf, _ := os.ReadFile("/etc/fuse.conf")
		if st, err := os.Stat("/dev/fuse"); hasUncommentedLine(string(conf), "user_allow_other") && err == nil && st.Mode().Perm()&0o006 == 0o006 {
			t.Skip("/etc/fuse.conf allows allow_other to every user, and /dev/fuse is open to them: nothing to refuse")
		}
		u, err := user.Lookup(harness.User)
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		dir := newMountDir(t)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		// The test binary's directory is root's alone: the user runs a copy.
		binDir, err := os.MkdirTemp("", "ftpmount-bin-user-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(binDir) })
		os.Chmod(binDir, 0o755)
		bin := filepath.Join(binDir, "ftpmount")
		if b, err := os.ReadFile(binary(t)); err != nil || os.WriteFile(bin, b, 0o755) != nil {
			t.Fatalf("copying the binary: %v", err)
		}
		spool, err := os.MkdirTemp("", "ftpmount-spool-user-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(spool) })
		os.Chown(spool, uid, gid)
		line := refusedBy(t, bin, cred, good, dir, to, "allow_other", "spool_dir="+spool, "recovery_dir="+spool)
		// fusermount3 opens /dev/fuse first: where the device is root's alone (mode 0600, as in
		// some containers), that is the refusal to explain; else it is allow_other's.
		if st, err := os.Stat("/dev/fuse"); err == nil && st.Mode().Perm()&0o006 != 0o006 {
			if !strings.Contains(line, "/dev/fuse") || !strings.Contains(line, "permission") {
				t.Errorf("/dev/fuse is %v: the line %q does not say the user cannot open it", st.Mode(), line)
			}
		} else if !strings.Contains(line, "user_allow_other") || !strings.Contains(line, "/etc/fuse.conf") {
			t.Errorf("the line %q does not say that /etc/fuse.conf needs user_allow_other", line)
		}
	})
}

// refused runs ftpmount SOURCE DIR -o OPTS (as cred's user when not nil), which must fail: non-zero
// exit within failWithin, one line on stderr, the mounts at dir unchanged, no process left. It
// returns the line.
func refused(t *testing.T, cred *syscall.Credential, source, dir string, opts ...string) string {
	t.Helper()
	return refusedBy(t, binary(t), cred, source, dir, opts...)
}

// refusedBy is refused with the binary bin.
func refusedBy(t *testing.T, bin string, cred *syscall.Credential, source, dir string, opts ...string) string {
	t.Helper()
	before := mountCount(dir)
	argv := []string{bin, source, dir}
	if len(opts) > 0 {
		argv = append(argv, "-o", strings.Join(opts, ","))
	}
	start := time.Now()
	r := command(mountFailTimeout, "/", cred, argv...)
	took := time.Since(start)
	t.Cleanup(func() {
		for mountCount(dir) > before {
			command(cmdTimeout, "/", nil, "fusermount3", "-u", "-z", dir)
		}
		if before == 0 {
			os.Remove(dir)
		}
	})
	switch {
	case r.TimedOut:
		t.Fatalf("still running after %v: %v", mountFailTimeout, r)
	case r.Err == nil:
		t.Fatalf("exited 0, want a failure: %v", r)
	}
	t.Logf("refused in %v: %v", took.Round(time.Millisecond), r)
	if took > failWithin {
		t.Errorf("took %v to refuse, more than %v", took, failWithin)
	}
	line := strings.TrimSpace(r.Stderr)
	if n := strings.Count(line, "\n") + 1; line == "" || n != 1 {
		t.Errorf("stderr has %d lines, want one: %q", n, r.Stderr)
	}
	if !strings.HasPrefix(line, "ftpmount: ") {
		t.Errorf("the line does not start with \"ftpmount: \": %q", line)
	}
	if n := mountCount(dir); n != before {
		t.Errorf("%d mounts at %s after the failure, %d before", n, dir, before)
	}
	if left := harness.WaitNoProcess(filepath.Clean(dir), exitWithin); before == 0 && len(left) > 0 {
		t.Errorf("processes left running: %v", left)
	}
	return line
}

// mountCount is how many mounts /proc/mounts lists at dir.
func mountCount(dir string) int {
	b, _ := os.ReadFile("/proc/mounts")
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[1] == dir {
			n++
		}
	}
	return n
}

// hasUncommentedLine: a line of text is exactly word (comments and spaces aside).
func hasUncommentedLine(text, word string) bool {
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		if strings.TrimSpace(line) == word {
			return true
		}
	}
	return false
}

// fakeBanner listens on loopback and greets every connection with banner, as an SSH server does;
// it returns the address.
func fakeBanner(t *testing.T, banner string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.Write([]byte(banner))
				c.SetReadDeadline(time.Now().Add(30 * time.Second))
				buf := make([]byte, 256)
				c.Read(buf) // until the client hangs up
			}()
		}
	}()
	return ln.Addr().String()
}
