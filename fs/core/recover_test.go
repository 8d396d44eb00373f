package core

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/ftpconn/ftpfake"
)

// cutConnection is a transient failure, as a timeout or a reset connection gives.
var cutConnection = &ftpconn.NoReplyError{Op: "STOR", Msg: "i/o timeout", Kind: ftpconn.ErrTransient,
	Err: errors.New("i/o timeout")}

// crashedWhileClosing leaves in spool what a daemon killed during the upload of "new
// content" over /f leaves.
func crashedWhileClosing(t *testing.T, fake *ftpfake.Client, spool string) {
	t.Helper()
	f := overwriting(t, fake, spool, "new content")
	closing(f, nil)
	crash(f)
}

// TestRecoverTriesAgainInTheSameMount: an upload of a dead daemon's spool that fails on the
// network is tried again after a wait, not left until the next mount.
func TestRecoverTriesAgainInTheSameMount(t *testing.T) {
	fake := ftpfake.New()
	spool := t.TempDir()
	crashedWhileClosing(t, fake, spool)
	fake.Fail("Upload", cutConnection)

	c := newCoreIn(t, fake, ReplaceSafe, spool)
	c.cfg.RecoverRetries = []time.Duration{time.Millisecond}
	report := c.Recover(context.Background())
	serverHas(t, fake, "/f", "new content")
	if len(report) != 1 || !strings.Contains(report[0], "uploaded now") {
		t.Fatalf("report %q", report)
	}
	if n := fake.Calls("Upload"); n != 2 {
		t.Errorf("%d uploads, want 2 (the failed one and the retry)", n)
	}
	emptyDir(t, spool)
}

// TestRecoverLeavesTheSpoolAfterTheLastTry: when every try fails on the network, the spool
// stays as it was (not in the recovery folder), and the next mount uploads it.
func TestRecoverLeavesTheSpoolAfterTheLastTry(t *testing.T) {
	fake := ftpfake.New()
	spool := t.TempDir()
	crashedWhileClosing(t, fake, spool)
	fake.Fail("Upload", cutConnection)

	c := newCoreIn(t, fake, ReplaceSafe, spool)
	c.cfg.RecoverRetries = []time.Duration{}
	report := c.Recover(context.Background())
	if len(report) != 1 || !strings.Contains(report[0], "left for the next mount") {
		t.Fatalf("report %q", report)
	}
	serverHas(t, fake, "/f", "old")
	if left, _ := filepath.Glob(filepath.Join(spool, spoolPrefix+"*"+journalSuffix)); len(left) != 1 {
		t.Fatalf("journals in the spool directory: %v", left)
	}

	report = newCoreIn(t, fake, ReplaceSafe, spool).Recover(context.Background())
	serverHas(t, fake, "/f", "new content")
	if len(report) != 1 || !strings.Contains(report[0], "uploaded now") {
		t.Fatalf("next mount: report %q", report)
	}
	emptyDir(t, spool)
}

// TestRecoverRunsSpoolsInParallel: with write-back, a dead daemon may leave many spools;
// they are uploaded several at once, each whole.
func TestRecoverRunsSpoolsInParallel(t *testing.T) {
	fake := ftpfake.New()
	spool := t.TempDir()
	ctx := context.Background()
	for i := range 12 {
		p := "/f" + string(rune('a'+i))
		fake.WriteFile(p, []byte("old"))
		f := newCoreIn(t, fake, ReplaceSafe, spool).File(at(p))
		if err := f.OpenWrite(ctx, true); err != nil {
			t.Fatal(err)
		}
		if err := f.Write(ctx, []byte("content of "+p), 0); err != nil {
			t.Fatal(err)
		}
		closing(f, nil)
		crash(f)
	}
	c := newCoreIn(t, fake, ReplaceSafe, spool)
	c.cfg.Writeback = 4
	report := c.Recover(ctx)
	if len(report) != 12 {
		t.Fatalf("report %q", report)
	}
	for i := range 12 {
		p := "/f" + string(rune('a'+i))
		serverHas(t, fake, p, "content of "+p)
	}
	emptyDir(t, spool)
}
