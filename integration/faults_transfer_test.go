package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
	"github.com/ftpmount/ftpmount/integration/harness"
)

// transferSize is the file each transfer fault is played on.
const transferSize = 10 << 20

// firstOnly returns a function that is true on its first call only (safe for concurrent use).
func firstOnly() func() bool {
	var done atomic.Bool
	return func() bool { return done.CompareAndSwap(false, true) }
}

// cutsFor is the fault of one variant of TestFaultDownloadCut and TestFaultUploadCut, for the
// transfers of /f (and of its temporary upload names): "once" cuts the first after 3 MiB,
// "every" cuts each after every bytes, "nothing" cuts each before its first byte.
func cutsFor(variant string, every int64) func(path string, _ int64) *ftptest.Cut {
	first := firstOnly()
	return func(path string, _ int64) *ftptest.Cut {
		if !uploadOf(path, "/f") {
			return nil
		}
		switch variant {
		case "once":
			if first() {
				return &ftptest.Cut{After: 3 << 20}
			}
		case "every":
			return &ftptest.Cut{After: every}
		case "nothing":
			return &ftptest.Cut{After: 0}
		}
		return nil
	}
}

// TestFaultDownloadCut: a RETR whose data connection is closed after some bytes, followed by 426
// (played by ftptest's Proxy). cat of a 10 MiB file either gives every byte, or fails non-zero;
// never exits 0 with short data.
//
//   - once: the first RETR stops after 3 MiB; the README promises that a cut transfer is resumed
//     (REST), so cat must succeed.
//   - every: every RETR stops 2 MiB after where it started; each resume makes progress.
//   - nothing: every RETR stops before its first byte; cat cannot succeed and must fail.
func TestFaultDownloadCut(t *testing.T) {
	t.Parallel()
	for _, variant := range []string{"once", "every", "nothing"} {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			s := ftptest.Start(t, ftptest.Options{})
			p := ftptest.StartProxy(t, s.Addr, ftptest.TransferFaults{Download: cutsFor(variant, 2<<20)})
			want := randomFile(t, filepath.Join(s.Dir, "f"), transferSize)
			m := mountFaulty(t, p.Addr)
			catOutcome(t, variant, m, want, p.Fired)
		})
	}
}

// TestFaultShortRead: a RETR that sends part of the file and then says 226 (ftptest's
// ShortRead), the same variants and rule as TestFaultDownloadCut.
func TestFaultShortRead(t *testing.T) {
	t.Parallel()
	for _, variant := range []string{"once", "every", "nothing"} {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			first := firstOnly()
			var fired atomic.Int64
			s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{ShortRead: func(path string) int64 {
				if path != "/f" {
					return -1
				}
				n := int64(-1)
				switch variant {
				case "once":
					if first() {
						n = 3 << 20
					}
				case "every":
					n = 2 << 20
				case "nothing":
					n = 0
				}
				if n >= 0 {
					fired.Add(1)
				}
				return n
			}}})
			want := randomFile(t, filepath.Join(s.Dir, "f"), transferSize)
			m := mountFaulty(t, s.Addr)
			catOutcome(t, variant, m, want, func() int { return int(fired.Load()) })
		})
	}
}

// catOutcome cats /f from m to a local file and applies the variant's rule (see
// TestFaultDownloadCut); then checks that the mount still serves a second cat in full.
func catOutcome(t *testing.T, variant string, m *faultMount, want []byte, fired func() int) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	r := try(cmdTimeout, "/", "cat "+q(m.path("f"))+" > "+q(out))
	got := readOrNil(out)
	switch variant {
	case "once":
		if wantSuccess(t, "cat with one cut transfer", r) {
			if d := diffBytes(got, want); d != "" {
				t.Errorf("cat exited 0 with the wrong bytes: %s", d)
			}
		}
	case "nothing":
		wantFailure(t, "cat when no RETR delivers a byte", r)
	default:
		wantWholeOrFailure(t, "cat with every transfer cut", r, got, want)
	}
	t.Logf("cat: %v; %d of %d bytes; the fault fired %d times", r.Err, len(got), len(want), fired())
	if fired() == 0 {
		t.Error("the fault never fired")
	}
}

// TestFaultUploadCut: a STOR whose data connection the server stops reading and closes after some
// bytes, then 426; the server keeps the partial file. cp of a 10 MiB file into the mount either
// exits 0 with the whole file on the server, or exits non-zero; never 0 with a short file.
//
//   - once: the first STOR of the file is cut after 3 MiB.
//   - every: every STOR (or REST+STOR) is cut 3 MiB after where it started.
//   - nothing: every STOR is cut before its first byte; cp cannot succeed and must fail.
func TestFaultUploadCut(t *testing.T) {
	t.Parallel()
	for _, variant := range []string{"once", "every", "nothing"} {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			s := ftptest.Start(t, ftptest.Options{})
			p := ftptest.StartProxy(t, s.Addr, ftptest.TransferFaults{Upload: cutsFor(variant, 3<<20)})
			m := mountFaulty(t, p.Addr)
			local := filepath.Join(t.TempDir(), "f")
			want := randomFile(t, local, transferSize)
			r := try(cmdTimeout, "/", "cp "+q(local)+" "+q(m.path("f")))
			got := readOrNil(filepath.Join(s.Dir, "f"))
			if variant == "nothing" {
				wantFailure(t, "cp when no STOR gets a byte through", r)
			} else if wantWholeOrFailure(t, "cp with a cut upload", r, got, want) {
				if out := try(cmdTimeout, "/", "cmp "+q(m.path("f"))+" "+q(local)); out.Err != nil {
					t.Errorf("cp exited 0 and the server has the file, but through the mount: %v", out)
				}
			}
			t.Logf("cp: %v; the server has %d of %d bytes; the fault fired %d times", r.Err, len(got), len(want), p.Fired())
			if p.Fired() == 0 {
				t.Error("the fault never fired")
			}
		})
	}
}

// TestFaultSilence: a server that goes silent. With -o timeout=3, cat fails non-zero well within
// 60 s, a cat that is killed dies promptly, and fusermount3 -u works afterwards.
//
//   - retr_reply: the server sits on RETR without answering (Hook Stall).
//   - mid_transfer: the data connection stops at byte 1 MiB of the file but stays open (Proxy
//     Cut Stall), and so does every resume from there: cat cannot succeed.
//   - killed: as mid_transfer, and cat is SIGKILLed 1.5 s after it started.
//   - progress: every RETR stalls 3 MiB after where it started, so that each resume after a
//     timeout gets 3 MiB further: cat may succeed (with every byte) or fail, within the limit.
func TestFaultSilence(t *testing.T) {
	t.Parallel()
	const limit = 60 * time.Second
	for _, variant := range []string{"retr_reply", "mid_transfer", "killed", "progress"} {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			var stalls atomic.Int64
			faults := &ftptest.Faults{}
			if variant == "retr_reply" {
				faults.Hook = func(cmd, param string) *ftptest.Action {
					if cmd == "RETR" {
						stalls.Add(1)
						return &ftptest.Action{Stall: 10 * time.Minute} // cut short when the server closes
					}
					return nil
				}
			}
			s := ftptest.Start(t, ftptest.Options{Faults: faults})
			addr := s.Addr
			if variant != "retr_reply" {
				p := ftptest.StartProxy(t, s.Addr, ftptest.TransferFaults{
					Download: func(_ string, off int64) *ftptest.Cut {
						stalls.Add(1)
						if variant == "progress" {
							return &ftptest.Cut{After: 3 << 20, Stall: true}
						}
						return &ftptest.Cut{After: max(0, 1<<20-off), Stall: true}
					},
				})
				addr = p.Addr
			}
			want := randomFile(t, filepath.Join(s.Dir, "f"), transferSize)
			m := mountFaulty(t, addr, "timeout=3")

			start := time.Now()
			out := filepath.Join(t.TempDir(), "out")
			switch variant {
			case "killed":
				catKilled(t, m, "f", 1500*time.Millisecond, 20*time.Second)
			case "progress":
				r := try(limit, "/", "cat "+q(m.path("f"))+" > "+q(out))
				wantWholeOrFailure(t, "cat from a server that stalls every transfer", r, readOrNil(out), want)
				t.Logf("cat ended after %v: %v", time.Since(start).Round(time.Millisecond), r.Err)
			default:
				r := try(limit, "/", "cat "+q(m.path("f"))+" > "+q(out))
				wantFailure(t, "cat from a silent server", r)
				t.Logf("cat ended after %v: %v", time.Since(start).Round(time.Millisecond), r.Err)
			}
			if stalls.Load() == 0 {
				t.Error("the fault never fired")
			}

			// The mount is not wedged: it unmounts at once, and the daemon exits.
			if r := command(cmdTimeout, "/", nil, "fusermount3", "-u", m.Dir); r.Err != nil {
				t.Errorf("fusermount3 -u after the silence: %v", r)
			} else if left := harness.WaitNoProcess(m.Dir, exitWithin); len(left) > 0 {
				t.Errorf("unmounted, but still running after %v: %v", exitWithin, left)
			}
		})
	}
}

// catKilled starts cat on rel in m (output discarded), sends SIGKILL to it after delay, and fails
// the test when it is not dead within limit. (A process killed in the middle of a FUSE read stays
// in the kernel until the filesystem answers that read.) A cat that will not die is freed by
// aborting the FUSE connection.
func catKilled(t *testing.T, m *faultMount, rel string, delay, limit time.Duration) {
	t.Helper()
	cmd := exec.Command("cat", m.path(rel))
	cmd.Stdout, cmd.Stderr = nil, nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill := func() { once.Do(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }) }
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Logf("cat ended by itself before the kill (%v): %v", delay, err)
		if err == nil {
			t.Errorf("cat of a stalled file exited 0")
		}
		return
	case <-time.After(delay):
	}
	kill()
	killed := time.Now()
	select {
	case err := <-done:
		t.Logf("cat died %v after SIGKILL (%v)", time.Since(killed).Round(time.Millisecond), err)
	case <-time.After(limit):
		t.Errorf("cat still alive %v after SIGKILL (state %s)", limit, procState(cmd.Process.Pid))
		harness.AbortFUSE(m.Dir)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("cat still alive 30 s after aborting the FUSE connection")
		}
	}
}

// procState is the state letter and wait channel of a process, for reports.
func procState(pid int) string {
	stat, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	wchan, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "wchan"))
	return string(stat) + " wchan=" + string(wchan)
}
