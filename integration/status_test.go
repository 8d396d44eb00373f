package integration

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
)

// TestStatus asks `ftpmount status` about a mount whose upload stalls after 1 MiB: while it
// hangs, the upload shows with its progress and a connection in use; once the timeout has failed
// it, the recovery folder holds its data and the last problems say so (cp sees the failure; a
// shell's `>` would not, which is what status is for).
func TestStatus(t *testing.T) {
	t.Parallel()
	s := ftptest.Start(t, ftptest.Options{})
	var cuts atomic.Int64
	p := ftptest.StartProxy(t, s.Addr, ftptest.TransferFaults{Upload: func(path string, _ int64) *ftptest.Cut {
		if !strings.Contains(path, "big.bin") { // uploads go to a temporary name beside it
			return nil
		}
		cuts.Add(1)
		return &ftptest.Cut{After: 1 << 20, Stall: true}
	}})
	m := mountFaulty(t, p.Addr, "timeout=8")
	local := filepath.Join(t.TempDir(), "big.bin")
	randomFile(t, local, 3<<20)
	cp := make(chan result, 1)
	go func() { cp <- try(cmdTimeout, "/", "cp "+q(local)+" "+q(m.path("big.bin"))) }()

	status := func() string { return mountStatus(t, m.Dir) }
	var during string
	eventually(t, "status to show the stalled upload", func() (bool, string) {
		during = status()
		// Bytes sent count what went into the data connection: past the 1 MiB the proxy relays,
		// loopback socket buffers take the rest.
		return strings.Contains(during, "sending /big.bin") && strings.Contains(during, " of 3.0 MiB"), during
	})
	if !strings.Contains(during, "uploads: 1 in flight") || strings.Contains(during, "connections: 0 in use") {
		t.Errorf("status during the upload:\n%s", during)
	}
	t.Logf("status during the upload:\n%s", during)

	if r := <-cp; r.Err == nil {
		t.Errorf("cp succeeded though every upload stalled: %v", r)
	}
	after := status()
	t.Logf("status after the failure:\n%s", after)
	if !strings.Contains(after, "recovery folder") || !strings.Contains(after, "/big.bin.") || !strings.Contains(after, "1 files") {
		t.Errorf("status does not list the recovery file:\n%s", after)
	}
	if !strings.Contains(after, "warning: upload of /big.bin failed") {
		t.Errorf("status does not show the failed upload among the last problems:\n%s", after)
	}
	if strings.Contains(after, "sending /big.bin") {
		t.Errorf("the failed upload is still shown in flight:\n%s", after)
	}
	r := command(cmdTimeout, "/", nil, binary(t), "status", "--json", m.Dir)
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || doc["mountpoint"] != m.Dir {
		t.Errorf("status --json: %v (%v)", r, err)
	}
	if cuts.Load() == 0 {
		t.Error("the stall never happened")
	}

	// A directory nothing is mounted on: one line, non-zero.
	r = command(cmdTimeout, "/", nil, binary(t), "status", t.TempDir())
	if r.Err == nil || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 || !strings.Contains(r.Stderr, "no ftpmount") {
		t.Errorf("status of an unmounted directory: %v", r)
	}
}

// TestStatusWriteback: with -o writeback, close returns before the upload, so `ftpmount status` is
// where a user sees what is not on the server yet: each file closed but not uploaded is listed
// (queued or uploading) with its size, the one being sent with its progress, and, once the
// stalled uploads have failed (timeout), each in the recovery folder with its error.
func TestStatusWriteback(t *testing.T) {
	t.Parallel()
	s := ftptest.Start(t, ftptest.Options{})
	p := ftptest.StartProxy(t, s.Addr, ftptest.TransferFaults{Upload: func(path string, _ int64) *ftptest.Cut {
		return &ftptest.Cut{After: 256 << 10, Stall: true}
	}})
	m := mountFaulty(t, p.Addr, "timeout=6", "writeback", "connections=2") // one upload at a time
	local := filepath.Join(t.TempDir(), "src.bin")
	randomFile(t, local, 1<<20)
	sh(t, "/", "for f in q1 q2 q3; do cp "+q(local)+" "+q(m.Dir)+"/$f.bin; done") // returns at once: writeback

	status := func() string { return mountStatus(t, m.Dir) }
	var during string
	eventually(t, "status to show the queued uploads", func() (bool, string) {
		during = status()
		return strings.Contains(during, "closed with writeback, not on the server yet: 3") &&
			strings.Contains(during, "sending /q") && strings.Contains(during, " of 1.0 MiB"), during
	})
	for _, f := range []string{"/q1.bin", "/q2.bin", "/q3.bin"} {
		if !strings.Contains(during, "  "+f+" (1.0 MiB): queued or uploading") {
			t.Errorf("status does not list %s as queued or uploading:\n%s", f, during)
		}
	}
	t.Logf("status during the uploads:\n%s", during)
	// Each stalled upload fails in turn (timeout=6): its data goes to the recovery folder, which
	// status lists with the upload's error among the last problems.
	var after string
	for deadline := time.Now().Add(cmdTimeout); ; time.Sleep(500 * time.Millisecond) {
		if after = status(); strings.Contains(after, ": 3 files") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status after %v does not show the three failed uploads:\n%s", cmdTimeout, after)
		}
	}
	for _, f := range []string{"q1.bin", "q2.bin", "q3.bin"} {
		if !strings.Contains(after, "/"+f+".") || !strings.Contains(after, "upload of /"+f+" failed") {
			t.Errorf("status does not list %s in the recovery folder with its failure:\n%s", f, after)
		}
	}
	if strings.Contains(after, "queued or uploading") {
		t.Errorf("failed uploads still shown as queued:\n%s", after)
	}
}

// mountStatus is what `ftpmount status DIR` prints for the mount on dir.
func mountStatus(t *testing.T, dir string) string {
	t.Helper()
	r := command(cmdTimeout, "/", nil, binary(t), "status", dir)
	if r.Err != nil {
		t.Fatalf("ftpmount status: %v", r)
	}
	return r.Stdout
}
