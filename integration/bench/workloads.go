package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type tool int

const (
	toolCurl tool = iota
	toolRclone
	toolFtpmount
)

var allTools = []tool{toolCurl, toolRclone, toolFtpmount}

func (t tool) String() string { return [...]string{"curl", "rclone", "ftpmount"}[t] }

// workload is one row of the table (per latency).
type workload struct {
	id    string
	label string // for the chart's axis
	name  string
	// ref: the ratio is ftpmount / ref, and target its limit. toolNone:
	// ftpmount's value itself is compared with target, in unit.
	ref    tool
	target float64 // 0: no target (the row only informs)
	unit   string  // "" (seconds, against ref), or for an absolute limit: "s", "MiB", "B/entry"
	// ops is the number of operations one run makes that each need the
	// server (preads, files, directories): the table shows the round trips
	// per operation at latencies above 0 (0: not shown).
	ops      int
	lat0only bool // measured on loopback only (huge directories: the link's speed is not the point)
	durable  bool // ftpmount must have the data on the server when the command returns
}

// toolNone is the ref of workloads with an absolute limit.
const toolNone tool = -1

// absolute reports whether w is compared with a limit rather than with a reference tool.
func (w *workload) absolute() bool { return w.ref == toolNone }

func makeWorkloads(sz sizes) []*workload {
	return []*workload{
		{id: "read-big", label: "read " + hsize(sz.big), ref: toolCurl, target: 1.5,
			name: fmt.Sprintf("sequential read %s, cold", hsize(sz.big))},
		{id: "read-mid", label: "read " + hsize(sz.mid), ref: toolCurl, target: 2,
			name: fmt.Sprintf("sequential read %s, cold", hsize(sz.mid))},
		{id: "write-mid", label: "write " + hsize(sz.mid), ref: toolCurl, target: 1.5, durable: true,
			name: fmt.Sprintf("sequential write %s, dd conv=fsync (curl: upload)", hsize(sz.mid))},
		{id: "randread", label: fmt.Sprintf("%d random 4k", sz.preads), ref: toolRclone, target: 0.1, ops: sz.preads,
			name: fmt.Sprintf("%d random 4 KiB preads in %s, cold", sz.preads, hsize(sz.big))},
		{id: "ls-cold", label: "ls -l cold", ref: toolRclone, target: 0.5, ops: 1,
			name: fmt.Sprintf("ls -l of %d entries, cold", sz.dirEntries)},
		{id: "ls-warm", label: "ls -l warm", ref: toolRclone, target: 0.2,
			name: fmt.Sprintf("ls -l of %d entries, warm", sz.dirEntries)},
		{id: "find", label: fmt.Sprintf("find %dx%d", sz.treeDirs, sz.treeFiles), ref: toolRclone, target: 1, ops: sz.treeDirs + 1,
			name: fmt.Sprintf("find over %d dirs × %d files, cold", sz.treeDirs, sz.treeFiles)},
		{id: "cp", label: fmt.Sprintf("cp -r %d files", sz.cpFiles), ref: toolRclone, target: 1, durable: true, ops: sz.cpFiles,
			name: fmt.Sprintf("cp -r of %d small files into the mount", sz.cpFiles)},
		{id: "cp-wb", label: fmt.Sprintf("cp -r %d files, writeback", sz.cpFiles), ref: toolRclone, target: 0.5, ops: sz.cpFiles,
			name: fmt.Sprintf("cp -r of %d small files with -o writeback, until all are on the server", sz.cpFiles)},
		{id: "rss", label: "peak rss", ref: toolNone, unit: "MiB", target: 150,
			name: fmt.Sprintf("peak RSS (MiB) while reading %s and writing %s", hsize(sz.huge), hsize(sz.big))},
		{id: "huge1-cold", label: "ls -l " + hcount(sz.huge1) + " cold", ref: toolCurl, target: 1.5, lat0only: true,
			name: fmt.Sprintf("ls -l of %s entries, cold (curl: LIST)", hcount(sz.huge1))},
		{id: "huge1-warm", label: "ls -l " + hcount(sz.huge1) + " warm", ref: toolNone, unit: "s", target: 0.5, lat0only: true,
			name: fmt.Sprintf("ls -l of %s entries, warm", hcount(sz.huge1))},
		{id: "huge1-mem", label: "memory per entry " + hcount(sz.huge1), ref: toolNone, unit: "B/entry", target: 500, lat0only: true,
			name: fmt.Sprintf("daemon memory per entry after ls -l of %s (VmRSS growth)", hcount(sz.huge1))},
		{id: "huge2-cold", label: "ls -l " + hcount(sz.huge2) + " cold", ref: toolCurl, lat0only: true,
			name: fmt.Sprintf("ls -l of %s entries, cold (curl: LIST)", hcount(sz.huge2))},
		{id: "huge2-warm", label: "ls -l " + hcount(sz.huge2) + " warm", ref: toolNone, unit: "s", lat0only: true,
			name: fmt.Sprintf("ls -l of %s entries, warm", hcount(sz.huge2))},
		{id: "huge2-mem", label: "memory per entry " + hcount(sz.huge2), ref: toolNone, unit: "B/entry", lat0only: true,
			name: fmt.Sprintf("daemon memory per entry after ls -l of %s (VmRSS growth)", hcount(sz.huge2))},
		{id: "huge2-rss", label: "peak rss " + hcount(sz.huge2), ref: toolNone, unit: "MiB", target: 600, lat0only: true,
			name: fmt.Sprintf("daemon's peak RSS (MiB, VmHWM) after ls -l of %s entries", hcount(sz.huge2))},
	}
}

// hcount formats an entry count as 200k, 1M.
func hcount(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// hsize formats a byte count as 4 GiB, 256 MiB.
func hsize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	default:
		return fmt.Sprintf("%d KiB", n>>10)
	}
}

// scenario is one measured activity; it yields the values of one or more workloads.
type scenario struct {
	name     string
	ids      []string
	tools    []tool
	once     bool // not repeated
	lat0only bool // only on loopback
	run      func(b *bench, ep endpoint, rep int, t tool) error
}

var scenarios = []scenario{
	{name: "read-big", ids: []string{"read-big"}, tools: allTools, run: func(b *bench, ep endpoint, _ int, t tool) error {
		return b.seqRead(ep, t, "read-big", "big.bin", b.sz.big)
	}},
	{name: "read-mid", ids: []string{"read-mid"}, tools: allTools, run: func(b *bench, ep endpoint, _ int, t tool) error {
		return b.seqRead(ep, t, "read-mid", "mid.bin", b.sz.mid)
	}},
	{name: "randread", ids: []string{"randread"}, tools: allTools, run: (*bench).randRead},
	{name: "ls", ids: []string{"ls-cold", "ls-warm"}, tools: allTools, run: (*bench).lsDir},
	{name: "find", ids: []string{"find"}, tools: []tool{toolRclone, toolFtpmount}, run: (*bench).findTree},
	{name: "write", ids: []string{"write-mid"}, tools: allTools, run: (*bench).seqWrite},
	{name: "cp", ids: []string{"cp"}, tools: allTools, run: func(b *bench, ep endpoint, rep int, t tool) error {
		return b.cpSmall(ep, rep, t, "cp")
	}},
	{name: "cp-wb", ids: []string{"cp-wb"}, tools: []tool{toolRclone, toolFtpmount}, run: func(b *bench, ep endpoint, rep int, t tool) error {
		return b.cpSmall(ep, rep, t, "cp-wb", "writeback")
	}},
	{name: "rss", ids: []string{"rss"}, tools: []tool{toolRclone, toolFtpmount}, once: true, run: (*bench).memory},
	{name: "huge1", ids: []string{"huge1-cold", "huge1-warm", "huge1-mem"}, tools: []tool{toolCurl, toolFtpmount}, lat0only: true,
		run: func(b *bench, ep endpoint, _ int, t tool) error { return b.hugeDir(ep, t, "huge1", b.sz.huge1) }},
	{name: "huge2", ids: []string{"huge2-cold", "huge2-warm", "huge2-mem", "huge2-rss"}, tools: []tool{toolCurl, toolFtpmount}, lat0only: true,
		run: func(b *bench, ep endpoint, _ int, t tool) error { return b.hugeDir(ep, t, "huge2", b.sz.huge2) }},
}

func scenarioNames() []string {
	var out []string
	for _, s := range scenarios {
		out = append(out, s.name)
	}
	return out
}

// slowRun: a tool whose run of a scenario took longer is not run again (its first value stands).
const slowRun = 60 * time.Second

// attempts: a run that fails is tried again, up to this many times in all (the failures are noted).
const attempts = 3

// measure runs every scenario at every latency; within a repetition the tools take turns, so that
// the ratios compare measurements made side by side.
func (b *bench) measure() error {
	for _, ep := range b.endpoints {
		for _, sc := range scenarios {
			if !b.selected(sc.name) || sc.lat0only && ep.lat != 0 {
				continue
			}
			n := b.reps
			if sc.once {
				n = 1
			}
			done := map[tool]bool{} // failed, or too slow to repeat
			for rep := range n {
				for _, t := range sc.tools {
					if done[t] || !b.tools[t] {
						continue
					}
					start := time.Now()
					err := sc.run(b, ep, rep, t)
					for attempt := 2; err != nil && !errors.Is(err, errTimedOut) && attempt <= attempts && !b.stopping.Load(); attempt++ {
						b.logf("%s at %v, %s, run %d failed (attempt %d of %d): %v", sc.name, ep.lat, t, rep+1, attempt-1, attempts, err)
						for _, id := range sc.ids {
							b.res.note(ep.lat, id, t, fmt.Sprintf("run %d, attempt %d failed: %v", rep+1, attempt-1, err))
						}
						start = time.Now()
						err = sc.run(b, ep, rep, t)
					}
					if b.stopping.Load() {
						return errStopping
					}
					if err != nil {
						b.logf("%s at %v, %s, run %d: %v", sc.name, ep.lat, t, rep+1, err)
						for _, id := range sc.ids {
							b.res.fail(ep.lat, id, t, err)
						}
						done[t] = true
						continue
					}
					took := time.Since(start)
					b.logf("%-8s at %4v  %-8s run %d: %s (%.1f s)", sc.name, ep.lat, t, rep+1, b.res.last(ep.lat, sc.ids, t), took.Seconds())
					if took > slowRun && rep+1 < n {
						done[t] = true
						for _, id := range sc.ids {
							b.res.note(ep.lat, id, t, fmt.Sprintf("not repeated: one run took %.0f s", took.Seconds()))
						}
					}
				}
			}
		}
	}
	return nil
}

// selected reports whether the scenario named name is to run (-only).
func (b *bench) selected(name string) bool { return b.only == nil || b.only[name] }

// mountFor mounts ep with t: rclone with the given --vfs-cache-mode, or
// ftpmount with the -o options opts.
func (b *bench) mountFor(t tool, ep endpoint, rcloneMode string, opts ...string) (*mountInst, error) {
	if t == toolRclone {
		m, err := b.mountRclone(ep, rcloneMode)
		if err == nil {
			b.noteCommand("rclone mount ("+rcloneMode+")", b.rcloneArgs(ep, m.dir, rcloneMode))
		}
		return m, err
	}
	m, err := b.mountFtpmount(ep, opts...)
	if m != nil {
		b.noteCommand("ftpmount mount", b.ftpmountArgs(ep, m.dir, opts...))
	}
	if err != nil && m != nil {
		b.unmount(m)
	}
	return m, err
}

// coldMount mounts ep with t for reading, then empties the caches (the
// server's and the mount's alike): what is measured next starts cold, and
// the mounting is not timed.
func (b *bench) coldMount(t tool, ep endpoint) (*mountInst, error) {
	m, err := b.mountFor(t, ep, "off")
	if err != nil {
		return nil, err
	}
	if err := b.dropCaches(); err != nil {
		b.unmount(m)
		return nil, err
	}
	return m, nil
}

// seqRead reads a whole file: curl RETR to /dev/null, or dd bs=1M from a fresh mount; cold cache.
func (b *bench) seqRead(ep endpoint, t tool, id, name string, size int64) error {
	if t == toolCurl {
		argv := []string{"curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{size_download}", ep.url("/" + name)}
		b.noteCommand("curl download", argv)
		if err := b.dropCaches(); err != nil {
			return err
		}
		r := b.run(transferTimeout(size), nil, argv...)
		if r.err != nil {
			return r.errOf()
		}
		if got := strings.TrimSpace(r.stdout); got != strconv.FormatInt(size, 10) {
			return fmt.Errorf("curl downloaded %s bytes, want %d", got, size)
		}
		b.res.add(ep.lat, id, t, r.dur.Seconds())
		return nil
	}
	m, err := b.coldMount(t, ep)
	if err != nil {
		return err
	}
	defer b.unmount(m)
	argv := []string{"dd", "if=" + filepath.Join(m.dir, name), "of=/dev/null", "bs=1M"}
	b.noteCommand("mount: sequential read", argv)
	r := b.run(transferTimeout(size), nil, argv...)
	if r.err != nil {
		return r.errOf()
	}
	if n, err := ddBytes(r.stderr); err != nil || n != size {
		return fmt.Errorf("dd read %d bytes (%v), want %d", n, err, size)
	}
	b.res.add(ep.lat, id, t, r.dur.Seconds())
	return nil
}

// randomOffsets are n block-aligned offsets in a file of size bytes; the same for every tool of a run.
func randomOffsets(seed uint64, n int, size int64, bs int) []int64 {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	blocks := size / int64(bs)
	out := make([]int64, n)
	for i := range out {
		out[i] = rng.Int64N(blocks) * int64(bs)
	}
	return out
}

// randRead does the random 4 KiB reads in big.bin: curl with one ranged URL each (one invocation,
// one connection), or the pread helper (this program) on a fresh mount; cold cache.
func (b *bench) randRead(ep endpoint, rep int, t tool) error {
	const bs = 4096
	seed := uint64(rep + 1)
	if err := b.dropCaches(); err != nil {
		return err
	}
	if t == toolCurl {
		var cfg strings.Builder
		for i, off := range randomOffsets(seed, b.sz.preads, b.sz.big, bs) {
			if i > 0 {
				cfg.WriteString("next\n")
			}
			fmt.Fprintf(&cfg, "url = \"%s\"\nrange = \"%d-%d\"\noutput = \"/dev/null\"\n", ep.url("/big.bin"), off, off+bs-1)
		}
		path := filepath.Join(b.work, "curl-ranges.cfg")
		if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
			return err
		}
		argv := []string{"curl", "-sS", "--fail", "-K", path}
		b.noteCommand("curl random reads", append(argv, "# config: url/range/output=/dev/null per read, separated by next"))
		r := b.run(10*time.Minute, nil, argv...)
		if r.err != nil {
			return r.errOf()
		}
		b.res.add(ep.lat, "randread", t, r.dur.Seconds())
		return nil
	}
	m, err := b.coldMount(t, ep)
	if err != nil {
		return err
	}
	defer b.unmount(m)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	argv := []string{self, "pread", filepath.Join(m.dir, "big.bin"), strconv.Itoa(b.sz.preads), strconv.Itoa(bs), strconv.FormatUint(seed, 10)}
	b.noteCommand("mount: random reads", append([]string{"bench"}, argv[1:]...))
	r := b.run(10*time.Minute, nil, argv...)
	if r.err != nil {
		return r.errOf()
	}
	f := strings.Fields(r.stdout)
	if len(f) < 1 {
		return fmt.Errorf("pread helper said %q", r.stdout)
	}
	secs, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return err
	}
	b.res.add(ep.lat, "randread", t, secs)
	return nil
}

// preadHelper is `bench pread FILE N BS SEED`: open FILE, read N blocks of BS bytes at the offsets
// randomOffsets gives, print the seconds it took (open included) and the bytes read.
func preadHelper(args []string) int {
	if len(args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: bench pread FILE N BS SEED")
		return 2
	}
	n, _ := strconv.Atoi(args[1])
	bs, _ := strconv.Atoi(args[2])
	seed, _ := strconv.ParseUint(args[3], 10, 64)
	start := time.Now()
	f, err := os.Open(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	buf := make([]byte, bs)
	total := 0
	for _, off := range randomOffsets(seed, n, fi.Size(), bs) {
		m, err := f.ReadAt(buf, off)
		if m != bs {
			fmt.Fprintf(os.Stderr, "pread at %d: %d bytes, %v\n", off, m, err)
			return 1
		}
		total += m
	}
	fmt.Printf("%.6f %d\n", time.Since(start).Seconds(), total)
	return 0
}

// lsDir lists the big directory twice: cold (fresh mount, dropped caches) then warm. curl: LIST twice.
func (b *bench) lsDir(ep endpoint, _ int, t tool) error {
	want := b.sz.dirEntries
	var argv []string
	if t == toolCurl {
		argv = []string{"curl", "-sS", "--fail", ep.url("/dir10k/")}
		b.noteCommand("curl list", argv)
	} else {
		m, err := b.mountFor(t, ep, "off")
		if err != nil {
			return err
		}
		defer b.unmount(m)
		argv = []string{"ls", "-l", filepath.Join(m.dir, "dir10k")}
		b.noteCommand("mount: list", argv)
		want++ // "total N"
	}
	if err := b.dropCaches(); err != nil {
		return err
	}
	for _, id := range []string{"ls-cold", "ls-warm"} {
		r := b.run(10*time.Minute, nil, argv...)
		if r.err != nil {
			return r.errOf()
		}
		if got := strings.Count(r.stdout, "\n"); got != want {
			return fmt.Errorf("%s printed %d lines, want %d", argv[0], got, want)
		}
		b.res.add(ep.lat, id, t, r.dur.Seconds())
	}
	return nil
}

// findTree runs find over the tree on a fresh mount, cold.
func (b *bench) findTree(ep endpoint, _ int, t tool) error {
	m, err := b.coldMount(t, ep)
	if err != nil {
		return err
	}
	defer b.unmount(m)
	argv := []string{"find", filepath.Join(m.dir, "tree"), "-type", "f"}
	b.noteCommand("mount: find", argv)
	r := b.run(10*time.Minute, nil, argv...)
	if r.err != nil {
		return r.errOf()
	}
	if got, want := strings.Count(r.stdout, "\n"), b.sz.treeDirs*b.sz.treeFiles; got != want {
		return fmt.Errorf("find printed %d lines, want %d", got, want)
	}
	b.res.add(ep.lat, "find", t, r.dur.Seconds())
	return nil
}

// seqWrite uploads mid.bin's content (a local file, warm in the page cache): curl -T, or
// dd conv=fsync into a fresh mount. For rclone (which uploads after close) the time runs until the
// whole file is on the server.
func (b *bench) seqWrite(ep endpoint, rep int, t tool) error {
	src := filepath.Join(b.data, "mid.bin")
	size := b.sz.mid
	name := fmt.Sprintf("write-%s-%dms-%d.bin", t, ep.lat.Milliseconds(), rep)
	onServer := filepath.Join(b.data, "up", name)
	defer os.Remove(onServer)
	if err := b.warm(src); err != nil {
		return err
	}
	// Start every tool from a disk with nothing left to write back: the
	// previous tool's 256 MiB (and rclone's cache copy) would otherwise be
	// written back during this one's run.
	if r := b.run(3*time.Minute, nil, "sync"); r.err != nil {
		return r.errOf()
	}
	if t == toolCurl {
		argv := []string{"curl", "-sS", "--fail", "-T", src, ep.url("/up/" + name)}
		b.noteCommand("curl upload", argv)
		r := b.run(transferTimeout(size), nil, argv...)
		if r.err != nil {
			return r.errOf()
		}
		if err := checkSize(onServer, size); err != nil {
			return err
		}
		b.res.add(ep.lat, "write-mid", t, r.dur.Seconds())
		return nil
	}
	m, err := b.mountFor(t, ep, "writes")
	if err != nil {
		return err
	}
	defer b.unmount(m)
	argv := []string{"dd", "if=" + src, "of=" + filepath.Join(m.dir, "up", name), "bs=1M", "conv=fsync"}
	b.noteCommand("mount: sequential write", argv)
	r := b.run(transferTimeout(size), nil, argv...)
	if r.err != nil {
		return r.errOf()
	}
	if n, err := ddBytes(r.stderr); err != nil || n != size {
		return fmt.Errorf("dd wrote %d bytes (%v), want %d", n, err, size)
	}
	return b.recordWrite(ep, "write-mid", t, r.dur, func() error { return checkSize(onServer, size) }, size)
}

// recordWrite records a write's time. ftpmount must have the data on the server when the command
// returns (else the run is flagged); rclone's time runs on until it is there.
func (b *bench) recordWrite(ep endpoint, id string, t tool, cmdDur time.Duration, check func() error, size int64) error {
	err := check()
	if t == toolFtpmount && b.durable(id) {
		if err != nil {
			b.res.flag(ep.lat, id, t, "not on the server when the command returned: "+err.Error())
		}
		b.res.add(ep.lat, id, t, cmdDur.Seconds())
		return nil
	}
	start := time.Now().Add(-cmdDur)
	deadline := time.Now().Add(transferTimeout(size))
	for err != nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: still not on the server %v after the command returned: %v", t, transferTimeout(size), err)
		}
		time.Sleep(20 * time.Millisecond)
		err = check()
	}
	total := time.Since(start)
	b.res.add(ep.lat, id, t, total.Seconds())
	b.res.note(ep.lat, id, t, fmt.Sprintf("command returned after %.3f s, on the server after %.3f s", cmdDur.Seconds(), total.Seconds()))
	return nil
}

func checkSize(path string, size int64) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Size() != size {
		return fmt.Errorf("%s has %d bytes, want %d", filepath.Base(path), fi.Size(), size)
	}
	return nil
}

// durable reports whether workload id promises the data on the server when ftpmount's command
// returns (else its time, like rclone's, runs until the data is there).
func (b *bench) durable(id string) bool {
	for _, w := range makeWorkloads(b.sz) {
		if w.id == id {
			return w.durable
		}
	}
	return false
}

// cpSmall copies the directory of small files for row id: curl -T with a {a,b,...} list (one
// connection), or cp -r into a fresh mount (ftpmount's with the -o options opts).
func (b *bench) cpSmall(ep endpoint, rep int, t tool, id string, opts ...string) error {
	name := fmt.Sprintf("%s-%s-%dms-%d", id, t, ep.lat.Milliseconds(), rep)
	onServer := filepath.Join(b.data, "up", name)
	defer os.RemoveAll(onServer)
	entries, err := os.ReadDir(b.cpSrc)
	if err != nil {
		return err
	}
	var names []string
	var total int64
	for _, e := range entries {
		names = append(names, e.Name())
		if fi, err := e.Info(); err == nil {
			total += fi.Size()
		}
	}
	// Warm the sources.
	if err := b.run(time.Minute, nil, "sh", "-c", "cat \"$1\"/* > /dev/null", "sh", b.cpSrc).errOf(); err != nil {
		return err
	}
	check := func() error { return sameFiles(b.cpSrc, onServer, names) }
	if t == toolCurl {
		argv := []string{"curl", "-sS", "--fail", "--ftp-create-dirs", "-T", b.cpSrc + "/{" + strings.Join(names, ",") + "}", ep.url("/up/" + name + "/")}
		b.noteCommand("curl upload of many files", argv)
		r := b.run(transferTimeout(total)+time.Duration(len(names))*time.Second, nil, argv...)
		if r.err != nil {
			return r.errOf()
		}
		if err := check(); err != nil {
			return fmt.Errorf("after curl: %v", err)
		}
		b.res.add(ep.lat, id, t, r.dur.Seconds())
		return nil
	}
	m, err := b.mountFor(t, ep, "writes", opts...)
	if err != nil {
		return err
	}
	defer b.unmount(m)
	argv := []string{"cp", "-r", b.cpSrc, filepath.Join(m.dir, "up", name)}
	b.noteCommand("mount: cp -r", argv)
	r := b.run(10*time.Minute, nil, argv...)
	if r.err != nil {
		return r.errOf()
	}
	return b.recordWrite(ep, id, t, r.dur, check, total)
}

// sameFiles checks that dst holds every name of src with the same size.
func sameFiles(src, dst string, names []string) error {
	missing := 0
	var first string
	for _, n := range names {
		a, err1 := os.Stat(filepath.Join(src, n))
		c, err2 := os.Stat(filepath.Join(dst, n))
		if err1 != nil || err2 != nil || a.Size() != c.Size() {
			if missing == 0 {
				first = n
			}
			missing++
		}
	}
	if missing > 0 {
		return fmt.Errorf("%d of %d files missing or incomplete on the server (first: %s)", missing, len(names), first)
	}
	return nil
}

// memory samples the serving process's VmRSS every 100 ms while huge.bin is read (cold) and big.bin's
// content is written with dd conv=fsync. rclone reads with cache off and writes with cache writes
// (two mounts); its peak is the larger.
func (b *bench) memory(ep endpoint, _ int, t tool) error {
	var peak int64
	var notes []string
	name := fmt.Sprintf("mem-%s-%dms.bin", t, ep.lat.Milliseconds())
	onServer := filepath.Join(b.data, "up", name)
	defer os.Remove(onServer)
	src := filepath.Join(b.data, "big.bin")

	read := func(m *mountInst) error {
		s := sampleRSS(m.pid)
		time.Sleep(150 * time.Millisecond)
		idle, _ := rssKiB(m.pid)
		err := b.dropCaches()
		if err == nil {
			argv := []string{"dd", "if=" + filepath.Join(m.dir, "huge.bin"), "of=/dev/null", "bs=1M"}
			r := b.run(transferTimeout(b.sz.huge), nil, argv...)
			err = r.errOf()
			if err == nil {
				if n, e := ddBytes(r.stderr); e != nil || n != b.sz.huge {
					err = fmt.Errorf("dd read %d bytes (%v), want %d", n, e, b.sz.huge)
				}
			}
			notes = append(notes, fmt.Sprintf("idle %.0f MiB; read %s in %.2f s", float64(idle)/1024, hsize(b.sz.huge), r.dur.Seconds()))
		}
		p := s.stop()
		peak = max(peak, p)
		notes = append(notes, fmt.Sprintf("peak while reading %.0f MiB", float64(p)/1024))
		return err
	}
	write := func(m *mountInst) error {
		if err := b.warm(src); err != nil {
			return err
		}
		s := sampleRSS(m.pid)
		argv := []string{"dd", "if=" + src, "of=" + filepath.Join(m.dir, "up", name), "bs=1M", "conv=fsync"}
		r := b.run(transferTimeout(b.sz.big), nil, argv...)
		err := r.errOf()
		if err == nil {
			start := time.Now().Add(-r.dur)
			deadline := time.Now().Add(transferTimeout(b.sz.big))
			for checkSize(onServer, b.sz.big) != nil && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			err = checkSize(onServer, b.sz.big)
			notes = append(notes, fmt.Sprintf("wrote %s in %.2f s (on the server after %.2f s)", hsize(b.sz.big), r.dur.Seconds(), time.Since(start).Seconds()))
		}
		p := s.stop()
		peak = max(peak, p)
		notes = append(notes, fmt.Sprintf("peak while writing %.0f MiB", float64(p)/1024))
		return err
	}

	if t == toolRclone {
		m, err := b.mountFor(t, ep, "off")
		if err != nil {
			return err
		}
		err = read(m)
		b.unmount(m)
		if err != nil {
			return err
		}
		if m, err = b.mountFor(t, ep, "writes"); err != nil {
			return err
		}
		err = write(m)
		b.unmount(m)
		if err != nil {
			return err
		}
	} else {
		m, err := b.mountFor(t, ep, "")
		if err != nil {
			return err
		}
		err = read(m)
		if err == nil {
			err = write(m)
		}
		b.unmount(m)
		if err != nil {
			return err
		}
	}
	b.res.add(ep.lat, "rss", t, float64(peak)/1024)
	b.res.note(ep.lat, "rss", t, strings.Join(notes, "; "))
	return nil
}

// noteCommand remembers the first command line of each kind, for the report.
func (b *bench) noteCommand(kind string, argv []string) {
	line := kind + ": `" + strings.Join(argv, " ") + "`"
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.commands {
		if strings.HasPrefix(c, kind+": ") {
			return
		}
	}
	b.commands = append(b.commands, line)
}

// results holds the measurements.
type cellKey struct {
	lat  time.Duration
	id   string
	tool tool
}

type cell struct {
	samples []float64
	err     string
	notes   []string
	flags   []string // ftpmount broke a promise (e.g. data not on the server when cp returned)
}

type results struct {
	mu    sync.Mutex
	cells map[cellKey]*cell
}

func (r *results) get(k cellKey) *cell {
	if r.cells == nil {
		r.cells = map[cellKey]*cell{}
	}
	c := r.cells[k]
	if c == nil {
		c = &cell{}
		r.cells[k] = c
	}
	return c
}

// update changes the cell of (lat, id, t) under the lock.
func (r *results) update(lat time.Duration, id string, t tool, f func(c *cell)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r.get(cellKey{lat, id, t}))
}

func (r *results) add(lat time.Duration, id string, t tool, v float64) {
	r.update(lat, id, t, func(c *cell) { c.samples = append(c.samples, v) })
}

func (r *results) note(lat time.Duration, id string, t tool, s string) {
	r.update(lat, id, t, func(c *cell) { c.notes = append(c.notes, s) })
}

func (r *results) flag(lat time.Duration, id string, t tool, s string) {
	r.update(lat, id, t, func(c *cell) { c.flags = append(c.flags, s) })
}

func (r *results) fail(lat time.Duration, id string, t tool, err error) {
	r.update(lat, id, t, func(c *cell) { c.err = err.Error() })
}

// last describes the latest samples of ids, for the progress log.
func (r *results) last(lat time.Duration, ids []string, t tool) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var parts []string
	for _, id := range ids {
		if c := r.cells[cellKey{lat, id, t}]; c != nil && len(c.samples) > 0 {
			parts = append(parts, fmt.Sprintf("%s %.4g", id, c.samples[len(c.samples)-1]))
		}
	}
	return strings.Join(parts, ", ")
}

// median of the samples of a cell; ok is false when there are none.
func (r *results) median(lat time.Duration, id string, t tool) (float64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.cells[cellKey{lat, id, t}]
	if c == nil || len(c.samples) == 0 {
		return 0, false
	}
	s := slices.Clone(c.samples)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

func (r *results) cell(lat time.Duration, id string, t tool) cell {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.cells[cellKey{lat, id, t}]; c != nil {
		return cell{samples: slices.Clone(c.samples), err: c.err, notes: slices.Clone(c.notes), flags: slices.Clone(c.flags)}
	}
	return cell{}
}
