package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// connLimitWatchdog bounds each copy of TestConnectionLimit: a copy that waits for a connection its
// own process holds never ends, and the watchdog turns that into a failure.
const connLimitWatchdog = 90 * time.Second

// TestConnectionLimit: servers that allow one or two connections per address (vsftpd's max_per_ip;
// many hosts, and home routers often allow one or two). A copy within the mount reads one file while
// its upload of the other may start before the copy ends (files above 4 MiB are uploaded while they
// are written): it must finish, and with two connections allowed two copies at once must too, with
// the default pool (4, shrunk by the server's 421 refusals) and with -o connections=2. With -o
// writeback the default pool is 8 and the uploads run after the copies returned: sync(1) of the
// copies waits for them.
func TestConnectionLimit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		limit  int
		opts   []string
		copies int
	}{
		{1, nil, 1},
		{1, []string{"connections=2"}, 1},
		{2, nil, 2},
		{2, []string{"connections=2"}, 2},
		{2, []string{"writeback"}, 2},
		{1, []string{"writeback"}, 1},
	} {
		name := fmt.Sprintf("max_per_ip=%d/default", c.limit)
		if len(c.opts) > 0 {
			name = fmt.Sprintf("max_per_ip=%d/%s", c.limit, strings.Join(c.opts, "+"))
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := startServerWith(t, "vsftpd", func(o *harness.Options) {
				o.ExtraConf = fmt.Sprintf("max_per_ip=%d\n", c.limit)
			})
			var script []string
			for i := range c.copies {
				srv.sh(t, srv.DataDir, fmt.Sprintf("head -c %d /dev/urandom > a%d", 64<<20+i*4099, i))
				script = append(script, fmt.Sprintf("cp a%d b%d & p%d=$!", i, i, i))
			}
			for i := range c.copies {
				script = append(script, fmt.Sprintf("wait $p%d", i))
			}
			if slices.Contains(c.opts, "writeback") {
				script = append(script, "sync b*")
			}
			logFile := filepath.Join(t.TempDir(), "ftpmount.log")
			t.Cleanup(func() {
				if t.Failed() || os.Getenv("FTPMOUNT_SHOW_LOG") != "" {
					t.Logf("ftpmount debug log, last lines:\n%s", harness.Tail(logFile, 80))
				}
			})
			mnt := mount(t, srv, append([]string{dirCacheFast, "debug", "logfile=" + logFile}, c.opts...)...)
			r := try(connLimitWatchdog, mnt.Dir, strings.Join(script, "\n"))
			if r.TimedOut || r.Err != nil {
				t.Fatalf("cp within the mount on a server allowing %d connections: %v", c.limit, r)
			}
			for i := range c.copies {
				want := readOrNil(filepath.Join(srv.DataDir, fmt.Sprintf("a%d", i)))
				got := readOrNil(filepath.Join(srv.DataDir, fmt.Sprintf("b%d", i)))
				if diff := diffBytes(got, want); diff != "" {
					t.Errorf("b%d on the server: %s", i, diff)
				}
			}
		})
	}
}
