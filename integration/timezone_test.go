package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestTimeZoneVsftpd (issue 11, item 7) on the real thing: vsftpd with use_localtime=YES in a zone
// 5 hours east of UTC lists times in that zone and reads the time of "MDTM time path" in it. With
// -o timezone=+0500 the times shown are the files' own, and a time set through the mount (touch)
// lands on the server as set; without it, every listed time is 5 hours off (so the quirk is real).
func TestTimeZoneVsftpd(t *testing.T) {
	t.Parallel()
	srv := startServerWith(t, "vsftpd", func(o *harness.Options) {
		o.ExtraConf = "use_localtime=YES\n"
		o.TZ = "XXX-5" // POSIX: UTC+5
	})
	when := time.Now().Add(-72 * time.Hour).Truncate(time.Minute) // LIST gives minutes for recent files
	srv.sh(t, srv.DataDir, fmt.Sprintf("echo x > f; touch -m -d @%d f", when.Unix()))

	plain := mount(t, srv, dirCacheFast)
	if got := strings.TrimSpace(sh(t, plain.Dir, "stat -c %Y f")); got != fmt.Sprint(when.Add(5*time.Hour).Unix()) {
		t.Fatalf("without -o timezone: mtime %s, want the file's own shifted by +5h (%d): does the server list in its zone? (off by %s)",
			got, when.Add(5*time.Hour).Unix(), offBy(got, when))
	}

	m := mount(t, srv, dirCacheFast, "timezone=+0500")
	if got := strings.TrimSpace(sh(t, m.Dir, "stat -c %Y f")); got != fmt.Sprint(when.Unix()) {
		t.Errorf("with -o timezone=+0500: mtime %s, want %d (off by %s)", got, when.Unix(), offBy(got, when))
	}
	set := time.Now().Add(-30 * 24 * time.Hour).Truncate(time.Minute)
	sh(t, m.Dir, fmt.Sprintf("echo y > g; touch -m -d @%d g", set.Unix()))
	fi, err := os.Stat(filepath.Join(srv.DataDir, "g"))
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(set) {
		t.Errorf("touch through the mount: the server has %v, want %v (off by %v)", fi.ModTime().UTC(), set.UTC(), fi.ModTime().Sub(set))
	}
	// Listed again (dir_cache=2), the set time is still the one shown.
	time.Sleep(3 * time.Second)
	if got := strings.TrimSpace(sh(t, m.Dir, "stat -c %Y g")); got != fmt.Sprint(set.Unix()) {
		t.Errorf("after listing again: mtime %s, want %d (off by %s)", got, set.Unix(), offBy(got, set))
	}

	// MDTM, which the mount asks for times to the second (the page cache's check of a file
	// changed in the same minute), answers in the zone as well on this server.
	zone, _ := ftpconn.ParseTimeZone("+0500")
	c, err := ftpconn.Dial(context.Background(), ftpconn.Config{Addr: srv.Addr, User: srv.User,
		Password: srv.Password, Timeout: 10 * time.Second, TimeZone: zone})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := c.ModTime(context.Background(), "/f"); err != nil || !got.Equal(when) {
		t.Errorf("MDTM of f with timezone=+0500: %v (%v), want %v", got.UTC(), err, when.UTC())
	}
}
