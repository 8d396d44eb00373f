package main

import (
	"net"
	"os"
)

// sdNotify tells systemd about the service's state ("READY=1",
// "STOPPING=1") when it runs under a unit of Type=notify, which sets
// NOTIFY_SOCKET (see sd_notify(3)); elsewhere it does nothing. Errors are
// ignored: systemd then times the start out and says so itself.
func sdNotify(state string) {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return
	}
	if addr[0] == '@' { // abstract namespace
		addr = "\x00" + addr[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return
	}
	defer conn.Close()
	conn.Write([]byte(state))
}
