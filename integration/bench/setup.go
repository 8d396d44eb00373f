package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/textproto"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ftpmount/ftpmount/integration/bench/delayproxy"
)

// The local account scripts/install-deps.sh creates (integration/vsftpd_test.go uses it too).
const (
	ftpUser     = "ftpmounttest"
	ftpPassword = "ftpmounttest-pw"
	ftpHome     = "/srv/ftpmounttest"
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
	return "ftp://" + ftpUser + ":" + ftpPassword + "@" + e.addr() + path
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
	data       string // what the FTP root is: a directory under ftpHome owned by ftpUser
	cpSrc      string // local directory of small files for cp -r
	uid, gid   int
	rclonePass string // obscured
	servers    []*vsftpd
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
	for _, tool := range []string{"curl", "rclone", "vsftpd", "fusermount3", "dd", "ls", "find", "cp", "pgrep"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is missing (make bench installs it: scripts/bench.sh)", tool)
		}
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("/dev/fuse: %v", err)
	}
	u, err := user.Lookup(ftpUser)
	if err != nil {
		return fmt.Errorf("user %s: %v (run: bash scripts/install-deps.sh)", ftpUser, err)
	}
	b.uid, _ = strconv.Atoi(u.Uid)
	b.gid, _ = strconv.Atoi(u.Gid)
	if b.work, err = os.MkdirTemp("", "ftpmount-bench-"); err != nil {
		return err
	}
	if b.data, err = os.MkdirTemp(ftpHome, "bench-"); err != nil {
		return fmt.Errorf("%v (run: bash scripts/install-deps.sh)", err)
	}
	if err := os.Chmod(b.data, 0o755); err != nil {
		return err
	}
	b.logf("work directory %s, server data %s", b.work, b.data)

	if err := b.prepareBinary(binFlag); err != nil {
		return err
	}
	r := b.run(30*time.Second, nil, "rclone", "obscure", ftpPassword)
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
		host := "127.0.0.1"
		if lat > 0 {
			host = "127.0.0.2"
		}
		srv, err := b.startVsftpd(host, lat)
		if err != nil {
			return err
		}
		b.endpoints = append(b.endpoints, endpoint{lat: lat, host: host, port: srv.port})
	}
	for _, ep := range b.endpoints {
		if !greets(ep.addr()) {
			return fmt.Errorf("no FTP greeting on %s", ep.addr())
		}
		if err := ftpLogin(ep.addr()); err != nil {
			return fmt.Errorf("login on %s: %v", ep.addr(), err)
		}
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

// makeFixtures writes the server's files (then hands them to ftpUser) and the local cp source.
func (b *bench) makeFixtures() error {
	files := []struct {
		name string
		size int64
		seed uint64
	}{{"big.bin", b.sz.big, 1}, {"mid.bin", b.sz.mid, 2}, {"huge.bin", b.sz.huge, 3}}
	for _, f := range files {
		if err := genFile(filepath.Join(b.data, f.name), f.size, f.seed); err != nil {
			return err
		}
	}
	dir := filepath.Join(b.data, "dir10k")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for i := range b.sz.dirEntries {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("entry-%05d.txt", i)), fmt.Appendf(nil, "entry %d\n", i), 0o644); err != nil {
			return err
		}
	}
	for d := range b.sz.treeDirs {
		sub := filepath.Join(b.data, "tree", fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		for f := range b.sz.treeFiles {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%02d.txt", f)), fmt.Appendf(nil, "file %d/%d\n", d, f), 0o644); err != nil {
				return err
			}
		}
	}
	if err := os.Mkdir(filepath.Join(b.data, "up"), 0o755); err != nil {
		return err
	}
	// Each huge directory in a parent of its own: listing one must not
	// prefetch the other (cache/prefetch.go lists sibling directories).
	for _, h := range []struct {
		name string
		n    int
	}{{"huge1", b.sz.huge1}, {"huge2", b.sz.huge2}} {
		if !b.selected(h.name) {
			continue
		}
		dir := filepath.Join(b.data, h.name, "d")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for i := range h.n {
			f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("entry-%07d.txt", i)), os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			f.Close()
		}
	}
	err := filepath.WalkDir(b.data, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, b.uid, b.gid)
	})
	if err != nil {
		return err
	}

	// Local small files for cp -r: 1-64 KiB, seeded.
	b.cpSrc = filepath.Join(b.work, "cpsrc")
	if err := os.Mkdir(b.cpSrc, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range b.sz.cpFiles {
		buf := make([]byte, 1024+rng.IntN(63*1024))
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		if err := os.WriteFile(filepath.Join(b.cpSrc, fmt.Sprintf("small-%03d.dat", i)), buf, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// genFile writes size bytes: a random 1 MiB block (seeded ChaCha8) repeated, with the first 8 bytes
// of every 4 KiB page replaced by the page's number, so that no two pages are alike. Fast (disk speed).
func genFile(path string, size int64, seed uint64) error {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	block := make([]byte, 1<<20)
	rand.NewChaCha8(key).Read(block)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 4<<20)
	buf := make([]byte, len(block))
	var page uint64
	for off := int64(0); off < size; off += int64(len(buf)) {
		copy(buf, block)
		for p := 0; p < len(buf); p += 4096 {
			binary.LittleEndian.PutUint64(buf[p:], page^seed<<56)
			page++
		}
		n := int64(len(buf))
		if size-off < n {
			n = size - off
		}
		if _, err := w.Write(buf[:n]); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// vsftpd is one running server on 127.0.0.1; at a latency above 0 the proxy forwards host (127.0.0.2)
// to it for the control port and the whole passive range.
type vsftpd struct {
	conf   string
	port   int
	lo, hi int
	cmd    *exec.Cmd
	exited chan struct{}
}

const vsftpdConfig = `listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={{PORT}}
background=NO
pasv_enable=YES
pasv_address={{PASV_ADDR}}
pasv_min_port={{PASV_LO}}
pasv_max_port={{PASV_HI}}
connect_from_port_20=NO
local_enable=YES
write_enable=YES
local_umask=022
chroot_local_user=YES
allow_writeable_chroot=YES
local_root={{DATA}}
anonymous_enable=NO
pam_service_name=vsftpd
secure_chroot_dir=/var/run/vsftpd/empty
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
mdtm_write=YES
max_clients=0
max_per_ip=0
xferlog_enable=NO
`

// startVsftpd starts a server whose passive replies name host; for lat > 0 it also makes the proxy
// listen on host for its control port and passive range. Retries when a port was taken meanwhile.
func (b *bench) startVsftpd(host string, lat time.Duration) (*vsftpd, error) {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		hosts := []string{"127.0.0.1"}
		if host != "127.0.0.1" {
			hosts = append(hosts, host)
		}
		port, lo, hi, err := freePorts(hosts, 1000)
		if err != nil {
			return nil, err
		}
		s := &vsftpd{port: port, lo: lo, hi: hi, exited: make(chan struct{})}
		if lastErr = b.launchVsftpd(s, host); lastErr != nil {
			continue
		}
		b.servers = append(b.servers, s)
		if lat > 0 {
			p := delayproxy.New(lat)
			if lastErr = p.Listen(net.JoinHostPort(host, strconv.Itoa(port)), net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); lastErr == nil {
				lastErr = p.ListenRange(host, "127.0.0.1", lo, hi)
			}
			if lastErr != nil {
				p.Close()
				continue
			}
			b.proxies = append(b.proxies, p)
		}
		return s, nil
	}
	return nil, fmt.Errorf("vsftpd: %v", lastErr)
}

func (b *bench) launchVsftpd(s *vsftpd, pasvAddr string) error {
	dir, err := os.MkdirTemp(b.work, "vsftpd-")
	if err != nil {
		return err
	}
	s.conf = filepath.Join(dir, "vsftpd.conf")
	text := strings.NewReplacer("{{PORT}}", strconv.Itoa(s.port), "{{PASV_ADDR}}", pasvAddr,
		"{{PASV_LO}}", strconv.Itoa(s.lo), "{{PASV_HI}}", strconv.Itoa(s.hi), "{{DATA}}", b.data).Replace(vsftpdConfig)
	if b.serverLog {
		// Every command and reply, for finding out what a client does (slows the server down a little).
		text = strings.Replace(text, "xferlog_enable=NO", "xferlog_enable=YES", 1)
		text += "log_ftp_protocol=YES\nvsftpd_log_file=" + filepath.Join(b.work, fmt.Sprintf("vsftpd-%d.log", s.port)) + "\n"
	}
	if err := os.WriteFile(s.conf, []byte(text), 0o600); err != nil {
		return err
	}
	// vsftpd writes its "500 OOPS" start-up errors to fd 0: give it a file there.
	errPath := filepath.Join(dir, "vsftpd.out")
	errFile, err := os.OpenFile(errPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer errFile.Close()
	bin, err := exec.LookPath("vsftpd")
	if err != nil {
		return err
	}
	s.cmd = exec.Command(bin, s.conf)
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = errFile, errFile, errFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-s.exited:
			out, _ := os.ReadFile(errPath)
			return fmt.Errorf("exited at start-up: %s", strings.TrimSpace(string(out)))
		default:
		}
		if greets(addr) {
			return nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("no 220 greeting on %s after 15 s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop kills the server's group and its session processes (forks with the same command line).
func (s *vsftpd) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	for _, pid := range pidsMatching(s.conf) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
	}
}

// pidsMatching lists processes (not this one) with substr in their command line, by scanning /proc.
func pidsMatching(substr string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(data), substr) {
			out = append(out, pid)
		}
	}
	return out
}

// freePorts picks a control port and a passive range of n ports, free on every host, outside the
// kernel's ephemeral range (so that clients' own connections don't take them). The range must be large:
// vsftpd ends a session ("500 OOPS: priv_sock_get_int") when 10 random ports of its range in a row
// cannot be bound. With 60 or 100 ports, rclone's random reads (a new session and an EPSV per read, some
// never connected, so their ports stay listening) hit that within seconds and failed with EIO.
func freePorts(hosts []string, n int) (port, lo, hi int, err error) {
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
			case elo-1-10000 > 4*n:
				first, last = 10000, elo-1
			case 65535-ehi > 4*n:
				first, last = ehi+1, 65535
			}
		}
	}
	for range 200 {
		lo = first + rand.IntN(last-first-n)
		ok := true
		for p := lo; p <= lo+n && ok; p++ {
			ok = free(p)
		}
		if ok {
			return lo + n, lo, lo + n - 1, nil
		}
	}
	return 0, 0, 0, fmt.Errorf("no %d free consecutive ports in %d-%d", n+1, first, last)
}

// greets reports whether an FTP server answers 220 on addr.
func greets(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	code, _, err := textproto.NewConn(c).ReadResponse(0)
	return err == nil && code == 220
}

// ftpLogin logs in and out on addr.
func ftpLogin(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	tc := textproto.NewConn(c)
	if _, _, err := tc.ReadResponse(220); err != nil {
		return err
	}
	for _, step := range []struct {
		cmd  string
		want int
	}{{"USER " + ftpUser, 331}, {"PASS " + ftpPassword, 230}, {"QUIT", 221}} {
		if err := tc.PrintfLine("%s", step.cmd); err != nil {
			return err
		}
		if _, _, err := tc.ReadResponse(step.want); err != nil {
			return fmt.Errorf("%s: %w", strings.Fields(step.cmd)[0], err)
		}
	}
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
			s.stop()
		}
		b.saveLogs()
		if b.work != "" {
			if left := mountsUnder(b.work); len(left) > 0 {
				b.logf("still mounted, not removing %s: %v", b.work, left)
			} else {
				os.RemoveAll(b.work)
			}
		}
		if b.data != "" {
			if left := mountsUnder(b.data); len(left) > 0 {
				b.logf("still mounted, not removing %s: %v", b.data, left)
			} else {
				os.RemoveAll(b.data)
			}
		}
	})
}

// saveLogs copies the tails of ftpmount's and rclone's logs into the output directory.
func (b *bench) saveLogs() {
	if b.work == "" {
		return
	}
	logs, _ := filepath.Glob(filepath.Join(b.work, "*.log"))
	if len(logs) == 0 {
		return
	}
	dst := filepath.Join(b.out, "logs")
	os.MkdirAll(dst, 0o755)
	for _, p := range logs {
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
			os.WriteFile(filepath.Join(dst, filepath.Base(p)), data, 0o644)
		}
	}
}
