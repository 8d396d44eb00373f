package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options are what a caller of Launch may choose; the zero value of each field is what the tests
// use.
type Options struct {
	// DataDir is what the server serves (see NewDataDir); required.
	DataDir string
	// Dir is where the server's own directory (configuration and logs) is made; "" is
	// os.TempDir(). The caller removes it.
	Dir string
	// PKI holds the certificates; required for the TLS kinds.
	PKI *PKI
	// Cert, when set, is presented instead of PKI.Server, and TLSName is the name CheckLogin
	// checks it against instead of the address's host.
	Cert    *Cert
	TLSName string
	// ClientCert, when set, is the certificate (signed by the test CA) the harness's own client
	// presents, for servers configured (ExtraConf) to require one.
	ClientCert *Cert

	// The rest only vsftpd takes (Launch refuses them for the others).

	// ProxyHost is another local address that a proxy in front of the server listens on with the
	// same ports (the bench's delay proxy): the ports are picked free there too, and PASV replies
	// name it.
	ProxyHost string
	// PasvPorts is the size of the passive port range; default 50.
	PasvPorts int
	// Quiet turns the transfer and protocol logs off, which slow the server down a little.
	Quiet bool
	// ExtraConf is added to the end of the configuration file.
	ExtraConf string
	// TZ, when set, is the server's TZ environment variable (POSIX form: "XXX-5" is UTC+5): with
	// use_localtime=YES in ExtraConf, vsftpd lists and sets times in that zone.
	TZ string
}

// Server is a running FTP server private to its caller, of one of Kinds: its own control port and
// passive range on 127.0.0.1, its own configuration in Dir, serving Options.DataDir. Every kind
// lets User log in with Password and creates files as User. The TLS kinds require TLS on the
// control and data connections and present a certificate signed by the test CA. A Server is not
// safe for concurrent use.
type Server struct {
	Kind    string // one of Kinds
	Addr    string // 127.0.0.1:PORT, the control connection
	DataDir string // what the FTP root "/" (or URLPath) is on disk; owned by User
	// URLPath is DataDir as the path of an ftp:// URL, relative to the login directory (RFC
	// 1738), for servers that do not chroot (inetd.go); "" for those that do.
	URLPath  string
	User     string
	Password string

	TLS        bool   // FTPS required: control and data connections are protected
	Implicit   bool   // implicit FTPS: TLS from the first byte (else AUTH TLS)
	CAFile     string // the CA (PEM) that signed the server's certificate, for -o cafile
	TLSVersion string // what CheckLogin negotiated ("TLS 1.3"): what ftpmount gets

	Cred     *syscall.Credential // User's ids, to make server-side files as the server itself would
	Dir      string              // the server's configuration, its output and logs
	LogFiles []string            // its protocol and error logs, worth showing when something failed
	Port     int                 // the control port, on 127.0.0.1 (and Options.ProxyHost)
	PasvLo   int                 // the passive range, PasvLo to PasvHi; 0 for the inetd kinds
	PasvHi   int

	opts  Options
	prog  *program
	cert  Cert      // what a TLS kind presents
	match string    // a string unique to the command lines of the server's processes
	proto *exec.Cmd // the command as configured, to run it again (Restart)
	// The running process: exited receives its Wait's result once.
	cmd    *exec.Cmd
	exited chan error
}

// greetWithin bounds how long a server may take to greet after it started.
const greetWithin = 15 * time.Second

// Launch starts a server of the given kind on free ports, serving opts.DataDir, waits until it
// greets with 220 and User can log in (over TLS for the TLS kinds), and returns it running; the
// caller stops it with Stop. The error says what went wrong, with the end of the server's logs.
func Launch(ctx context.Context, kind string, opts Options) (*Server, error) {
	prog := programs[BaseKind(kind)]
	if prog == nil || !Known(kind) {
		return nil, fmt.Errorf("unknown server kind %q (known: %s)", kind, strings.Join(Kinds, ", "))
	}
	if !prog.tunable && (opts.ExtraConf != "" || opts.Quiet || opts.ProxyHost != "" || opts.PasvPorts != 0 || opts.TZ != "") {
		return nil, fmt.Errorf("%s takes no ExtraConf, Quiet, ProxyHost, PasvPorts or TZ", kind)
	}
	if opts.DataDir == "" {
		return nil, errors.New("Launch: no DataDir")
	}
	cred, err := Account()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(opts.Dir, kind+"-")
	if err != nil {
		return nil, err
	}
	s := &Server{Kind: kind, DataDir: opts.DataDir, User: User, Password: Password, Cred: cred, Dir: dir,
		opts: opts, prog: prog}
	if IsTLS(kind) {
		if opts.PKI == nil {
			return nil, fmt.Errorf("%s: Options.PKI is needed for a TLS kind", kind)
		}
		s.TLS, s.Implicit, s.CAFile, s.cert = true, IsImplicit(kind), opts.PKI.CA, opts.PKI.Server
		if opts.Cert != nil {
			s.cert = *opts.Cert
		}
	}
	// The ports are free when picked but may be taken before the server binds them: retry then.
	for attempt := 1; ; attempt++ {
		err := s.configure()
		if err == nil {
			err = s.start(ctx)
		}
		if err == nil {
			break
		}
		if attempt == 5 || !portTaken(err) {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
	}
	// A server that limits connections per address (ExtraConf) may still count the greeting
	// check's connection for a moment: its 421 is retried.
	err = s.CheckLogin()
	for deadline := time.Now().Add(5 * time.Second); err != nil && strings.Contains(err.Error(), "421") && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		err = s.CheckLogin()
	}
	if err != nil {
		hint := ""
		if BaseKind(kind) == "vsftpd" {
			hint = "\n(PAM: /etc/pam.d/vsftpd denies users in /etc/ftpusers and shells missing from /etc/shells; " +
				"scripts/install-deps.sh sets the account up)"
		}
		tails := s.LogTails(60)
		s.Stop()
		return nil, fmt.Errorf("%s on %s runs, but %s cannot log in: %v%s\n%s", kind, s.Addr, s.User, err, hint, tails)
	}
	return s, nil
}

// portTaken tells a start-up error that picking other ports may cure.
func portTaken(err error) bool {
	return strings.Contains(err.Error(), "bind") || strings.Contains(err.Error(), "in use")
}

// launch is what a program's command gets: the server, its ports and its output file.
type launch struct {
	*Server
	out *os.File // where the server's stdout and stderr go (vsftpd's stdin too)
}

// configure picks the ports and has the program write its configuration and make its command.
func (s *Server) configure() error {
	hosts := []string{"127.0.0.1"}
	if s.opts.ProxyHost != "" {
		hosts = append(hosts, s.opts.ProxyHost)
	}
	n := 0
	if s.prog.passive {
		n = s.opts.PasvPorts
		if n == 0 {
			n = 50
		}
	}
	port, lo, hi, err := PickPorts(hosts, n)
	if err != nil {
		return err
	}
	s.Port, s.PasvLo, s.PasvHi = port, lo, hi
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.LogFiles, s.match, s.URLPath = nil, "", ""
	out, err := s.openOutput(os.O_TRUNC)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd, err := s.prog.command(&launch{Server: s, out: out})
	if err != nil {
		return err
	}
	s.proto = cmd
	return nil
}

// outputPath is the file the server's stdout and stderr go to.
func (s *Server) outputPath() string { return filepath.Join(s.Dir, s.prog.output) }

func (s *Server) openOutput(flag int) (*os.File, error) {
	return os.OpenFile(s.outputPath(), os.O_RDWR|os.O_CREATE|os.O_APPEND|flag, 0o644)
}

// start runs s.proto in a process group of its own with its output in outputPath, and waits
// until it greets with 220 on s.Addr. When the server exits first, or does not greet within
// greetWithin, the error quotes the end of its output, where it writes its start-up errors.
func (s *Server) start(ctx context.Context) error {
	out, err := s.openOutput(0)
	if err != nil {
		return err
	}
	defer out.Close()
	p := s.proto
	cmd := &exec.Cmd{Path: p.Path, Args: p.Args, Env: p.Env, Dir: p.Dir}
	cmd.Stdout, cmd.Stderr = out, out
	if p.Stdin != nil {
		cmd.Stdin = out
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if p.SysProcAttr != nil {
		cmd.SysProcAttr.Credential = p.SysProcAttr.Credential
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.exited = cmd, make(chan error, 1)
	go func(exited chan<- error) { exited <- cmd.Wait() }(s.exited)
	deadline := time.Now().Add(greetWithin)
	for {
		select {
		case err := <-s.exited:
			s.exited <- err // for Stop
			return fmt.Errorf("exited at start-up (%v): %s", err, strings.TrimSpace(Tail(s.outputPath(), 20)))
		default:
		}
		if s.Greets() {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			s.Stop()
			why := fmt.Sprintf("after %v", greetWithin)
			if ctx.Err() != nil {
				why = ctx.Err().Error()
			}
			return fmt.Errorf("no 220 greeting on %s (%s): %s", s.Addr, why, strings.TrimSpace(Tail(s.outputPath(), 20)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server with every process it started: its process tree (some session processes
// leave its group), its group, and any process whose command line still names its configuration.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	select {
	case err := <-s.exited:
		// It died by itself and was reaped: its pid and group may be someone else's now.
		s.exited <- err
	default:
		KillTree(s.cmd.Process.Pid)
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		s.exited <- <-s.exited
	}
	if s.match != "" {
		KillMatching(s.match)
	}
}

// Kill SIGKILLs every process of the server, the listener and its sessions, as a crash or a
// reboot would, and waits (up to 10 s) until none is left. Restart brings it back.
func (s *Server) Kill() error {
	if len(ProcessesMatching(s.match)) == 0 {
		return fmt.Errorf("%s: no process found (matching %q)", s.Kind, s.match)
	}
	if err := KillAllMatching(s.match, 10*time.Second); err != nil {
		return fmt.Errorf("%s: %w", s.Kind, err)
	}
	return nil
}

// Restart runs the server again with the same configuration (same ports, passive range and data)
// and waits for its greeting, retrying for up to 5 s while its port is still taken.
func (s *Server) Restart(ctx context.Context) error {
	s.Stop()
	for attempt := 1; ; attempt++ {
		err := s.start(ctx)
		if err == nil {
			return nil
		}
		// The port may linger for a moment after the kill.
		if attempt == 20 || !portTaken(err) {
			return fmt.Errorf("restarting %s: %w", s.Kind, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Signal sends sig to every process of the server (the listener and its sessions).
func (s *Server) Signal(sig syscall.Signal) error {
	procs := ProcessesMatching(s.match)
	if len(procs) == 0 {
		return fmt.Errorf("no process of %s found (matching %q)", s.Kind, s.match)
	}
	for _, p := range procs {
		syscall.Kill(p.PID, sig)
	}
	return nil
}

// LogTails returns the last n lines of each of the server's logs.
func (s *Server) LogTails(n int) string {
	var b strings.Builder
	for _, f := range s.LogFiles {
		fmt.Fprintf(&b, "%s %s, last lines:\n%s\n", s.Kind, filepath.Base(f), Tail(f, n))
	}
	return b.String()
}

// URL is the SOURCE argument of ftpmount that reaches s: ftps:// for the TLS kinds, which also
// need MountOptions.
func (s *Server) URL() string {
	u := URL(s.User, s.Password, s.Addr) + s.URLPath
	if s.TLS {
		u = "ftps" + strings.TrimPrefix(u, "ftp")
	}
	return u
}

// MountOptions are the -o options every mount of s needs: for the TLS kinds, trust in the test CA
// (the certificate is checked for real) and implicit_tls for the implicit ones.
func (s *Server) MountOptions() []string {
	var opts []string
	if s.TLS {
		opts = append(opts, "cafile="+s.CAFile)
	}
	if s.Implicit {
		opts = append(opts, "implicit_tls")
	}
	return opts
}

// CurlArgs are the options that let curl reach s, and the URL of its root: with the TLS kinds,
// TLS required and the test CA trusted. curl's ftp:// with --ssl-reqd is explicit FTPS, its
// ftps:// implicit FTPS.
func (s *Server) CurlArgs() (opts []string, baseURL string) {
	base := URL(s.User, s.Password, s.Addr) + s.URLPath
	switch {
	case s.Implicit:
		return []string{"--cacert", s.CAFile}, "ftps" + strings.TrimPrefix(base, "ftp")
	case s.TLS:
		return []string{"--ssl-reqd", "--cacert", s.CAFile}, base
	}
	return nil, base
}
