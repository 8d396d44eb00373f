package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// longPathWithin bounds how long a command on a path too long for the server may take: a bound
// against the wait proftpd imposes (it never answers a line longer than its buffer, so the command
// waited out the timeout), not a speed measurement.
const longPathWithin = 20 * time.Second

// TestLongPath: a path longer than a server takes on its command line fails with ENAMETOOLONG ("File
// name too long"), at once, on every server, instead of a refusal that reads like a missing file
// ("500 Input line too long" on vsftpd, "500 Command too long" on pyftpdlib) or a wait for the
// timeout (proftpd). The directories that
// fit are made.
func TestLongPath(t *testing.T) {
	t.Parallel()
	forEachServerOf(t, harness.PlainKinds, func(t *testing.T, kind string) {
		f := newFixture(t, kind, dirCacheFast, "timeout=30")
		c := f.dir(t, "")
		// 22 levels of 200 bytes: about 4,400 bytes, past what any of the servers takes (pyftpdlib
		// refuses lines above 2,048 bytes and says so; ftpmount sends none above 4,000).
		var parts []string
		for i := range 22 {
			parts = append(parts, strings.Repeat(string(rune('a'+i)), 200))
		}
		deep := strings.Join(parts, "/")
		start := time.Now()
		r := try(cmdTimeout, c.Mnt, "mkdir -p "+q(deep))
		took := time.Since(start)
		if r.Err == nil || !strings.Contains(r.Stderr, "File name too long") {
			t.Errorf("mkdir -p of a %d-byte path: want \"File name too long\": %v", len(deep), r)
		}
		if took > longPathWithin {
			t.Errorf("mkdir -p of a %d-byte path took %v (bound %v)", len(deep), took.Round(time.Second), longPathWithin)
		}
		// The levels that fit were made, on the server too.
		fits := strings.Join(parts[:8], "/")
		if r := try(cmdTimeout, c.Srv, "test -d "+q(fits)); r.Err != nil {
			t.Errorf("the first 8 levels are not on the server: %v", r)
		}
	})
}
