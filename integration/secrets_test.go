package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestPasswordShowsNowhere mounts with -o debug and a log file, uses the mount, and checks that the
// password appears in no process's command line or environment, not in /proc/mounts, and not in
// the debug log (which must show "PASS ****" and the FTP dialogue).
func TestPasswordShowsNowhere(t *testing.T) {
	t.Parallel()
	logFile := filepath.Join(t.TempDir(), "debug.log")
	f := newFixture(t, "vsftpd", dirCacheFast, "debug", "logfile="+logFile)
	c := f.dir(t, "printf 'x\\n' > x.txt")
	sh(t, c.Mnt, "cat x.txt >/dev/null; echo y > y.txt; ls -l >/dev/null")
	pw := f.srv.Password

	// The daemon of this mount (other tests run ftpmount -f with the password on their own
	// command line, as a user may): it must hold the password in neither argv nor environment.
	procs := harness.ProcessesMatching(f.mnt.Dir)
	if len(procs) == 0 {
		t.Fatalf("no process serves %s", f.mnt.Dir)
	}
	for _, pr := range procs {
		p := fmt.Sprintf("/proc/%d", pr.PID)
		for _, file := range []string{"cmdline", "environ"} {
			b, err := os.ReadFile(filepath.Join(p, file))
			if err == nil && strings.Contains(string(b), pw) {
				t.Errorf("%s/%s holds the password: %q", p, file, strings.ReplaceAll(string(b), "\x00", " "))
			}
		}
	}
	mounts, err := os.ReadFile("/proc/mounts")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mounts), pw) {
		t.Error("/proc/mounts holds the password")
	}
	var line string
	for _, l := range strings.Split(string(mounts), "\n") {
		if strings.Contains(l, f.mnt.Dir) {
			line = l
		}
	}
	if !strings.HasPrefix(line, "ftp://"+f.srv.User+"@") {
		t.Errorf("mount table line %q: want the source ftp://USER@host... as fsname", line)
	}

	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(log), pw) {
		t.Error("the debug log holds the password")
	}
	for _, want := range []string{"PASS ****", "USER " + f.srv.User, "STOR ", "226 "} {
		if !strings.Contains(string(log), want) {
			t.Errorf("debug log lacks %q:\n%s", want, harness.Clip(string(log)))
		}
	}
}
