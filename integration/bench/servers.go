package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ftpmount/ftpmount/integration/bench/delayproxy"
	"github.com/ftpmount/ftpmount/integration/harness"
)

// serverStartTimeout bounds the start of one server (its greeting and the login check).
const serverStartTimeout = time.Minute

// proxyHost is the address the delay proxy listens on; vsftpd's PASV replies name it.
const proxyHost = "127.0.0.2"

// startServer starts a vsftpd (harness.Launch) serving b.data for the latency lat. At lat 0
// clients reach it on 127.0.0.1; above 0 the delay proxy listens on proxyHost for its control port
// and its whole passive range and forwards to it, and vsftpd's PASV replies name proxyHost. It
// tries again (up to 5 times) when the proxy cannot take a port, and checks that the test user can
// log in through the proxy.
//
// What the bench's vsftpd has that the tests' has not: no limit on clients or sessions per
// address (rclone opens many), a passive range of 1000 ports (see harness.PickPorts), and no
// logs unless -serverlog.
func (b *bench) startServer(lat time.Duration) (endpoint, error) {
	opts := harness.Options{
		DataDir:   b.data,
		Dir:       b.work,
		PasvPorts: 1000,
		Quiet:     !b.serverLog,
		ExtraConf: "max_clients=0\nmax_per_ip=0\n",
	}
	if lat > 0 {
		opts.ProxyHost = proxyHost
	}
	var lastErr error
	for range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), serverStartTimeout)
		srv, err := harness.Launch(ctx, "vsftpd", opts)
		cancel()
		if err != nil {
			return endpoint{}, err
		}
		b.servers = append(b.servers, srv)
		ep := endpoint{lat: lat, host: "127.0.0.1", port: srv.Port}
		if lat == 0 {
			return ep, nil
		}
		ep.host = proxyHost
		p := delayproxy.New(lat)
		lastErr = p.Listen(ep.addr(), srv.Addr)
		if lastErr == nil {
			lastErr = p.ListenRange(proxyHost, "127.0.0.1", srv.PasvLo, srv.PasvHi)
		}
		if lastErr == nil {
			b.proxies = append(b.proxies, p)
			if err := srv.CheckLoginAt(ep.addr()); err != nil {
				return endpoint{}, fmt.Errorf("login on %s through the delay proxy: %v", ep.addr(), err)
			}
			return ep, nil
		}
		p.Close()
		srv.Stop()
	}
	return endpoint{}, fmt.Errorf("delay proxy for vsftpd: %v", lastErr)
}

// serverLogs are the servers' log files (with -serverlog), each with the name saveLogs gives it.
func (b *bench) serverLogs() map[string]string {
	logs := map[string]string{}
	for _, s := range b.servers {
		for _, f := range s.LogFiles {
			logs[f] = "vsftpd-" + strconv.Itoa(s.Port) + ".log"
		}
	}
	return logs
}
