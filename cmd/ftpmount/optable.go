package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/ftpmount/ftpmount/fs"
	"github.com/ftpmount/ftpmount/ftpconn"
)

// The command line is described once, here: the flags and the -o options, each with its kind,
// default and one line of help. Parsing (options.go), the -h text (usage.go) and the check that
// the README and the man page list the same options (docs_test.go) all read these tables.

// optKind says what value an -o option takes and how it is checked.
type optKind int

const (
	optFlag       optKind = iota // the name alone; a value is an error
	optSeconds                   // a decimal number of seconds in [lo, hi]
	optNumber                    // a whole number in [lo, hi]
	optOctal                     // permission bits in octal, at most 0777
	optText                      // non-empty text (a path, a name), checked by text
	optTextOrName                // text, or the name alone (then on runs, if set)
)

// option is one -o option.
type option struct {
	name    string
	kind    optKind
	arg     string  // the value's placeholder in -h ("SECONDS"); "" for optFlag
	def     string  // the default as it would be written after "=", applied before the command line; "" for none
	defNote string  // the default in words where it is not one value ("the mounting user"); shown by -h
	help    string  // one line, without the default
	lo, hi  float64 // range of optSeconds and optNumber

	on   func(c *config)                 // optFlag; optTextOrName given without a value
	dur  func(c *config) *time.Duration  // optSeconds
	num  func(c *config) *int            // optNumber, optOctal
	text func(c *config, v string) error // optText, optTextOrName: checks and stores v
}

const day = 24 * 3600

// options are the -o options, in the order -h shows them.
var options = []option{
	{name: "dir_cache", kind: optSeconds, arg: "SECONDS", def: "5", lo: 0, hi: day,
		help: "how long a directory listing is trusted",
		dur:  func(c *config) *time.Duration { return &c.DirCache }},
	{name: "timeout", kind: optSeconds, arg: "SECONDS", def: "30", lo: 1, hi: day,
		help: "a server silent this long fails the operation",
		dur:  func(c *config) *time.Duration { return &c.Timeout }},
	{name: "connections", kind: optNumber, arg: "N", def: "4", lo: 1, hi: 64,
		help: "at most N connections to the server (8 when writeback is on and connections is not given)",
		num:  func(c *config) *int { return &c.Connections }},
	{name: "debug", kind: optFlag,
		help: "log every FTP command and reply (password masked)",
		on:   func(c *config) { c.LogLevel = slog.LevelDebug }},
	{name: "loglevel", kind: optText, arg: "LEVEL", def: "info",
		help: "error, warn, info or debug",
		text: func(c *config, v string) (err error) { c.LogLevel, err = parseLevel(v); return err }},
	{name: "logfile", kind: optText, arg: "PATH", defNote: "stderr in the foreground, syslog in the background",
		help: "write log lines here",
		text: func(c *config, v string) error { c.LogFile = v; return nil }},
	{name: "fuse_debug", kind: optFlag,
		help: "log every FUSE request",
		on:   func(c *config) { c.FuseDebug = true }},
	{name: "allow_other", kind: optFlag,
		help: "let other users use the mount",
		on:   func(c *config) { c.AllowOther = true }},
	{name: "auto_unmount", kind: optFlag,
		help: "remove the mount if ftpmount dies",
		on:   func(c *config) { c.AutoUnmount = true }},
	{name: "ro", kind: optFlag,
		help: "read-only mount",
		on:   func(c *config) { c.ReadOnly = true }},
	{name: "uid", kind: optNumber, arg: "N", defNote: "the mounting user", lo: 0, hi: math.MaxUint32 - 1,
		help: "owner shown for all files",
		num:  func(c *config) *int { return &c.UID }},
	{name: "gid", kind: optNumber, arg: "N", defNote: "the mounting user's group", lo: 0, hi: math.MaxUint32 - 1,
		help: "group shown for all files",
		num:  func(c *config) *int { return &c.GID }},
	{name: "umask", kind: optOctal, arg: "OCTAL", def: "022",
		help: "permission bits to clear from the modes shown (the server's, else 0666/0777)",
		num:  func(c *config) *int { return &c.Umask }},
	{name: "default_permissions", kind: optFlag,
		help: "let the kernel enforce those modes",
		on:   func(c *config) { c.DefaultPerm = true }},
	{name: "timezone", kind: optText, arg: "ZONE",
		help: "the server lists times in this zone (IANA name such as Europe/Berlin, or +HHMM); MLSD times are UTC anyway",
		text: func(c *config, v string) error {
			if _, err := ftpconn.ParseTimeZone(v); err != nil {
				return err
			}
			c.TimeZone = v
			return nil
		}},
	{name: "encoding", kind: optText, arg: "NAME",
		help: "the server stores names in this code page (cp932, euc-jp, gbk, gb18030, big5, euc-kr, latin1, ...)",
		text: func(c *config, v string) error {
			if _, err := ftpconn.LookupEncoding(v); err != nil {
				return err
			}
			c.Encoding = v
			return nil
		}},
	{name: "readahead", kind: optNumber, arg: "KB", def: "4096", lo: 0, hi: 1 << 20,
		help: "the kernel's readahead for the mount, as root; 0 leaves the kernel's 128",
		num:  func(c *config) *int { return &c.Readahead }},
	{name: "parallel", kind: optNumber, arg: "N", lo: 1, hi: 64,
		help: "read large files sequentially over N connections at once (for servers that throttle each connection)",
		num:  func(c *config) *int { return &c.Parallel }},
	{name: "disable_epsv", kind: optFlag,
		help: "passive mode with PASV only (for servers that break EPSV)",
		on:   func(c *config) { c.DisableEPSV = true }},
	{name: "atomic", kind: optFlag,
		help: "appends too go through a temporary name, so readers never see a part of the appended bytes",
		on:   func(c *config) { c.Replace = fs.ReplaceAtomic }},
	{name: "inplace", kind: optFlag,
		help: "store onto the file itself instead of a temporary name renamed over it (servers without RNFR/RNTO, or quotas that cannot hold two copies)",
		on:   func(c *config) { c.Replace = fs.ReplaceInPlace }},
	{name: "writeback", kind: optFlag,
		help: "close returns once the data is safe in the spool on local disk; uploads run in the background (fsync and unmount still wait; a crash is finished at the next mount)",
		on:   func(c *config) { c.Writeback = true }},
	{name: "user", kind: optTextOrName, arg: "NAME", // alone: fstab's "user" (any user may mount), which mount(8) handles
		help: "log in as NAME (instead of the URL's user)",
		text: func(c *config, v string) error { c.user = v; return nil }},
	{name: "password_file", kind: optText, arg: "PATH",
		help: "read the password from the first line of PATH",
		text: func(c *config, v string) error { c.PasswordFile = v; return nil }},
	{name: "netrc", kind: optTextOrName, arg: "PATH", defNote: "~/.netrc", // alone: the default
		help: "take login and password from a netrc file",
		text: func(c *config, v string) error { c.NetrcFile = v; return nil }},
	{name: "implicit_tls", kind: optFlag,
		help: "ftps:// with implicit TLS (port 990 by default)",
		on:   func(c *config) { c.ImplicitTLS = true }},
	{name: "cafile", kind: optText, arg: "PATH",
		help: "trust the CA certificates in PATH (PEM) for ftps://",
		text: func(c *config, v string) error { c.CAFile = v; return nil }},
	{name: "cert", kind: optText, arg: "PATH",
		help: "client certificate (PEM) for ftps://",
		text: func(c *config, v string) error { c.Cert = v; return nil }},
	{name: "key", kind: optText, arg: "PATH", defNote: "in the cert= file",
		help: "its private key (PEM)",
		text: func(c *config, v string) error { c.Key = v; return nil }},
	{name: "insecure", kind: optFlag,
		help: "do not verify the server's certificate (warns)",
		on:   func(c *config) { c.Insecure = true }},
	{name: "spool_dir", kind: optText, arg: "PATH", defNote: "/var/tmp/ftpmount/spool as root, else ~/.cache/ftpmount/spool",
		help: "where files being written are staged, with their crash journals",
		text: func(c *config, v string) error { c.SpoolDir = v; return nil }},
	{name: "recovery_dir", kind: optText, arg: "PATH",
		defNote: "/var/tmp/ftpmount-recovery as root, else ~/.local/state/ftpmount/recovery",
		help:    "where data of failed uploads is kept",
		text:    func(c *config, v string) error { c.RecoverDir = v; return nil }},
}

// cliFlag is one command-line flag; "-o" stands for the options table.
type cliFlag struct {
	names []string // "-h", "--help"
	arg   string   // the value's placeholder in -h; only -o takes one
	help  string
	apply func(c *config) error // nil for -o
}

// flags are the command-line flags, in the order -h shows them.
var flags = []cliFlag{
	{names: []string{"-f"}, help: "stay in the foreground",
		apply: func(c *config) error { c.Foreground = true; return nil }},
	{names: []string{"-d"}, help: "debug: like -o debug, and stay in the foreground",
		apply: func(c *config) error { c.Foreground, c.LogLevel = true, slog.LevelDebug; return nil }},
	{names: []string{"-o"}, arg: "opt[=value],...", help: "mount options:"},
	{names: []string{"-h", "--help"}, help: "show this help",
		apply: func(*config) error { return errHelp }},
	{names: []string{"-V", "--version"}, help: "show the version",
		apply: func(*config) error { return errVersion }},
}

var errHelp = errors.New("help")
var errVersion = errors.New("version")

// lookupOption is the option called name, or nil.
func lookupOption(name string) *option {
	for i := range options {
		if options[i].name == name {
			return &options[i]
		}
	}
	return nil
}

// lookupFlag is the flag spelled a, or nil.
func lookupFlag(a string) *cliFlag {
	for i := range flags {
		for _, n := range flags[i].names {
			if n == a {
				return &flags[i]
			}
		}
	}
	return nil
}

// apply sets o in c from the command line's "name=val" (hasVal) or "name".
func (o *option) apply(c *config, val string, hasVal bool) error {
	if o.kind == optFlag {
		if hasVal {
			return fmt.Errorf("takes no value (write %s, or leave it out)", o.name)
		}
		o.on(c)
		return nil
	}
	if o.kind == optTextOrName && !hasVal {
		if o.on != nil {
			o.on(c)
		}
		return nil
	}
	if !hasVal || val == "" {
		return errors.New("needs a value")
	}
	switch o.kind {
	case optSeconds:
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsNaN(f) || f < o.lo || f > o.hi {
			return fmt.Errorf("%q is not a number of seconds from %g to %g", val, o.lo, o.hi)
		}
		*o.dur(c) = time.Duration(f * float64(time.Second))
	case optNumber:
		n, err := strconv.Atoi(val)
		if err != nil || float64(n) < o.lo || float64(n) > o.hi {
			return fmt.Errorf("%q is not a whole number from %d to %d", val, int64(o.lo), int64(o.hi))
		}
		*o.num(c) = n
	case optOctal:
		n, err := strconv.ParseUint(val, 8, 32)
		if err != nil || n > 0o777 {
			return fmt.Errorf("%q is not an octal umask", val)
		}
		*o.num(c) = int(n)
	default:
		return o.text(c, val)
	}
	return nil
}
