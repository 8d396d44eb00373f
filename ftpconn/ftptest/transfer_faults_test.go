package ftptest_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
)

// dialProxy logs in to s through p.
func dialProxy(t *testing.T, p *ftptest.Proxy, s *ftptest.Server) *ftp.ServerConn {
	t.Helper()
	c, err := ftp.Dial(p.Addr, ftp.DialWithTimeout(5*time.Second))
	must(t, err)
	t.Cleanup(func() { c.Quit() })
	must(t, c.Login(s.User, s.Password))
	return c
}

// cutLog records the calls of a TransferFaults function.
type cutLog struct {
	mu    sync.Mutex
	calls []string
	offs  []int64
}

func (l *cutLog) add(path string, off int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, path)
	l.offs = append(l.offs, off)
}

func (l *cutLog) get() ([]string, []int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...), append([]int64(nil), l.offs...)
}

// TestProxyRelays: without faults the proxy is transparent, with EPSV and
// with PASV, for listings, transfers, REST, errors before 150 and
// multi-line replies (FEAT at login, MLST).
func TestProxyRelays(t *testing.T) {
	for _, pasv := range []bool{false, true} {
		name := "EPSV"
		if pasv {
			name = "PASV"
		}
		t.Run(name, func(t *testing.T) {
			var faults *ftptest.Faults
			if pasv {
				faults = &ftptest.Faults{Hook: func(cmd, _ string) *ftptest.Action {
					if cmd == "EPSV" {
						return &ftptest.Action{Reply: "502 EPSV not here"}
					}
					return nil
				}}
			}
			s := ftptest.Start(t, ftptest.Options{Faults: faults})
			var downloads, uploads cutLog
			p := ftptest.StartProxy(t, s.Addr, ftptest.TransferFaults{
				Download: func(path string, off int64) *ftptest.Cut { downloads.add(path, off); return nil },
				Upload:   func(path string, off int64) *ftptest.Cut { uploads.add(path, off); return nil },
			})
			data := randBytes(3 << 20)
			writeFile(t, s.Dir, "a.bin", data)
			c := dialProxy(t, p, s)

			es, err := c.List("/")
			must(t, err)
			if len(es) != 1 || es[0].Name != "a.bin" || es[0].Size != uint64(len(data)) {
				t.Fatalf("List /: %v", es)
			}
			e, err := c.GetEntry("/a.bin") // MLST: a multi-line reply
			must(t, err)
			if e.Size != uint64(len(data)) {
				t.Errorf("MLST size %d", e.Size)
			}
			if got := retr(t, c, "/a.bin", 0); !bytes.Equal(got, data) {
				t.Fatalf("RETR: got %d bytes", len(got))
			}
			if got := retr(t, c, "/a.bin", 12345); !bytes.Equal(got, data[12345:]) {
				t.Fatalf("REST + RETR: got %d bytes", len(got))
			}
			must(t, c.Stor("/b.bin", bytes.NewReader(data)))
			if !bytes.Equal(readFile(t, s.Dir, "b.bin"), data) {
				t.Fatal("STOR: bytes on disk differ")
			}
			must(t, c.StorFrom("/b.bin", bytes.NewReader([]byte("xy")), 10))
			if got := readFile(t, s.Dir, "b.bin"); string(got[10:12]) != "xy" || len(got) != len(data) {
				t.Fatalf("REST + STOR: %d bytes, %q at 10", len(got), got[10:12])
			}
			_, err = c.Retr("/missing")
			wantCode(t, "RETR /missing", err, 550)
			wantCode(t, "STOR into a missing dir", c.Stor("/nodir/f", bytes.NewReader([]byte("x"))), 550)
			names, err := c.NameList("/")
			must(t, err)
			if len(names) != 2 {
				t.Errorf("NLST: %q", names)
			}
			must(t, c.NoOp())

			if calls, offs := downloads.get(); len(calls) != 3 || calls[0] != "/a.bin" || offs[0] != 0 || offs[1] != 12345 {
				t.Errorf("Download asked for %q at %v", calls, offs)
			}
			if calls, offs := uploads.get(); len(calls) != 3 || calls[0] != "/b.bin" || offs[0] != 0 || offs[1] != 10 {
				t.Errorf("Upload asked for %q at %v", calls, offs)
			}
			if p.Fired() != 0 {
				t.Errorf("Fired() = %d without cuts", p.Fired())
			}
		})
	}
}

// TestProxyDownloadCut: a RETR cut after n bytes gives exactly n bytes,
// then 426, even when the server had sent everything and 226 already; a
// resume with REST then runs in full.
func TestProxyDownloadCut(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	p := ftptest.StartProxy(t, s.Addr, ftptest.TransferFaults{
		Download: func(path string, off int64) *ftptest.Cut {
			switch {
			case path == "/small" && off == 0:
				return &ftptest.Cut{After: 100}
			case path == "/big" && off == 0:
				return &ftptest.Cut{After: 3 << 20}
			case path == "/zero":
				return &ftptest.Cut{After: 0, Reply: "451 Local error in processing"}
			}
			return nil
		},
	})
	small := randBytes(1000) // sits in socket buffers at once: the server replies 226 before the cut
	big := randBytes(8 << 20)
	writeFile(t, s.Dir, "small", small)
	writeFile(t, s.Dir, "big", big)
	writeFile(t, s.Dir, "zero", small)
	c := dialProxy(t, p, s)

	for _, f := range []struct {
		name string
		data []byte
		cut  int
		code int
	}{{"small", small, 100, 426}, {"big", big, 3 << 20, 426}, {"zero", small, 0, 451}} {
		r, err := c.Retr("/" + f.name)
		must(t, err)
		got, err := io.ReadAll(r)
		must(t, err)
		if !bytes.Equal(got, f.data[:f.cut]) {
			t.Errorf("%s: got %d bytes, want the first %d", f.name, len(got), f.cut)
		}
		wantCode(t, f.name+": close after the cut", r.Close(), f.code)
		if f.name != "zero" {
			if rest := retr(t, c, "/"+f.name, uint64(f.cut)); !bytes.Equal(rest, f.data[f.cut:]) {
				t.Errorf("%s: resume from %d got %d bytes", f.name, f.cut, len(rest))
			}
		}
	}
	must(t, c.NoOp())
	if p.Fired() != 3 {
		t.Errorf("Fired() = %d, want 3", p.Fired())
	}
}

// TestProxyUploadCut: a STOR cut after n bytes fails at the client with
// 426, and the server keeps the n bytes it got.
func TestProxyUploadCut(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	p := ftptest.StartProxy(t, s.Addr, ftptest.TransferFaults{
		Upload: func(path string, off int64) *ftptest.Cut {
			if path == "/up" {
				return &ftptest.Cut{After: 1 << 20}
			}
			return nil
		},
	})
	c := dialProxy(t, p, s)
	data := randBytes(6 << 20)
	err := c.Stor("/up", bytes.NewReader(data))
	if err == nil {
		t.Fatal("STOR cut after 1 MiB succeeded")
	}
	t.Logf("STOR: %v", err)
	if got := readFile(t, s.Dir, "up"); !bytes.Equal(got, data[:1<<20]) {
		t.Errorf("server kept %d bytes, want the first %d", len(got), 1<<20)
	}
	// The control connection is still in step (jlaffaye read the 426).
	must(t, c.NoOp())
	must(t, c.Stor("/other", bytes.NewReader(data)))
	if !bytes.Equal(readFile(t, s.Dir, "other"), data) {
		t.Error("STOR after the cut: bytes differ")
	}
	if p.Fired() != 1 {
		t.Errorf("Fired() = %d, want 1", p.Fired())
	}
}

// TestProxyStall: a RETR that stalls after n bytes delivers n bytes, then
// nothing while the data connection stays open; when the client gives up
// and closes it, the reply is 426 and the connection goes on.
func TestProxyStall(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	p := ftptest.StartProxy(t, s.Addr, ftptest.TransferFaults{
		Download: func(string, int64) *ftptest.Cut { return &ftptest.Cut{After: 5000, Stall: true} },
	})
	data := randBytes(4 << 20)
	writeFile(t, s.Dir, "f", data)
	c := dialProxy(t, p, s)
	r, err := c.Retr("/f")
	must(t, err)
	got := make([]byte, 5000)
	_, err = io.ReadFull(r, got)
	must(t, err)
	if !bytes.Equal(got, data[:5000]) {
		t.Error("first 5000 bytes differ")
	}
	more := make(chan int, 1)
	go func() {
		n, _ := r.Read(make([]byte, 100))
		more <- n
	}()
	select {
	case n := <-more:
		t.Fatalf("a read after the stall returned (%d bytes)", n)
	case <-time.After(500 * time.Millisecond):
	}
	wantCode(t, "close of the stalled RETR", r.Close(), 426)
	<-more
	must(t, c.NoOp())
	if p.Fired() != 1 {
		t.Errorf("Fired() = %d, want 1", p.Fired())
	}
}

// TestProxyClose: Close ends every relayed connection, as a server that
// goes away would.
func TestProxyClose(t *testing.T) {
	s := ftptest.Start(t, ftptest.Options{})
	p := ftptest.StartProxy(t, s.Addr, ftptest.TransferFaults{})
	c := dialProxy(t, p, s)
	must(t, c.NoOp())
	p.Close()
	if err := c.NoOp(); err == nil {
		t.Error("NoOp through a closed proxy succeeded")
	}
	if _, err := os.Stat(filepath.Join(s.Dir)); err != nil {
		t.Fatal(err)
	}
	waitSessions(t, s, 0)
}
