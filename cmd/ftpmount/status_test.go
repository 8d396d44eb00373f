package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// TestStatusSocket: a mount point named through a symbolic link has the same socket as the
// directory itself, and different mount points have different sockets.
func TestStatusSocket(t *testing.T) {
	dir := t.TempDir()
	real, link := filepath.Join(dir, "real"), filepath.Join(dir, "link")
	os.Mkdir(real, 0o755)
	os.Symlink(real, link)
	if statusSocket(real) != statusSocket(link) {
		t.Errorf("%s and its link %s have different sockets", real, link)
	}
	if statusSocket(real) == statusSocket(dir) {
		t.Error("two mount points share a socket")
	}
}

func TestProgress(t *testing.T) {
	for _, c := range []struct {
		u    ftpconn.UploadState
		want string
	}{
		{ftpconn.UploadState{Sent: 1 << 20, Total: 4 << 20}, "1.0 MiB of 4.0 MiB (25%)"},
		{ftpconn.UploadState{Sent: 512, Total: -1}, "512 bytes sent, still being written"},
		{ftpconn.UploadState{Sent: 0, Total: 0}, "0 bytes of 0 bytes (100%)"},
	} {
		if got := progress(c.u); got != c.want {
			t.Errorf("progress(%+v) = %q, want %q", c.u, got, c.want)
		}
	}
}

func TestDisplayPath(t *testing.T) {
	if got := displayPath("/d/.big.bin.ftpmount-tpaarw-0ce8259e.part"); got != "/d/big.bin (as .big.bin.ftpmount-tpaarw-0ce8259e.part)" {
		t.Errorf("temporary name: %q", got)
	}
	if got := displayPath("/d/.hidden"); got != "/d/.hidden" {
		t.Errorf("plain name: %q", got)
	}
}
