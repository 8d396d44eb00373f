package integration

// Issue 4, "never lose a byte, never hang": the real binary mounted on a server that misbehaves.
// Most of these tests run ftptest (ftpconn/ftptest), an FTP server inside the test process whose
// faults are scripted (Faults.Hook, ShortRead, FailUpload, and TransferFaults through a Proxy); the
// daemon talks to it over loopback. What they assert is what the shell sees: the exit status of
// cat and cp, and the bytes on both sides. The rule throughout: a command that exits 0 leaves
// exactly the right bytes (on the server after cp, in the output after cat); a command may fail
// instead, with a non-zero status, but never hangs.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
	"github.com/ftpmount/ftpmount/integration/harness"
)

// faultMount is the real binary mounted on an in-process server (or a proxy in front of it), with
// its debug log in a file that is shown when the test fails.
type faultMount struct {
	Dir string // the mount point
	Log string // ftpmount's debug log
	mp  *mountPoint
}

// faultDefaults are the -o options of mountFaulty; opts given to it replace these by name.
var faultDefaults = []string{"timeout=5", "dir_cache=1", "debug"}

// mountFaulty mounts ftp://test:secret@addr/ (ftptest's account) on a fresh directory with
// faultDefaults, a debug log file and private spool and recovery directories, plus opts, and
// unmounts it in Cleanup (aborting the FUSE connection if it will not go). On failure (or with
// FTPMOUNT_SHOW_LOG set) the end of the debug log is logged.
func mountFaulty(t *testing.T, addr string, opts ...string) *faultMount {
	t.Helper()
	requireEnv(t)
	logFile := filepath.Join(t.TempDir(), "ftpmount.log")
	all := []string{"logfile=" + logFile, "spool_dir=" + t.TempDir(), "recovery_dir=" + t.TempDir()}
	for _, d := range faultDefaults {
		name, _, _ := strings.Cut(d, "=")
		if !hasOption(opts, name) {
			all = append(all, d)
		}
	}
	all = append(all, opts...)
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("FTPMOUNT_SHOW_LOG") != "" {
			t.Logf("ftpmount debug log %s, last lines:\n%s", logFile, harness.Tail(logFile, 100))
		}
	})
	mp := mountAt(t, harness.URL("test", "secret", addr), newMountDir(t), all...)
	return &faultMount{Dir: mp.Dir, Log: logFile, mp: mp}
}

func hasOption(opts []string, name string) bool {
	for _, o := range opts {
		if n, _, _ := strings.Cut(o, "="); n == name {
			return true
		}
	}
	return false
}

// path is rel inside the mount.
func (m *faultMount) path(rel string) string { return filepath.Join(m.Dir, rel) }

// readOrNil reads a file, nil when it cannot be read (missing).
func readOrNil(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return b
}

// wantWholeOrFailure is the rule for one command that copied a file: it ran to its end (no hang);
// exit 0 means got equals want. It reports whether the command succeeded.
func wantWholeOrFailure(t *testing.T, what string, r result, got, want []byte) bool {
	t.Helper()
	switch {
	case r.TimedOut || (r.Err != nil && strings.Contains(r.Err.Error(), "still not dead")):
		t.Errorf("%s hung: %v", what, r)
		return false
	case r.Err != nil:
		t.Logf("%s failed (allowed, with a non-zero status): %v", what, r)
		return false
	}
	if diff := diffBytes(got, want); diff != "" {
		t.Errorf("%s exited 0 but the bytes are wrong: %s\n%v", what, diff, r)
		return false
	}
	return true
}

// wantFailure is the rule for a command that cannot succeed: it fails, non-zero, before its deadline.
func wantFailure(t *testing.T, what string, r result) {
	t.Helper()
	switch {
	case r.TimedOut || (r.Err != nil && strings.Contains(r.Err.Error(), "still not dead")):
		t.Errorf("%s hung: %v", what, r)
	case r.Err == nil:
		t.Errorf("%s exited 0, but the server never let it through: %v", what, r)
	default:
		t.Logf("%s failed as it must: %v", what, r)
	}
}

// wantSuccess is the rule for a command that must work despite the fault.
func wantSuccess(t *testing.T, what string, r result) bool {
	t.Helper()
	if r.Err != nil {
		t.Errorf("%s: %v", what, r)
		return false
	}
	return true
}

// hangUps counts the faults a Hook played, for the tests to check that the fault happened at all.
type hangUps struct{ n atomic.Int64 }

func (h *hangUps) add() *ftptest.Action {
	h.n.Add(1)
	return &ftptest.Action{Reply: "421 Service not available, closing control connection.", HangUp: true}
}

// loginVerbs are the commands of a fresh connection's login (jlaffaye sends FEAT before USER, and
// TYPE and OPTS after PASS), which the "after login" faults leave alone.
var loginVerbs = map[string]bool{"": true, "USER": true, "PASS": true, "FEAT": true, "TYPE": true, "OPTS": true, "SYST": true}

// TestFaultHangUpEveryNth: the server answers every 7th command after login with 421 and hangs
// up, while 20 files are copied in and out. Each cp either exits 0 with the exact bytes on the
// other side, or exits non-zero.
func TestFaultHangUpEveryNth(t *testing.T) {
	t.Parallel()
	var count atomic.Int64
	var fired hangUps
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: func(cmd, _ string) *ftptest.Action {
		if loginVerbs[cmd] || cmd == "QUIT" {
			return nil
		}
		if count.Add(1)%7 == 0 {
			return fired.add()
		}
		return nil
	}}})
	m := mountFaulty(t, s.Addr)
	src, out := t.TempDir(), t.TempDir()

	const files = 20
	want := make([][]byte, files)
	for i := range files {
		want[i] = randomFile(t, filepath.Join(src, fmt.Sprintf("f%02d", i)), 1000+i*67_000)
	}
	var upFailed, downFailed []string
	for i := range files {
		name := fmt.Sprintf("f%02d", i)
		r := try(cmdTimeout, "/", "cp -- "+q(filepath.Join(src, name))+" "+q(m.path(name)))
		if !wantWholeOrFailure(t, "cp "+name+" into the mount", r, readOrNil(filepath.Join(s.Dir, name)), want[i]) {
			upFailed = append(upFailed, name)
			continue
		}
		r = try(cmdTimeout, "/", "cp -- "+q(m.path(name))+" "+q(filepath.Join(out, name)))
		if !wantWholeOrFailure(t, "cp "+name+" out of the mount", r, readOrNil(filepath.Join(out, name)), want[i]) {
			downFailed = append(downFailed, name)
		}
	}
	t.Logf("%d commands, %d hang-ups; failed uploads %q, failed downloads %q",
		count.Load(), fired.n.Load(), upFailed, downFailed)
	if fired.n.Load() == 0 {
		t.Error("the fault never fired")
	}
}

// TestFaultIdleHangUp: the server hangs up connections that were idle (for about a second) with
// 421. Operations 3 s apart keep working: ftpmount notices the dead connection and dials again.
func TestFaultIdleHangUp(t *testing.T) {
	t.Parallel()
	// every_noop: every NOOP gets 421 and a hang-up, as from a server whose idle timer expired
	// (ftpmount checks connections idle for more than 2 s with NOOP before reusing them).
	// idle_timer: with one connection, any command that comes more than 1 s after the previous
	// one gets 421 and a hang-up, whatever it is.
	for _, variant := range []string{"every_noop", "idle_timer"} {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			var fired hangUps
			var opts []string
			var hook func(cmd, _ string) *ftptest.Action
			switch variant {
			case "every_noop":
				hook = func(cmd, _ string) *ftptest.Action {
					if cmd == "NOOP" {
						return fired.add()
					}
					return nil
				}
			case "idle_timer":
				opts = []string{"connections=1"}
				var mu sync.Mutex
				last := time.Now()
				hook = func(cmd, _ string) *ftptest.Action {
					mu.Lock()
					defer mu.Unlock()
					idle := time.Since(last)
					last = time.Now()
					if !loginVerbs[cmd] && idle > time.Second {
						return fired.add()
					}
					return nil
				}
			}
			s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: hook}})
			big := randomFile(t, filepath.Join(s.Dir, "big"), 3<<20)
			m := mountFaulty(t, s.Addr, opts...)
			local := t.TempDir()
			randomFile(t, filepath.Join(local, "small"), 12345)

			steps := []struct{ what, script string }{
				{"ls", "ls -l " + q(m.Dir) + " | grep -q big"},
				{"cat big", "cat " + q(m.path("big")) + " > " + q(filepath.Join(local, "big.out"))},
				{"cp small in", "cp " + q(filepath.Join(local, "small")) + " " + q(m.path("small"))},
				{"cat small", "cmp " + q(m.path("small")) + " " + q(filepath.Join(local, "small"))},
				{"mkdir", "mkdir " + q(m.path("d"))},
				{"mv", "mv " + q(m.path("small")) + " " + q(m.path("d/small"))},
				{"cp big in", "cp " + q(filepath.Join(local, "big.out")) + " " + q(m.path("d/big"))},
				{"rm", "rm " + q(m.path("d/small"))},
				{"ls again", "test \"$(ls " + q(m.path("d")) + ")\" = big"},
			}
			for _, st := range steps {
				time.Sleep(3 * time.Second)
				r := try(cmdTimeout, "/", "set -eo pipefail\n"+st.script)
				r.Cmd = st.what + ": " + st.script
				if !wantSuccess(t, "after 3 s idle, "+st.what, r) {
					return
				}
			}
			if d := diffBytes(readOrNil(filepath.Join(local, "big.out")), big); d != "" {
				t.Errorf("cat big: %s", d)
			}
			if d := diffBytes(readOrNil(filepath.Join(s.Dir, "d", "big")), big); d != "" {
				t.Errorf("server side d/big: %s", d)
			}
			if _, err := os.Stat(filepath.Join(s.Dir, "d", "small")); err == nil {
				t.Error("server side d/small: still there after rm")
			}
			t.Logf("%d hang-ups", fired.n.Load())
			if fired.n.Load() == 0 {
				t.Error("the fault never fired")
			}
		})
	}
}

// TestFaultUpload451: the server stores the whole upload and then answers 451 instead of 226.
// once: cp exits 0 and the server has the whole file. always: every STOR of the file ends so;
// cp either exits 0 with the whole file on the server, or fails.
func TestFaultUpload451(t *testing.T) {
	t.Parallel()
	for _, variant := range []string{"once", "always"} {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			var fired atomic.Int64
			s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{FailUpload: func(p string) string {
				if !uploadOf(p, "/f") || (variant == "once" && fired.Load() > 0) {
					return ""
				}
				fired.Add(1)
				return "451 Requested action aborted: local error in processing."
			}}})
			m := mountFaulty(t, s.Addr)
			local := t.TempDir()
			want := randomFile(t, filepath.Join(local, "f"), 10<<20)
			r := try(cmdTimeout, "/", "cp "+q(filepath.Join(local, "f"))+" "+q(m.path("f")))
			got := readOrNil(filepath.Join(s.Dir, "f"))
			if variant == "once" {
				if wantSuccess(t, "cp with one 451 after a complete upload", r) {
					if d := diffBytes(got, want); d != "" {
						t.Errorf("cp exited 0; server side: %s", d)
					}
				}
			} else {
				wantWholeOrFailure(t, "cp with 451 after every complete upload", r, got, want)
			}
			if r.Err == nil {
				if out := try(cmdTimeout, "/", "cmp "+q(m.path("f"))+" "+q(filepath.Join(local, "f"))); out.Err != nil {
					t.Errorf("through the mount: %v", out)
				}
			}
			t.Logf("451 sent %d times", fired.Load())
			if fired.Load() == 0 {
				t.Error("the fault never fired")
			}
		})
	}
}

// TestFaultConnectionLimit: the server refuses a third session ("421 Too many users" instead of
// the greeting); the mount asks for 4 connections. Four parallel cats of different files all
// succeed with the right bytes.
func TestFaultConnectionLimit(t *testing.T) {
	t.Parallel()
	var srv atomic.Pointer[ftptest.Server] // set once Start returns; the hook runs on other goroutines
	var refused atomic.Int64
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: func(cmd, _ string) *ftptest.Action {
		switch {
		case cmd == "" && srv.Load().Sessions() > 2: // this one counts already
			refused.Add(1)
			return &ftptest.Action{Reply: "421 Too many users, sorry.", HangUp: true}
		case cmd == "RETR":
			// Slow enough that the four downloads overlap, so that more than two
			// connections are wanted.
			return &ftptest.Action{Stall: 300 * time.Millisecond}
		}
		return nil
	}}})
	srv.Store(s)
	const n = 4
	want := make([][]byte, n)
	for i := range n {
		want[i] = randomFile(t, filepath.Join(s.Dir, fmt.Sprintf("f%d", i)), 5<<20)
	}
	m := mountFaulty(t, s.Addr, "connections=4")
	out := t.TempDir()
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("f%d", i)
			results[i] = try(cmdTimeout, "/", "cat "+q(m.path(name))+" > "+q(filepath.Join(out, name)))
		})
	}
	wg.Wait()
	for i, r := range results {
		name := fmt.Sprintf("f%d", i)
		if wantSuccess(t, "parallel cat "+name, r) {
			if d := diffBytes(readOrNil(filepath.Join(out, name)), want[i]); d != "" {
				t.Errorf("cat %s exited 0: %s", name, d)
			}
		}
	}
	t.Logf("%d connections refused", refused.Load())
	if refused.Load() == 0 {
		t.Error("the server never refused a connection: the limit was not exercised")
	}
}
