package harness

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
)

// PickPorts returns a control port and a passive range lo..hi of n ports (n may be 0: then lo and
// hi are 0), n+1 consecutive ports that could all be bound on every one of hosts a moment ago.
// They lie outside the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), so
// that clients' own connections do not take them meanwhile. A server may still lose a port to
// another process before it binds it: [Launch] retries then.
//
// The bench needs a large range: vsftpd ends a session ("500 OOPS: priv_sock_get_int") when 10
// random ports of its range in a row cannot be bound, and rclone's random reads (a new session and
// an EPSV per read, some never connected, so their ports stay listening) did that within seconds
// with 60 or 100 ports.
func PickPorts(hosts []string, n int) (port, lo, hi int, err error) {
	free := func(p int) bool {
		for _, h := range hosts {
			l, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(p)))
			if err != nil {
				return false
			}
			l.Close()
		}
		return true
	}
	first, last := 10000, 30000
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var elo, ehi int
		if _, err := fmt.Sscan(string(data), &elo, &ehi); err == nil {
			switch {
			case elo-1-10000 > 4*(n+1):
				first, last = 10000, elo-1
			case 65535-ehi > 4*(n+1):
				first, last = ehi+1, 65535
			}
		}
	}
	for range 200 {
		start := first + rand.IntN(last-first-n)
		ok := true
		for p := start; p <= start+n && ok; p++ {
			ok = free(p)
		}
		if ok {
			if n == 0 {
				return start, 0, 0, nil
			}
			return start + n, start, start + n - 1, nil
		}
	}
	return 0, 0, 0, fmt.Errorf("no %d free consecutive ports in %d-%d", n+1, first, last)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, as the kernel picks one:
// a port where nothing listens, say.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
