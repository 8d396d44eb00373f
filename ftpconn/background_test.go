package ftpconn

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
)

// TestBackgroundLeavesTheSpare: a listing marked Background, made between
// two uploads of a sequential copy, goes over a connection of its own and
// leaves the copy's connection its data connection opened ahead, so the
// next upload still costs two round trips. When the listing took that
// connection, the upload after it paid for a new EPSV (three).
func TestBackgroundLeavesTheSpare(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: asVsftpd}})
	ls := startLockstep(t, s.Addr)
	c := dialVia(t, s, ls.addr())
	uploadRenamed(t, c, s, "first", []byte("the first file pays for its EPSV"))
	for i := range 3 {
		if _, err := c.List(Background(context.Background()), "/"); err != nil {
			t.Fatal(err)
		}
		before := ls.rounds()
		name := fmt.Sprintf("f%d", i)
		uploadRenamed(t, c, s, name, bytes.Repeat([]byte{byte('a' + i)}, 20000+i))
		if n := ls.rounds() - before; n > 2 {
			t.Errorf("upload and rename of %s after a background listing: %d round trips, want at most 2; the client sent:\n%s", name, n, strings.Join(ls.sent(before), "\n"))
		}
	}
}
