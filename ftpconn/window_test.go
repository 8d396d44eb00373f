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

func TestWindowGapsAreNeverServed(t *testing.T) {
	var w window
	w.size = 1000
	w.reset(0)
	a := bytes.Repeat([]byte{'a'}, 100)
	w.add(a)  // [0,100) held
	w.gap(50) // [100,150) spliced past
	w.add(a)  // [150,250) held
	w.gap(10) // [250,260)
	w.gap(10) // [260,270): one gap with the previous
	w.add(a)  // [270,370)
	if len(w.gaps) != 2 {
		t.Fatalf("gaps %v, want two", w.gaps)
	}
	buf := make([]byte, 1000)
	for _, c := range []struct {
		off  int64
		want int
	}{{0, 100}, {90, 10}, {100, 0}, {149, 0}, {150, 100}, {255, 0}, {270, 100}, {369, 1}, {370, 0}} {
		if n := w.readAt(buf, c.off); n != c.want {
			t.Errorf("readAt(%d) = %d bytes, want %d", c.off, n, c.want)
		}
	}
	// Old gaps go once the window has moved past them.
	w.add(bytes.Repeat([]byte{'b'}, 900)) // holds [270,1270) now
	if len(w.gaps) != 0 || w.start != 270 {
		t.Fatalf("after moving on: start %d, gaps %v", w.start, w.gaps)
	}
	if n := w.readAt(buf, 300); n != 970 {
		t.Fatalf("readAt(300) = %d, want 970", n)
	}
}
