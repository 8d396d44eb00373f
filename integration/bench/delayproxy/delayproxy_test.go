package delayproxy

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"
)

// echoServer answers each connection by echoing it back, then half-closing.
func echoServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	return l.Addr().String()
}

func TestRoundTripDelay(t *testing.T) {
	const delay = 30 * time.Millisecond
	target := echoServer(t)
	p := New(delay)
	defer p.Close()
	if err := p.Listen("127.0.0.1:0", target); err != nil {
		t.Fatal(err)
	}
	addr := p.listeners[0].Addr().String()

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 5)
	for i := range 3 {
		start := time.Now()
		if _, err := c.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		// Only the lower bound is a property of the proxy: how much longer
		// a round trip takes depends on the machine's load.
		if rtt := time.Since(start); rtt < 2*delay {
			t.Errorf("round trip %d took %v, want at least %v", i, rtt, 2*delay)
		}
	}
}

func TestBulkWithHalfClose(t *testing.T) {
	target := echoServer(t)
	p := New(5 * time.Millisecond)
	p.MaxInFlight = 1 << 20
	defer p.Close()
	if err := p.Listen("127.0.0.1:0", target); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", p.listeners[0].Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	data := make([]byte, 20<<20)
	r := rand.NewChaCha8([32]byte{1})
	r.Read(data)
	go func() {
		c.Write(data)
		c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(data) || sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("echoed %d bytes (equal: %v), sent %d", len(got), bytes.Equal(got, data), len(data))
	}
}
