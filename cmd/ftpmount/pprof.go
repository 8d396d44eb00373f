package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

// pprofEnv, when set to an address (127.0.0.1:6060), makes the process
// that serves the mount serve Go's profiles there (/debug/pprof/: heap,
// profile, goroutine ...). For finding where time and memory go
// (`go tool pprof http://ADDR/debug/pprof/heap`); not a user option, and
// nothing listens unless it is set. Bind it to loopback: the profiles
// show paths and names.
const pprofEnv = "FTPMOUNT_PPROF"

// startPprof serves the profiles when pprofEnv asks for it. A failure is
// logged (warnf) and the mount goes on.
func startPprof(warnf func(format string, args ...any)) {
	addr := os.Getenv(pprofEnv)
	if addr == "" {
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		warnf("%s=%s: %v (no profiles served)", pprofEnv, addr, err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	warnf("serving profiles on http://%s/debug/pprof/ (%s is set)", ln.Addr(), pprofEnv)
	go http.Serve(ln, mux)
}
