package conformance_test

import (
	"context"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/ftpconn/conformance"
	"github.com/ftpmount/ftpmount/ftpconn/ftpfake"
	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
)

// The fake that the layers above ftpconn are tested with.
func TestFake(t *testing.T) {
	conformance.Run(t, "/", func(t *testing.T) ftpconn.Client { return ftpfake.New() })
}

// The real client on the in-process server. (The real servers run the same
// suite in integration/conformance_test.go.)
func TestFtptest(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	conformance.Run(t, "/", func(t *testing.T) ftpconn.Client {
		c, err := ftpconn.Dial(context.Background(), ftpconn.Config{Addr: s.Addr, User: s.User, Password: s.Password, Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	})
}
