package harness

import (
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
)

// The server kinds. Each plain kind has a TLS twin, KIND-tls: the same server requiring explicit
// FTPS (AUTH TLS) on control and data connections, with data connections that must resume the
// control connection's TLS session where the server can demand it (vsftpd's require_ssl_reuse,
// proftpd's default). vsftpd and proftpd also run as KIND-tls-implicit: implicit FTPS (TLS from
// the first byte, mounted with -o implicit_tls); pure-ftpd and pyftpdlib cannot.
var (
	PlainKinds    = []string{"vsftpd", "proftpd", "pure-ftpd", "pyftpdlib"}
	TLSKinds      = []string{"vsftpd-tls", "proftpd-tls", "pure-ftpd-tls", "pyftpdlib-tls"}
	ImplicitKinds = []string{"vsftpd-tls-implicit", "proftpd-tls-implicit"}
	// InetdKinds are old Unix servers run under a super-server (inetd.go): they do not chroot
	// and cannot set times.
	InetdKinds = []string{"inetutils-ftpd", "netkit-ftpd"}
)

// Kinds are all the kinds, in order.
var Kinds = slices.Concat(PlainKinds, TLSKinds, ImplicitKinds, InetdKinds)

// Groups are names that Select accepts for several kinds at once.
var Groups = map[string][]string{
	"plain":    PlainKinds,
	"tls":      slices.Concat(TLSKinds, ImplicitKinds),
	"explicit": TLSKinds,
	"implicit": ImplicitKinds,
	"inetd":    InetdKinds,
}

// program is what one server program needs that the others do not; the launcher does the rest.
type program struct {
	tools   []string // files it needs: commands FindTool finds, or absolute paths
	passive bool     // it takes a passive port range (the inetd servers let the kernel pick)
	tunable bool     // it takes Options.ExtraConf, Quiet and ProxyHost
	output  string   // the file its stdout and stderr go to, where it reports start-up errors
	// command writes the configuration under l.Dir for the ports in l and returns the server
	// process to run in the foreground. It sets l.LogFiles and l.match, and l.URLPath for the
	// servers that do not chroot.
	command func(l *launch) (*exec.Cmd, error)
}

// programs are the server programs by BaseKind.
var programs = map[string]*program{
	"vsftpd":         vsftpd,
	"proftpd":        proftpd,
	"pure-ftpd":      pureftpd,
	"pyftpdlib":      pyftpdlib,
	"inetutils-ftpd": inetutilsFtpd,
	"netkit-ftpd":    netkitFtpd,
}

// BaseKind is the server program a kind runs: "vsftpd" for "vsftpd-tls-implicit".
func BaseKind(kind string) string {
	base, _, _ := strings.Cut(kind, "-tls")
	return base
}

// IsTLS tells the kinds that require FTPS; IsImplicit those that speak TLS from the first byte.
func IsTLS(kind string) bool      { return strings.Contains(kind, "-tls") }
func IsImplicit(kind string) bool { return strings.HasSuffix(kind, "-tls-implicit") }

// Known tells whether kind is one of Kinds.
func Known(kind string) bool { return slices.Contains(Kinds, kind) }

// Tools lists the files a kind needs (openssl too for the TLS kinds, which make their
// certificates with it): commands to look up with FindTool, or absolute paths.
func Tools(kind string) []string {
	p := programs[BaseKind(kind)]
	if p == nil {
		return nil
	}
	tools := slices.Clone(p.tools)
	if IsTLS(kind) {
		tools = append(tools, "openssl")
	}
	return tools
}

// Select reads a choice of servers (FTPMOUNT_SERVERS): kinds and names of Groups, separated by
// commas or spaces, returned in its order without repeats. "" and "all" choose nothing: nil,
// every kind may run. An unknown name is an error: a typo must not make a run test nothing.
func Select(spec string) ([]string, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "all" {
		return nil, nil
	}
	var kinds []string
	for _, name := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == ' ' }) {
		group, ok := Groups[name]
		if !ok {
			if !Known(name) {
				return nil, fmt.Errorf("unknown server %q (known: %s, and the groups %s)", name,
					strings.Join(Kinds, ","), strings.Join(slices.Sorted(maps.Keys(Groups)), ","))
			}
			group = []string{name}
		}
		for _, k := range group {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	return kinds, nil
}
