package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"
)

// visibleWithin bounds how long a change made on the server side may take to show through a mount
// with the default dir_cache (5 s) or dirCacheFast. It is the only time the tests assert.
const visibleWithin = 10 * time.Second

// eventually polls cond until it holds, failing the test with cond's last report after visibleWithin.
func eventually(t *testing.T, what string, cond func() (ok bool, report string)) {
	t.Helper()
	deadline := time.Now().Add(visibleWithin)
	for {
		ok, report := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; last try: %s", visibleWithin, what, report)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// wantBothSides checks that rel holds exactly want on the server's disk and through the mount.
func wantBothSides(t *testing.T, c caseDir, rel string, want []byte) {
	t.Helper()
	if diff := diffBytes(c.serverBytes(t, rel), want); diff != "" {
		t.Errorf("server side %s: %s", rel, diff)
	}
	if diff := diffBytes([]byte(sh(t, c.Mnt, "cat -- "+q(rel))), want); diff != "" {
		t.Errorf("through the mount, cat %s: %s", rel, diff)
	}
}

// wantGone checks that rel exists neither on the server's disk nor through the mount.
func wantGone(t *testing.T, c caseDir, rel string) {
	t.Helper()
	if _, err := os.Lstat(c.serverPath(rel)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("server side %s: still there (%v)", rel, err)
	}
	wantNoEntry(t, c.Mnt, rel)
}

// wantNoEntry checks that stat of rel in dir (in the mount) fails with ENOENT's message.
func wantNoEntry(t *testing.T, dir, rel string) {
	t.Helper()
	stderr := shFails(t, dir, "stat -- "+q(rel))
	if !strings.Contains(stderr, "No such file or directory") {
		t.Errorf("stat %s: stderr %q, want \"No such file or directory\"", rel, stderr)
	}
}

// wantServerDir checks that rel is a directory on the server's disk.
func wantServerDir(t *testing.T, c caseDir, rel string) {
	t.Helper()
	fi, err := os.Stat(c.serverPath(rel))
	if err != nil || !fi.IsDir() {
		t.Errorf("server side %s: want a directory, got %v", rel, describeStat(fi, err))
	}
}

func describeStat(fi fs.FileInfo, err error) string {
	if err != nil {
		return err.Error()
	}
	return fi.Mode().String()
}

// diffBytes describes how got differs from want, or returns "".
func diffBytes(got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("got %d bytes, want %d; first difference at offset %d (got %q..., want %q...)",
		len(got), len(want), i, excerpt(got, i), excerpt(want, i))
}

func excerpt(b []byte, at int) []byte {
	return b[min(at, len(b)):min(at+16, len(b))]
}
