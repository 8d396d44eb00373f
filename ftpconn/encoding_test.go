package ftpconn_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
)

func TestShiftJISNames(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	enc, err := ftpconn.LookupEncoding("cp932")
	if err != nil {
		t.Fatal(err)
	}
	sjis := func(u string) string {
		b, err := japanese.ShiftJIS.NewEncoder().String(u)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// On the server's disk: a Shift_JIS directory and file, and a name that is
	// not valid Shift_JIS at all.
	os.MkdirAll(filepath.Join(s.Dir, sjis("日本語")), 0o755)
	os.WriteFile(filepath.Join(s.Dir, sjis("日本語"), sjis("表.txt")), []byte("hyou"), 0o644)
	os.WriteFile(filepath.Join(s.Dir, "\x81\x20bad"), []byte("x"), 0o644)

	c := dial(t, s, func(cfg *ftpconn.Config) { cfg.Encoding = enc })
	ctx := context.Background()
	ents, err := c.List(ctx, "/")
	if err != nil || len(ents) != 1 || ents[0].Name != "日本語" {
		t.Fatalf("List(/) = %+v, %v; want only 日本語 (the invalid name hidden)", ents, err)
	}
	ents, err = c.List(ctx, "/日本語")
	if err != nil || len(ents) != 1 || ents[0].Name != "表.txt" {
		t.Fatalf("List(/日本語) = %+v, %v", ents, err)
	}
	data := []byte("書いた")
	if err := c.Upload(ctx, "/日本語/新しい.txt", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(s.Dir, sjis("日本語"), sjis("新しい.txt"))); err != nil || string(got) != string(data) {
		t.Fatalf("server side: %q, %v", got, err)
	}
	if err := c.Mkdir(ctx, "/😀"); err == nil {
		t.Fatal("a name Shift_JIS cannot hold was accepted")
	}
}
