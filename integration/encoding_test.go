package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShiftJISServer: a vsftpd whose names are stored in Shift_JIS (cp932) reads and writes as
// UTF-8 through ftpmount -o encoding=cp932, and a name that is not valid Shift_JIS is hidden
// rather than shown wrong.
func TestShiftJISServer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "vsftpd", dirCacheFast, "encoding=cp932")
	// 日本 is 93 FA 96 7B in Shift_JIS; 表 is 95 5C (a trail byte that is a backslash in ASCII).
	c := f.dir(t, `mkdir $'\x93\xfa\x96\x7b' && printf 'old\n' > $'\x93\xfa\x96\x7b/\x95\x5c.txt' && printf 'x' > $'\x81\x20bad'`)
	if got := strings.TrimSpace(sh(t, c.Mnt, "ls")); got != "日本" {
		t.Errorf("ls = %q, want only 日本 (the invalid name hidden)", got)
	}
	if got := sh(t, c.Mnt, "cat 日本/表.txt"); got != "old\n" {
		t.Errorf("cat 日本/表.txt = %q", got)
	}
	sh(t, c.Mnt, "echo new > 日本/新しい.txt && mv 日本/表.txt 日本/表2.txt")
	sjisDir := c.serverPath("\x93\xfa\x96\x7b")
	if b, err := os.ReadFile(filepath.Join(sjisDir, "\x90\x56\x82\xb5\x82\xa2.txt")); err != nil || string(b) != "new\n" {
		t.Errorf("server side 新しい.txt in Shift_JIS: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(sjisDir, "\x95\x5c2.txt")); err != nil {
		t.Errorf("server side 表2.txt in Shift_JIS: %v", err)
	}
	out := shFails(t, c.Mnt, "touch 'emoji-😀'")
	if !strings.Contains(out, "Invalid argument") {
		t.Errorf("a name Shift_JIS cannot hold: %q, want Invalid argument", out)
	}
}
