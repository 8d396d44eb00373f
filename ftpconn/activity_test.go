package ftpconn_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
)

// gatedReader serves data, but blocks reads past gate until open is closed.
type gatedReader struct {
	data []byte
	gate int64
	open chan struct{}
}

func (g *gatedReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > g.gate {
		<-g.open
	}
	return bytes.NewReader(g.data).ReadAt(p, off)
}

// TestActivity: an upload shows in the view while it runs, with the bytes sent so far of its
// total and a connection in use, and is gone once done.
func TestActivity(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	act := ftpconn.NewActivity()
	c := dial(t, s, func(cfg *ftpconn.Config) { cfg.Activity = act })
	data := randomBytes(4 << 20)
	src := &gatedReader{data: data, gate: 1 << 20, open: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- c.Upload(context.Background(), "/big.bin", src, int64(len(data))) }()

	deadline := time.Now().Add(10 * time.Second)
	var v ftpconn.ActivityView
	for time.Now().Before(deadline) {
		v = act.View()
		if len(v.Uploads) == 1 && v.Uploads[0].Sent > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(v.Uploads) != 1 {
		t.Fatalf("view during the upload: %+v", v)
	}
	u := v.Uploads[0]
	if u.Path != "/big.bin" || u.Total != int64(len(data)) || !u.Sending || u.Sent <= 0 || u.Sent > 1<<20 {
		t.Errorf("upload as shown: %+v", u)
	}
	if v.ConnsInUse != 1 || v.ConnsMax != 4 {
		t.Errorf("connections: %d in use of %d, want 1 of 4", v.ConnsInUse, v.ConnsMax)
	}
	close(src.open)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v := act.View(); len(v.Uploads) != 0 || v.ConnsInUse != 0 || v.ConnsIdle != 1 {
		t.Errorf("after the upload: %+v", v)
	}
}
