package integration

import (
	"context"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/ftpconn/conformance"
	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestConformance runs ftpconn's conformance suite (ftpconn/conformance: the same cases the fake
// and the in-process server pass) with the real client against each real server, at its own level,
// without a mount.
func TestConformance(t *testing.T) {
	t.Parallel()
	forEachServerOf(t, harness.PlainKinds, func(t *testing.T, kind string) {
		srv := startServer(t, kind)
		conformance.Run(t, "/", func(t *testing.T) ftpconn.Client {
			c, err := ftpconn.Dial(context.Background(), ftpconn.Config{Addr: srv.Addr, User: srv.User,
				Password: srv.Password, Timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		})
	})
}
