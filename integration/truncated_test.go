package integration

import (
	"fmt"
	"strings"
	"testing"
)

// TestTruncatedListingPureFtpd (issue 11, item 5): pure-ftpd with its default settings stops a
// listing at 10,000 entries and says so only in its 226 ("Output truncated"). Every name it left
// out still opens through the mount (asked about one by one, MLST), and none is reported missing.
func TestTruncatedListingPureFtpd(t *testing.T) {
	t.Parallel()
	const n = 10_100
	forEachServerOf(t, []string{"pure-ftpd"}, func(t *testing.T, kind string) {
		f := newFixture(t, kind, dirCacheFast)
		c := f.dir(t, fmt.Sprintf("mkdir many && cd many && seq -f 'f%%05g' 1 %d | xargs touch && echo last > f%05d", n, n))
		listed := strings.Fields(shTimeout(t, 2*cmdTimeout, c.Mnt, "ls many"))
		if len(listed) >= n {
			t.Fatalf("pure-ftpd listed all %d entries: its default limit (10,000) is gone, this test tests nothing", len(listed))
		}
		seen := map[string]bool{}
		for _, name := range listed {
			seen[name] = true
		}
		var missing []string
		for i := 1; i <= n; i++ {
			if name := fmt.Sprintf("f%05d", i); !seen[name] {
				missing = append(missing, name)
			}
		}
		t.Logf("pure-ftpd listed %d of %d; stat of the %d others through the mount", len(listed), n, len(missing))
		out := shTimeout(t, 2*cmdTimeout, c.Mnt+"/many", "stat -c %n "+strings.Join(missing, " "))
		if got := len(strings.Fields(out)); got != len(missing) {
			t.Errorf("stat of the names the listing left out: %d of %d", got, len(missing))
		}
		if !seen[fmt.Sprintf("f%05d", n)] {
			if got := sh(t, c.Mnt, fmt.Sprintf("cat many/f%05d", n)); got != "last\n" {
				t.Errorf("cat of a name past the cut: %q", got)
			}
		}
	})
}
