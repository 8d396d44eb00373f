package integration

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

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

	status := func() string {
		r := command(cmdTimeout, "/", nil, binary(t), "status", m.Dir)
		if r.Err != nil {
			t.Fatalf("ftpmount status: %v", r)
		}
		return r.Stdout
	}
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
