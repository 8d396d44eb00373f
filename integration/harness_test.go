package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestHarness checks the test servers themselves, without ftpmount: curl lists, downloads and
// uploads through each server as startServer configures it, so that a failure elsewhere is
// ftpmount's.
func TestHarness(t *testing.T) {
	t.Parallel()
	forEachServer(t, testHarness)
}

func testHarness(t *testing.T, kind string) {
	srv := startServer(t, kind)
	srv.sh(t, srv.DataDir, "printf 'from the server\\n' > hello.txt")
	base := srv.ftpURL()

	if list := sh(t, "/", "curl -sS --max-time 30 "+q(base)); !strings.Contains(list, "hello.txt") {
		t.Errorf("curl listing %s: %q lacks hello.txt", base, list)
	}
	if got := sh(t, "/", "curl -sS --max-time 30 "+q(base+"hello.txt")); got != "from the server\n" {
		t.Errorf("curl download: %q", got)
	}
	up := filepath.Join(t.TempDir(), "up.txt")
	if err := os.WriteFile(up, []byte("uploaded\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh(t, "/", "curl -sS --max-time 30 -T "+q(up)+" "+q(base+"up.txt"))
	got, err := os.ReadFile(filepath.Join(srv.DataDir, "up.txt"))
	if err != nil || string(got) != "uploaded\n" {
		t.Errorf("curl upload: server side has %q, %v", got, err)
	}
	// The servers write as the logged-in user: server-side fixtures are made as that user too.
	if fi, err := os.Stat(filepath.Join(srv.DataDir, "up.txt")); err == nil {
		if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != srv.cred.Uid {
			t.Errorf("uploaded file owned by uid %d, want %s's %d", uid, srv.User, srv.cred.Uid)
		}
	}
}
