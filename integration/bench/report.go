package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// report prints the table and writes DIR/bench.md and DIR/bench.png (once).
func (b *bench) report() {
	b.repOnce.Do(func() {
		if len(b.endpoints) == 0 {
			return
		}
		table := b.table()
		fmt.Println(table)
		for _, n := range b.caveats() {
			fmt.Println("- " + n)
		}
		if err := os.MkdirAll(b.out, 0o755); err != nil {
			b.logf("%v", err)
			return
		}
		md := b.markdown(table)
		if err := os.WriteFile(filepath.Join(b.out, "bench.md"), []byte(md), 0o644); err != nil {
			b.logf("%v", err)
		}
		if err := b.writeChart(filepath.Join(b.out, "bench.png")); err != nil {
			b.logf("chart: %v", err)
		}
		b.logf("wrote %s and %s", filepath.Join(b.out, "bench.md"), filepath.Join(b.out, "bench.png"))
	})
}

// fmtSec formats seconds with three significant digits.
func fmtSec(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	case v >= 0.1:
		return fmt.Sprintf("%.3f", v)
	default:
		return fmt.Sprintf("%.4f", v)
	}
}

// fmtRatio shows two decimals, or two significant digits below 0.1.
func fmtRatio(r float64) string {
	if r < 0.1 {
		return fmt.Sprintf("%.2g", r)
	}
	return fmt.Sprintf("%.2f", r)
}

func fmtLat(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

// value is one cell of the table: the median, "error", or "—" when not measured.
func (b *bench) value(w *workload, lat time.Duration, t tool) string {
	c := b.res.cell(lat, w.id, t)
	if len(c.samples) == 0 {
		if c.err != "" {
			return "error"
		}
		return "—"
	}
	m, _ := b.res.median(lat, w.id, t)
	s := fmtSec(m)
	switch w.unit {
	case "MiB":
		s = fmt.Sprintf("%.0f MiB", m)
	case "B/entry":
		s = fmt.Sprintf("%.0f B", m)
	}
	if len(c.samples) < b.reps && (w.unit == "" || w.unit == "s") {
		s += fmt.Sprintf(" (%d run)", len(c.samples))
	}
	if c.err != "" {
		s += " (error in a later run)"
	}
	return s
}

// ratio is ftpmount / reference (for an absolute limit: ftpmount / limit), when both are there.
func (b *bench) ratio(w *workload, lat time.Duration) (float64, bool) {
	f, ok := b.res.median(lat, w.id, toolFtpmount)
	if !ok {
		return 0, false
	}
	if w.absolute() {
		return f / w.target, w.target > 0
	}
	r, ok := b.res.median(lat, w.id, w.ref)
	if !ok || r <= 0 {
		return 0, false
	}
	return f / r, true
}

// met says whether the target is met: "yes", "no", "?" when a value is missing, "—" without a target.
func (b *bench) met(w *workload, lat time.Duration) string {
	if w.target == 0 {
		return "—"
	}
	r, ok := b.ratio(w, lat)
	if !ok {
		return "?"
	}
	c := b.res.cell(lat, w.id, toolFtpmount)
	switch {
	case len(c.flags) > 0:
		return "**no** (not on the server when it returned)"
	case w.unit == "MiB" && r < 1, w.unit != "MiB" && w.absolute() && r <= 1, !w.absolute() && r <= w.target:
		return "yes"
	default:
		return "**no**"
	}
}

// targetText is the target column: ≤ 1.5× curl, ≤ 0.5 s, < 600 MiB, ≤ 500 B per entry.
func (w *workload) targetText() string {
	switch {
	case w.target == 0:
		return "—"
	case !w.absolute():
		return fmt.Sprintf("≤ %g× %s", w.target, w.ref)
	case w.unit == "MiB":
		return fmt.Sprintf("< %g MiB", w.target)
	case w.unit == "B/entry":
		return fmt.Sprintf("≤ %g B", w.target)
	}
	return fmt.Sprintf("≤ %g %s", w.target, w.unit)
}

// shown reports whether w has a row: always in a full run (a row of dashes says what is missing),
// with -only when something of it was measured.
func (b *bench) shown(w *workload) bool {
	if b.only == nil {
		return true
	}
	for _, ep := range b.endpoints {
		for _, t := range allTools {
			if c := b.res.cell(ep.lat, w.id, t); len(c.samples) > 0 || c.err != "" {
				return true
			}
		}
	}
	return false
}

// roundTrips is ftpmount's time per operation in round trips of the added latency (2 × one way),
// for workloads with ops at latencies above 0.
func (b *bench) roundTrips(w *workload, lat time.Duration) (float64, bool) {
	if w.ops == 0 || lat == 0 {
		return 0, false
	}
	m, ok := b.res.median(lat, w.id, toolFtpmount)
	if !ok {
		return 0, false
	}
	return m / (2 * lat.Seconds()) / float64(w.ops), true
}

func (b *bench) table() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Times in seconds, median of %d run(s); ratio = ftpmount / reference; RT/op = ftpmount's time per "+
		"operation in round trips of the added latency (2 × one way).\n\n", b.reps)
	sb.WriteString("| workload | latency | curl | rclone | ftpmount | ratio | RT/op | target | met |\n")
	sb.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, w := range b.workloads {
		if !b.shown(w) {
			continue
		}
		for _, ep := range b.endpoints {
			if w.lat0only && ep.lat != 0 {
				continue
			}
			ratio, rt := "—", "—"
			if r, ok := b.ratio(w, ep.lat); ok && !w.absolute() {
				ratio = fmtRatio(r) + "× " + w.ref.String()
			}
			if v, ok := b.roundTrips(w, ep.lat); ok {
				rt = fmt.Sprintf("%.1f", v)
			}
			fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w.name, fmtLat(ep.lat),
				b.value(w, ep.lat, toolCurl), b.value(w, ep.lat, toolRclone), b.value(w, ep.lat, toolFtpmount),
				ratio, rt, w.targetText(), b.met(w, ep.lat))
		}
	}
	return sb.String()
}

// markdown is bench.md: the environment, the table, how each number was taken, and every sample.
func (b *bench) markdown(table string) string {
	var sb strings.Builder
	mode := "full"
	if b.quick {
		mode = "quick (-quick: small sizes, smoke test; numbers not meaningful)"
	}
	sb.WriteString("# ftpmount benchmark\n\n")
	fmt.Fprintf(&sb, "- date: %s; mode: %s\n", time.Now().Format("2006-01-02 15:04 MST"), mode)
	for _, line := range b.environment() {
		fmt.Fprintf(&sb, "- %s\n", line)
	}
	sb.WriteString("\n")
	sb.WriteString(table)
	if notes := b.caveats(); len(notes) > 0 {
		sb.WriteString("\n")
		for _, n := range notes {
			fmt.Fprintf(&sb, "- %s\n", n)
		}
	}
	sb.WriteString("\n![ratios](bench.png)\n\n")
	sb.WriteString(`## How

- Server: vsftpd on 127.0.0.1, files made on the server's side. Latency L > 0: a user-space TCP proxy
  (integration/bench/delayproxy) on 127.0.0.2 for the control port and every passive port delays each
  byte by L in each direction (and a new connection by L); vsftpd's pasv_address is 127.0.0.2.
- Cold: ` + "`sync; echo 3 > /proc/sys/vm/drop_caches`" + ` before the measurement, and a fresh mount
  (mounting is not timed). Reads, listings, find and random reads are cold; warm ls -l is the same command
  again right after the cold one.
- Within a repetition curl, rclone and ftpmount take turns; each number is the median of the repetitions.
- Writes: ftpmount's time is until dd (conv=fsync) or cp returns, and the data must then be on the server
  (checked at once; otherwise the row is marked). rclone (--vfs-cache-mode writes, --vfs-write-back 0s)
  uploads after close, so its time runs until every file is on the server with its full size (polled
  every 20 ms on the server's side); when its command returned is in the samples below.
- curl's random reads: one curl with one ranged URL per read (` + "`--next`" + `-style config), one connection.
  curl's ls rows are a LIST of the directory (warm: the same again). find has no curl equivalent.
- Peak RSS: VmRSS of the serving process (ftpmount's daemon, found with pgrep -f on the mount point;
  rclone's mount process) sampled every 100 ms.
- Huge directories (loopback only): empty files in a directory of their own; curl's LIST of it, and
  ftpmount's ` + "`ls -l`" + ` on a fresh mount, cold then warm. Memory per entry: the daemon's VmRSS after
  the cold ls -l less its VmRSS when idle, divided by the entries; peak RSS: its VmHWM.
- RT/op: ftpmount's median time / (2 × the one-way latency) / the operations of one run (preads, files
  copied, directories listed): about how many round trips each operation costs.
- Write-back (` + "`-o writeback`" + `, row cp-wb): close returns once the data is in the local spool, so
  ftpmount's time, like rclone's, runs until every file is on the server with its full size.

## Command lines

`)
	b.mu.Lock()
	for _, c := range b.commands {
		fmt.Fprintf(&sb, "- %s\n", c)
	}
	b.mu.Unlock()
	sb.WriteString("\n## Samples\n\n")
	for _, w := range b.workloads {
		for _, ep := range b.endpoints {
			if w.lat0only && ep.lat != 0 {
				continue
			}
			for _, t := range allTools {
				c := b.res.cell(ep.lat, w.id, t)
				if len(c.samples) == 0 && c.err == "" && len(c.notes) == 0 {
					continue
				}
				var vals []string
				for _, v := range c.samples {
					vals = append(vals, fmtSec(v))
				}
				fmt.Fprintf(&sb, "- %s, %s, %s: [%s]", w.name, fmtLat(ep.lat), t, strings.Join(vals, " "))
				for _, n := range c.notes {
					fmt.Fprintf(&sb, "; %s", n)
				}
				for _, f := range c.flags {
					fmt.Fprintf(&sb, "; **%s**", f)
				}
				if c.err != "" {
					fmt.Fprintf(&sb, "; error: `%s`", strings.ReplaceAll(c.err, "`", "'"))
				}
				sb.WriteString("\n")
			}
		}
	}
	return sb.String()
}

// caveats are remarks on this run's numbers that the table cannot show.
func (b *bench) caveats() []string {
	var out []string
	for _, ep := range b.endpoints {
		cold, ok1 := b.res.median(ep.lat, "ls-cold", toolRclone)
		warm, ok2 := b.res.median(ep.lat, "ls-warm", toolRclone)
		if ok1 && ok2 && warm > cold/2 && cold > 60 {
			out = append(out, fmt.Sprintf("At %s rclone's warm ls -l took as long as its cold one (%s s). Its cold listing took"+
				" longer than its directory cache lives (--dir-cache-time, 5 min by default), and it sends one MDTM per file."+
				" So the warm ratio at this latency says little.", fmtLat(ep.lat), fmtSec(warm)))
		}
	}
	for _, id := range []string{"write-mid", "cp", "cp-wb"} {
		for _, ep := range b.endpoints {
			if len(b.res.cell(ep.lat, id, toolRclone).samples) > 0 {
				out = append(out, "rclone's write times run until the data is on the server. Its commands return earlier"+
					" and it uploads after close (see the samples below).")
				return out
			}
		}
	}
	return out
}

// environment describes the machine, the versions and the binary measured.
func (b *bench) environment() []string {
	var out []string
	cpu := "?"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
		f.Close()
	}
	var uts syscall.Utsname
	syscall.Uname(&uts)
	kernel := int8String(uts.Release[:])
	out = append(out, fmt.Sprintf("machine: %d CPUs (%s), kernel %s", runtime.NumCPU(), cpu, kernel))
	rev := strings.TrimSpace(b.runAlways(10*time.Second, nil, "git", "-C", b.root, "rev-parse", "--short", "HEAD").stdout)
	if strings.TrimSpace(b.runAlways(10*time.Second, nil, "git", "-C", b.root, "status", "--porcelain", "--", "cmd", "fs", "cache", "ftpconn", "go.mod").stdout) != "" {
		rev += " with uncommitted changes in cmd/ fs/ cache/ ftpconn/"
	}
	out = append(out, fmt.Sprintf("ftpmount: %s, commit %s", b.binInfo, rev))
	first := func(argv ...string) string {
		s := b.runAlways(10*time.Second, nil, argv...).stdout
		line, _, _ := strings.Cut(s, "\n")
		return strings.TrimSpace(line)
	}
	curl := strings.Fields(first("curl", "--version"))
	out = append(out, fmt.Sprintf("curl: %s", strings.Join(curl[:min(2, len(curl))], " ")))
	out = append(out, fmt.Sprintf("rclone: %s", first("rclone", "version")))
	out = append(out, fmt.Sprintf("vsftpd: %s (Debian package)", first("dpkg-query", "-W", "-f", "${Version}\n", "vsftpd")))
	return out
}

func int8String(a []int8) string {
	var sb strings.Builder
	for _, c := range a {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}
