// Command bench measures ftpmount against raw curl and rclone's FUSE mount on a local vsftpd, with
// no added latency and through a delaying TCP proxy, and writes a markdown table and a PNG chart of
// the ratios. Run it as root (it mounts, drops the page cache and starts vsftpd):
//
//	go run ./integration/bench [-quick] [-out DIR] [-bin bin/ftpmount] [-reps N] [-lat 0,20ms,40ms]
//
// `make bench` installs what it needs first (scripts/bench.sh). See integration/bench/README.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "pread" {
		os.Exit(preadHelper(os.Args[2:]))
	}
	var (
		quick   = flag.Bool("quick", false, "small sizes and one run per measurement: a smoke test of about a minute")
		out     = flag.String("out", "bench-results", "directory for bench.md, bench.png and the logs")
		bin     = flag.String("bin", "", "ftpmount binary to measure (default: build bin/ftpmount from this module)")
		reps    = flag.Int("reps", 0, "runs per measurement, the median is reported (default 5, 1 with -quick)")
		lats    = flag.String("lat", "0,20ms,40ms", "one-way latencies to measure at, comma-separated (a round trip is twice that)")
		limit   = flag.Duration("timeout", 0, "give up the whole run after this long (default 150m, 10m with -quick)")
		tools   = flag.String("tools", "curl,rclone,ftpmount", "comma-separated tools to measure")
		srvLog  = flag.Bool("serverlog", false, "make vsftpd log every FTP command and reply (into DIR/logs; slows it a little)")
		workers = flag.String("only", "", "comma-separated scenario names to run (default all): "+strings.Join(scenarioNames(), ","))
	)
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: run as root (it mounts FUSE filesystems, starts vsftpd and drops the page cache)")
		os.Exit(2)
	}
	b := &bench{quick: *quick, reps: *reps, out: *out, serverLog: *srvLog}
	if b.reps <= 0 {
		b.reps = 5
		if b.quick {
			b.reps = 1
		}
	}
	for _, s := range strings.Split(*lats, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if s == "0" {
			d, err = 0, nil
		}
		if err != nil || d < 0 {
			fmt.Fprintf(os.Stderr, "bench: bad latency %q\n", s)
			os.Exit(2)
		}
		b.lats = append(b.lats, d)
	}
	if *workers != "" {
		b.only = map[string]bool{}
		for _, s := range strings.Split(*workers, ",") {
			b.only[strings.TrimSpace(s)] = true
		}
	}
	b.tools = map[tool]bool{}
	for _, s := range strings.Split(*tools, ",") {
		found := false
		for _, t := range allTools {
			if t.String() == strings.TrimSpace(s) {
				b.tools[t], found = true, true
			}
		}
		if !found {
			fmt.Fprintf(os.Stderr, "bench: unknown tool %q\n", s)
			os.Exit(2)
		}
	}
	if *limit == 0 {
		*limit = 150 * time.Minute
		if b.quick {
			*limit = 10 * time.Minute
		}
	}
	b.sz = fullSizes
	if b.quick {
		b.sz = quickSizes
	}
	b.workloads = makeWorkloads(b.sz)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		b.logf("%v: stopping", s)
		b.abandon(130)
	}()
	watchdog := time.AfterFunc(*limit, func() {
		b.logf("the whole run took longer than %v: stopping", *limit)
		b.abandon(1)
	})

	err := b.setup(*bin)
	if err == nil {
		err = b.measure()
	}
	watchdog.Stop()
	if err != nil {
		b.logf("error: %v", err)
	}
	b.report()
	b.cleanup()
	if err != nil {
		os.Exit(1)
	}
}

// abandon reports what was measured, cleans up and exits; for signals and the overall time limit.
func (b *bench) abandon(code int) {
	b.stopping.Store(true)
	b.report()
	b.cleanup()
	os.Exit(code)
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// moduleRoot finds the directory of this module's go.mod, from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/ftpmount/ftpmount\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("not inside the ftpmount module (no go.mod found above the working directory)")
		}
		dir = parent
	}
}
