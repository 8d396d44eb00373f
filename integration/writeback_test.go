package integration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestWritebackCrash: with -o writeback, cp -r returns once the files are safe in the spool; the
// daemon is killed (SIGKILL) while their uploads still run (every STOR is slowed down by 1 s, so
// that 30 files keep the 7 background uploads of the default write-back pool busy for 4 s). The next
// mount of the server uploads what the dead daemon had not: every file cp copied ends up on the
// server whole.
func TestWritebackCrash(t *testing.T) {
	t.Parallel()
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: func(cmd, _ string) *ftptest.Action {
		if cmd == "STOR" {
			return &ftptest.Action{Stall: time.Second}
		}
		return nil
	}}})
	spool, recovery := t.TempDir(), t.TempDir()
	opts := []string{"writeback", "spool_dir=" + spool, "recovery_dir=" + recovery}
	m := mountFaulty(t, s.Addr, opts...)

	src := filepath.Join(t.TempDir(), "tree")
	want := map[string][]byte{}
	for i := range 30 {
		name := fmt.Sprintf("d%d/f%02d.bin", i%3, i)
		os.MkdirAll(filepath.Join(src, filepath.Dir(name)), 0o755)
		want[name] = randomFile(t, filepath.Join(src, name), 1000+i*40_000)
	}
	sh(t, m.Dir, "cp -r "+q(src)+" tree")
	onServer := func() int {
		n := 0
		for name, data := range want {
			if bytes.Equal(readOrNil(filepath.Join(s.Dir, "tree", name)), data) {
				n++
			}
		}
		return n
	}
	before := onServer()
	for _, p := range harness.ProcessesMatching(m.Dir) {
		syscall.Kill(p.PID, syscall.SIGKILL)
	}
	if before == len(want) {
		t.Fatal("every upload had finished before the kill: nothing was left to the next mount")
	}
	harness.AbortFUSE(m.Dir)
	command(cmdTimeout, "/", nil, "fusermount3", "-u", "-z", m.Dir)
	m.mp.done = true

	m2 := mountFaulty(t, s.Addr, opts...)
	deadline := time.Now().Add(cmdTimeout)
	for onServer() != len(want) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if got := onServer(); got != len(want) {
		for name, data := range want {
			if d := diffBytes(readOrNil(filepath.Join(s.Dir, "tree", name)), data); d != "" {
				t.Errorf("after the next mount, the server's %s: %s", name, d)
			}
		}
		t.Fatalf("%d of %d files on the server (%d before the kill); the log:\n%s", got, len(want), before, harness.Tail(m2.Log, 40))
	}
	t.Logf("%d of %d files were on the server at the kill; the next mount uploaded the rest", before, len(want))
	eventually(t, "the spool directory to be empty", func() (bool, string) {
		left, _ := filepath.Glob(filepath.Join(spool, "ftpmount-spool-*"))
		return len(left) == 0, fmt.Sprint(left)
	})
}
