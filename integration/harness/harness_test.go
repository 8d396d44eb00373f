package harness

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The harness's pure parts, without a server: what FTPMOUNT_SERVERS selects, the ports it picks,
// and how it reads /proc.

func TestSelect(t *testing.T) {
	for _, c := range []struct {
		spec string
		want []string // nil: no choice
		err  string
	}{
		{"", nil, ""},
		{"all", nil, ""},
		{" vsftpd ", []string{"vsftpd"}, ""},
		{"proftpd-tls,vsftpd proftpd-tls", []string{"proftpd-tls", "vsftpd"}, ""},
		{"implicit", ImplicitKinds, ""},
		{"tls", slices.Concat(TLSKinds, ImplicitKinds), ""},
		{"vsftpd,plain", PlainKinds, ""},
		{"vsfptd", nil, `unknown server "vsfptd"`},
	} {
		got, err := Select(c.spec)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("Select(%q): error %v, want one containing %q", c.spec, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("Select(%q): %v", c.spec, err)
		case !slices.Equal(got, c.want) || (got == nil) != (c.want == nil):
			t.Errorf("Select(%q) = %q, want %q", c.spec, got, c.want)
		}
	}
}

func TestKinds(t *testing.T) {
	for _, kind := range Kinds {
		if programs[BaseKind(kind)] == nil {
			t.Errorf("%s: no program for %q", kind, BaseKind(kind))
		}
		if IsImplicit(kind) && !IsTLS(kind) {
			t.Errorf("%s: implicit but not TLS", kind)
		}
		if tls := slices.Contains(Tools(kind), "openssl"); tls != IsTLS(kind) {
			t.Errorf("%s: Tools %q (openssl: %v), IsTLS %v", kind, Tools(kind), tls, IsTLS(kind))
		}
	}
	if BaseKind("proftpd-tls-implicit") != "proftpd" || Known("proftpd-implicit") {
		t.Error("BaseKind or Known")
	}
}

func TestPickPorts(t *testing.T) {
	var elo, ehi int
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if _, err := fmt.Sscan(string(b), &elo, &ehi); err != nil {
			elo, ehi = 0, -1
		}
	}
	for _, n := range []int{0, 50, 1000} {
		port, lo, hi, err := PickPorts([]string{"127.0.0.1"}, n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 && (lo != 0 || hi != 0) || n > 0 && (hi-lo+1 != n || port != hi+1) {
			t.Errorf("PickPorts(%d) = %d, %d-%d", n, port, lo, hi)
		}
		first := min(port, max(lo, 1))
		if n == 0 {
			first = port
		}
		if first <= ehi && port >= elo {
			t.Errorf("PickPorts(%d) = %d, %d-%d: inside the ephemeral range %d-%d", n, port, lo, hi, elo, ehi)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			t.Errorf("the control port %d: %v", port, err)
		} else {
			l.Close()
		}
	}
}

func TestStatFields(t *testing.T) {
	ppid, state, ok := statFields([]byte("4242 (a) b (c)) S 17 4242 4242 0 -1"))
	if !ok || ppid != 17 || state != "S" {
		t.Errorf("statFields: %d %q %v", ppid, state, ok)
	}
	if _, _, ok := statFields([]byte("4242 (cut")); ok {
		t.Error("statFields of a line without ')' succeeded")
	}
	if !ProcessAlive(os.Getpid()) || len(ProcessesMatching("")) != 0 {
		t.Error("ProcessAlive(self) or ProcessesMatching(\"\")")
	}
}
