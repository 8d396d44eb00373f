package main

import (
	"errors"
	"fmt"
	"github.com/ftpmount/ftpmount/ftpconn"
	"os"
	"strconv"
	"strings"
	"time"
)

// config is everything the command line says.
type config struct {
	Source     source
	Mountpoint string

	Foreground  bool
	Debug       bool // log FTP commands and replies
	FuseDebug   bool // log FUSE requests
	DirCache    time.Duration
	Timeout     time.Duration
	Connections int
	AllowOther  bool
	ReadOnly    bool
	UID, GID    int
	SpoolDir    string
	RecoverDir  string
	LogFile     string
	user        string // -o user=, applied to Source
	Umask       int
	DefaultPerm bool // default_permissions: the kernel checks modes
	Atomic      bool // upload to a temporary name, then rename
	Encoding    string
	DisableEPSV bool
	Parallel    int
	Readahead   int // KiB

	// FTPS
	ImplicitTLS bool
	CAFile      string
	Insecure    bool

	// Where the password comes from, when the URL has none.
	PasswordFile string
	NetrcFile    string // "" means ~/.netrc when it exists
}

const usage = `usage: ftpmount [options] SOURCE MOUNTPOINT

SOURCE is ftp://[user[:password]@]host[:port][/path], or host[:port] for
anonymous access. Options may come anywhere on the command line:

  -f                     stay in the foreground
  -d                     debug: like -o debug, and stay in the foreground
  -o opt[=value],...     mount options:
       dir_cache=SECONDS   how long a directory listing is trusted (default 5)
       timeout=SECONDS     give up on a silent server after this long (default 30)
       connections=N       at most N connections to the server (default 4)
       debug               log every FTP command and reply (password masked)
       fuse_debug          log every FUSE request
       allow_other         let other users use the mount
       ro                  read-only mount
       uid=N,gid=N         owner shown for all files (default: the mounting user)
       umask=OCTAL         permission bits to clear from 0666/0777 (default 022)
       default_permissions let the kernel enforce those modes
       encoding=NAME       the server stores names in this code page (cp932,
                           euc-jp, gbk, gb18030, big5, euc-kr, latin1, ...)
       readahead=KB        the kernel's readahead for the mount, as root
                           (default 4096; 0 leaves the kernel's 128)
       parallel=N          read large files sequentially over N connections at
                           once (for servers that throttle each connection)
       disable_epsv        passive mode with PASV only (for servers that break EPSV)
       atomic              upload to a temporary name and rename it over the
                           file, so readers never see a partial file
       user=NAME           log in as NAME (instead of the URL's user)
       password_file=PATH  read the password from the first line of PATH
       netrc=PATH          take login and password from a netrc file (default ~/.netrc)
       implicit_tls        ftps:// with implicit TLS (port 990 by default)
       cafile=PATH         trust the CA certificates in PATH (PEM) for ftps://
       insecure            do not verify the server's certificate (warns)
       spool_dir=PATH      where files being written are staged (default $TMPDIR or /tmp)
       recovery_dir=PATH   where data of failed uploads is kept
       logfile=PATH        append log lines here when in the background
  -h, --help             show this help
  -V, --version          show the version

The password may also come from the environment variable FTPMOUNT_PASSWORD.
ftps:// is explicit FTPS (AUTH TLS, port 21 by default); the certificate is
verified against the system's roots and the host name.

Unmount with: fusermount3 -u MOUNTPOINT
`

// ignoredOptions are passed along by mount(8) and mount.fuse3 from fstab;
// they mean nothing to ftpmount.
var ignoredOptions = map[string]bool{
	"_netdev": true, "noauto": true, "auto": true, "nofail": true, "user": true, "nouser": true,
	"users": true, "rw": true, "dev": true, "nodev": true, "suid": true, "nosuid": true,
	"exec": true, "noexec": true, "defaults": true, "async": true, "atime": true,
	"noatime": true, "relatime": true, "norelatime": true, "strictatime": true,
	"nodiratime": true, "diratime": true, "sync": false,
}

var errHelp = errors.New("help")
var errVersion = errors.New("version")

func parseArgs(args []string) (*config, error) {
	c := &config{
		DirCache:    5 * time.Second,
		Timeout:     30 * time.Second,
		Connections: 4,
		UID:         os.Getuid(),
		GID:         os.Getgid(),
		Umask:       0o022,
		Readahead:   4096,
	}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help":
			return nil, errHelp
		case a == "-V" || a == "--version":
			return nil, errVersion
		case a == "-f":
			c.Foreground = true
		case a == "-d":
			c.Foreground, c.Debug = true, true
		case a == "-o":
			if i+1 >= len(args) {
				return nil, errors.New("-o needs a value")
			}
			i++
			if err := c.setOptions(args[i]); err != nil {
				return nil, err
			}
		case strings.HasPrefix(a, "-o"):
			if err := c.setOptions(a[2:]); err != nil {
				return nil, err
			}
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			return nil, fmt.Errorf("unknown flag %s", a)
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) != 2 {
		return nil, fmt.Errorf("need SOURCE and MOUNTPOINT (got %d arguments)", len(pos))
	}
	src, err := parseSource(pos[0])
	if err != nil {
		return nil, err
	}
	if c.user != "" {
		src.User = c.user
	}
	if c.ImplicitTLS && !src.TLS {
		return nil, errors.New("implicit_tls needs an ftps:// source")
	}
	if src.Port == "" && c.ImplicitTLS {
		src.Port = "990"
	}
	c.Source, c.Mountpoint = src, pos[1]
	return c, nil
}

func (c *config) setOptions(list string) error {
	for _, opt := range strings.Split(list, ",") {
		if opt == "" {
			continue
		}
		name, val, hasVal := strings.Cut(opt, "=")
		if err := c.setOption(name, val, hasVal); err != nil {
			return fmt.Errorf("option %s: %w", name, err)
		}
	}
	return nil
}

func (c *config) setOption(name, val string, hasVal bool) error {
	needVal := func() error {
		if !hasVal || val == "" {
			return errors.New("needs a value")
		}
		return nil
	}
	seconds := func(dst *time.Duration, minimum float64) error {
		if err := needVal(); err != nil {
			return err
		}
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || f < minimum {
			return fmt.Errorf("%q is not a number of seconds >= %g", val, minimum)
		}
		*dst = time.Duration(f * float64(time.Second))
		return nil
	}
	number := func(dst *int, minimum int) error {
		if err := needVal(); err != nil {
			return err
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < minimum {
			return fmt.Errorf("%q is not a whole number >= %d", val, minimum)
		}
		*dst = n
		return nil
	}
	path := func(dst *string) error {
		if err := needVal(); err != nil {
			return err
		}
		*dst = val
		return nil
	}
	switch name {
	case "dir_cache":
		return seconds(&c.DirCache, 0)
	case "timeout":
		return seconds(&c.Timeout, 1)
	case "connections":
		return number(&c.Connections, 1)
	case "uid":
		return number(&c.UID, 0)
	case "gid":
		return number(&c.GID, 0)
	case "debug":
		c.Debug = true
	case "fuse_debug":
		c.FuseDebug = true
	case "allow_other":
		c.AllowOther = true
	case "ro":
		c.ReadOnly = true
	case "umask":
		if err := needVal(); err != nil {
			return err
		}
		n, err := strconv.ParseUint(val, 8, 32)
		if err != nil || n > 0o777 {
			return fmt.Errorf("%q is not an octal umask", val)
		}
		c.Umask = int(n)
	case "default_permissions":
		c.DefaultPerm = true
	case "atomic":
		c.Atomic = true
	case "readahead":
		return number(&c.Readahead, 0)
	case "parallel":
		return number(&c.Parallel, 1)
	case "disable_epsv":
		c.DisableEPSV = true
	case "encoding":
		if err := needVal(); err != nil {
			return err
		}
		if _, err := ftpconn.LookupEncoding(val); err != nil {
			return err
		}
		c.Encoding = val
	case "user":
		return path(&c.user)
	case "password_file":
		return path(&c.PasswordFile)
	case "netrc":
		if hasVal {
			return path(&c.NetrcFile)
		}
	case "implicit_tls":
		c.ImplicitTLS = true
	case "cafile":
		return path(&c.CAFile)
	case "insecure":
		c.Insecure = true
	case "spool_dir":
		return path(&c.SpoolDir)
	case "recovery_dir":
		return path(&c.RecoverDir)
	case "logfile":
		return path(&c.LogFile)
	default:
		if ignoredOptions[name] || strings.HasPrefix(name, "x-systemd.") || strings.HasPrefix(name, "comment=") || name == "comment" {
			return nil
		}
		return errors.New("unknown option")
	}
	return nil
}
