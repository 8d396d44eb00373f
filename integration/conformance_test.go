package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/ftpconn/conformance"
	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestConformance runs ftpconn's conformance suite (ftpconn/conformance: the same cases the fake
// and the in-process server pass) with the real client against each real server, at its own level,
// without a mount: plain, explicit and implicit FTPS alike, since the client's own command path
// (pipelined commands, data connections opened ahead) runs over TLS there.
func TestConformance(t *testing.T) {
	t.Parallel()
	kinds := slices.Concat(harness.PlainKinds, harness.TLSKinds, harness.ImplicitKinds)
	forEachServerOf(t, kinds, func(t *testing.T, kind string) {
		srv := startServer(t, kind)
		cfg := ftpconn.Config{Addr: srv.Addr, User: srv.User, Password: srv.Password, Timeout: 30 * time.Second}
		if harness.IsTLS(kind) {
			pem, err := os.ReadFile(srv.CAFile)
			if err != nil {
				t.Fatal(err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				t.Fatalf("no certificate in %s", srv.CAFile)
			}
			cfg.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			cfg.ImplicitTLS = harness.IsImplicit(kind)
		}
		conformance.Run(t, "/", func(t *testing.T) ftpconn.Client {
			c, err := ftpconn.Dial(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		})
	})
}
