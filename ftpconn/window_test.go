package ftpconn

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

func TestWindowKeepsTheLastBytes(t *testing.T) {
	data := make([]byte, 3*windowSize+12345)
	rand.New(rand.NewSource(1)).Read(data)
	var w window
	w.reset(100)
	// Feed in uneven chunks, like a stream does.
	for off, step := 0, 1; off < len(data); step = step*7%65521 + 1 {
		end := min(off+step, len(data))
		w.add(data[off:end])
		off = end
	}
	end := int64(100 + len(data))
	if w.end != end || w.start != end-windowSize {
		t.Fatalf("window holds [%d,%d), want [%d,%d)", w.start, w.end, end-windowSize, end)
	}
	buf := make([]byte, 5000)
	for _, off := range []int64{end - windowSize, end - 5000, end - windowSize/2 - 17} {
		n := w.readAt(buf, off)
		if n != len(buf) || !bytes.Equal(buf, data[off-100:off-100+5000]) {
			t.Fatalf("readAt(%d) = %d bytes, wrong content", off, n)
		}
	}
	if n := w.readAt(buf, end-windowSize-1); n != 0 {
		t.Fatalf("readAt before the window returned %d bytes", n)
	}
	if n := w.readAt(buf, end-100); n != 100 {
		t.Fatalf("readAt near the end returned %d bytes, want 100", n)
	}
	huge := make([]byte, windowSize+10)
	w.add(huge)
	if w.end-w.start != windowSize {
		t.Fatalf("after a huge add the window holds %d bytes", w.end-w.start)
	}
}

func TestProtoLogMasksPasswordAndLabelsLines(t *testing.T) {
	var got bytes.Buffer
	l := newProtoLog(1, func(f string, a ...any) { fmt.Fprintf(&got, f+"\n", a...) })
	l.Write([]byte("USER bob\r\nPA"))
	l.Write([]byte("SS hunter2\r\n"))
	l.Write([]byte("230 Login successful.\r\n211-Features:\r\n MLST type*;size*;\r\n211 End\r\n"))
	l.Write([]byte("-rw-r--r--    1 1000     1000            5 Nov 21 06:32 a.txt\r\n"))
	want := "ftp[1] > USER bob\nftp[1] > PASS ****\nftp[1] < 230 Login successful.\n" +
		"ftp[1] < 211-Features:\nftp[1] <  MLST type*;size*;\nftp[1] < 211 End\n" +
		"ftp[1] | -rw-r--r--    1 1000     1000            5 Nov 21 06:32 a.txt\n"
	if got.String() != want {
		t.Fatalf("log:\n%s\nwant:\n%s", got.String(), want)
	}
	if strings.Contains(got.String(), "hunter2") {
		t.Fatal("password logged")
	}
}
