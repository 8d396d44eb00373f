package core

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/ftpmount/ftpmount/ftpconn/ftpfake"
)

// duringUpload is the fake client with a hook run after each Upload has read its source and
// before it returns: a change to the file while its upload is on the wire.
type duringUpload struct {
	*ftpfake.Client
	hook func(p string)
}

func (c *duringUpload) Upload(ctx context.Context, p string, src io.ReaderAt, size int64) error {
	err := c.Client.Upload(ctx, p, src, size)
	if c.hook != nil {
		c.hook(p)
	}
	return err
}

// TestUploadOvertakenByAChange: a file written again while its upload is on the wire (another
// descriptor; with write-back, the file opened and written again after the close) must not have
// that upload, which may mix the two versions, renamed over it; the close's upload goes again
// and the server ends with the newest version. Before, the first upload was renamed over the
// file and the close returned with the server holding neither version for sure.
func TestUploadOvertakenByAChange(t *testing.T) {
	ctx := context.Background()
	fake := ftpfake.New()
	fake.WriteFile("/f", []byte("old"))
	client := &duringUpload{Client: fake}
	c := newCore(t, client, ReplaceSafe)
	f := c.File(at("/f"))
	if err := f.OpenWrite(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := f.Write(ctx, []byte("version one"), 0); err != nil {
		t.Fatal(err)
	}
	changed := false
	client.hook = func(p string) {
		if !changed && strings.Contains(p, ".part") {
			changed = true
			if err := f.Write(ctx, []byte("VERSION TWO"), 0); err != nil {
				t.Error(err)
			}
		}
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	serverHas(t, fake, "/f", "VERSION TWO")
	if n := fake.Calls("Rename"); n != 1 {
		t.Errorf("%d renames, want 1: the overtaken upload must not be renamed over the file", n)
	}
	noTempNames(t, fake, "/")
	f.Release()
}
