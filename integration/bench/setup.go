package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ftpmount/ftpmount/integration/bench/delayproxy"
	"github.com/ftpmount/ftpmount/integration/harness"
)

// sizes of the fixtures; quickSizes keep -quick near a minute.
type sizes struct {
	big, mid, huge int64 // sequential reads (big also random reads and the memory run's upload); huge: memory run
	dirEntries     int   // the flat directory for ls -l
	treeDirs       int   // the tree for find: treeDirs × treeFiles
	treeFiles      int
	cpFiles        int // small files copied with cp -r
	preads         int // random 4 KiB reads
	huge1, huge2   int // entries of the huge directories (empty files), listed on loopback only
}

var (
	fullSizes  = sizes{big: 1 << 30, mid: 256 << 20, huge: 4 << 30, dirEntries: 10000, treeDirs: 100, treeFiles: 20, cpFiles: 200, preads: 200, huge1: 200_000, huge2: 1_000_000}
	quickSizes = sizes{big: 64 << 20, mid: 32 << 20, huge: 128 << 20, dirEntries: 500, treeDirs: 10, treeFiles: 5, cpFiles: 20, preads: 20, huge1: 2000, huge2: 10_000}
)

// endpoint is where clients reach the server at one latency.
type endpoint struct {
	lat  time.Duration
	host string // 127.0.0.1 directly, 127.0.0.2 through the delay proxy
	port int
}

func (e endpoint) addr() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

// url is the ftp:// URL of path (starting with /) on e, with the password.
func (e endpoint) url(path string) string {
	return strings.TrimSuffix(harness.URL(harness.User, harness.Password, e.addr()), "/") + path
}

type bench struct {
	quick     bool
	reps      int
	out       string
	lats      []time.Duration
	only      map[string]bool
	tools     map[tool]bool
	serverLog bool // vsftpd logs every command (-serverlog)
	sz        sizes
	workloads []*workload

	root       string // module root
	bin        string // the ftpmount binary measured (a copy in work)
	binInfo    string
	work       string // /tmp/ftpmount-bench-*: mount points, logs, configs, rclone's cache
	data       string // what the FTP root is: a directory under harness.Home owned by harness.User
	cpSrc      string // local directory of small files for cp -r
	account    *syscall.Credential
	rclonePass string // obscured
	servers    []*harness.Server
	proxies    []*delayproxy.Proxy
	endpoints  []endpoint
	commands   []string // command lines, for the report

	stopping  atomic.Bool
	mu        sync.Mutex
	groups    map[int]bool          // process groups of running commands
	mounts    map[string]*mountInst // live mounts by directory
	mountSeq  int
	res       results
	cleanOnce sync.Once
	repOnce   sync.Once
}

// setup builds or copies the binary, starts the servers and the proxy, and makes the fixtures.
func (b *bench) setup(binFlag string) error {
	var err error
	if b.root, err = moduleRoot(); err != nil {
		return err
	}
	for _, tool := range []string{"curl", "rclone", "vsftpd", "fusermount3", "dd", "ls", "find", "cp"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is missing (make bench installs it: scripts/bench.sh)", tool)
		}
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("/dev/fuse: %v", err)
	}
	if b.account, err = harness.Account(); err != nil {
		return fmt.Errorf("user %s: %v (run: bash scripts/install-deps.sh)", harness.User, err)
	}
	if b.work, err = os.MkdirTemp("", "ftpmount-bench-"); err != nil {
		return err
	}
	if b.data, err = harness.NewDataDir("bench-"); err != nil {
		return fmt.Errorf("%v (run: bash scripts/install-deps.sh)", err)
	}
	b.logf("work directory %s, server data %s", b.work, b.data)

	if err := b.prepareBinary(binFlag); err != nil {
		return err
	}
	r := b.run(30*time.Second, nil, "rclone", "obscure", harness.Password)
	if r.err != nil {
		return r.errOf()
	}
	b.rclonePass = strings.TrimSpace(r.stdout)

	start := time.Now()
	if err := b.makeFixtures(); err != nil {
		return fmt.Errorf("fixtures: %v", err)
	}
	b.logf("fixtures made in %.1f s", time.Since(start).Seconds())

	for _, lat := range b.lats {
		ep, err := b.startServer(lat)
		if err != nil {
			return err
		}
		b.endpoints = append(b.endpoints, ep)
	}
	return nil
}

// prepareBinary builds bin/ftpmount (unless -bin names one) and copies it into the work directory,
// so that a rebuild during the run does not change what is measured.
func (b *bench) prepareBinary(binFlag string) error {
	src := binFlag
	if src == "" {
		gobin, err := exec.LookPath("go")
		if err != nil {
			gobin = "/usr/local/go/bin/go"
		}
		src = filepath.Join(b.root, "bin", "ftpmount")
		b.logf("building %s", src)
		r := b.run(10*time.Minute, nil, "sh", "-c", "cd \"$1\" && \"$2\" build -o bin/ftpmount ./cmd/ftpmount", "sh", b.root, gobin)
		if r.err != nil {
			return fmt.Errorf("building ftpmount: %v", r.Error())
		}
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	b.bin = filepath.Join(b.work, "ftpmount")
	if err := os.WriteFile(b.bin, data, 0o755); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	b.binInfo = fmt.Sprintf("%s (sha256 %x)", src, sum[:6])
	return nil
}

// cleanup unmounts, stops servers and proxies, and removes the run's directories, keeping the logs.
// It never removes a directory with a mount below it.
func (b *bench) cleanup() {
	b.cleanOnce.Do(func() {
		b.stopping.Store(true)
		b.mu.Lock()
		groups := make([]int, 0, len(b.groups))
		for g := range b.groups {
			groups = append(groups, g)
		}
		mounts := make([]*mountInst, 0, len(b.mounts))
		for _, m := range b.mounts {
			mounts = append(mounts, m)
		}
		b.mu.Unlock()
		for _, g := range groups {
			syscall.Kill(-g, syscall.SIGKILL)
		}
		for _, m := range mounts {
			b.unmount(m)
		}
		for _, p := range b.proxies {
			p.Close()
		}
		for _, s := range b.servers {
			s.Stop()
		}
		b.saveLogs()
		if b.work != "" {
			if left := harness.MountsUnder(b.work); len(left) > 0 {
				b.logf("still mounted, not removing %s: %v", b.work, left)
			} else {
				os.RemoveAll(b.work)
			}
		}
		if b.data != "" {
			if left := harness.MountsUnder(b.data); len(left) > 0 {
				b.logf("still mounted, not removing %s: %v", b.data, left)
			} else {
				os.RemoveAll(b.data)
			}
		}
	})
}

// saveLogs copies the tails of ftpmount's, rclone's and the servers' logs into the output
// directory.
func (b *bench) saveLogs() {
	if b.work == "" {
		return
	}
	logs := b.serverLogs()
	found, _ := filepath.Glob(filepath.Join(b.work, "*.log"))
	for _, p := range found {
		logs[p] = filepath.Base(p)
	}
	if len(logs) == 0 {
		return
	}
	dst := filepath.Join(b.out, "logs")
	os.MkdirAll(dst, 0o755)
	for p, name := range logs {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		const keep = 16 << 20
		if fi, err := f.Stat(); err == nil && fi.Size() > keep {
			f.Seek(fi.Size()-keep, io.SeekStart)
		}
		data, _ := io.ReadAll(f)
		f.Close()
		if len(data) > 0 {
			os.WriteFile(filepath.Join(dst, name), data, 0o644)
		}
	}
}
