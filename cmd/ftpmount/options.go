package main

import (
	"errors"
	"fmt"
	"github.com/ftpmount/ftpmount/fs/core"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
)

// config is everything the command line says.
type config struct {
	Source     source
	Mountpoint string

	Foreground   bool
	LogLevel     slog.Level // -o loglevel=; -o debug is slog.LevelDebug (FTP commands and replies)
	FuseDebug    bool       // log FUSE requests
	DirCache     time.Duration
	Timeout      time.Duration
	Connections  int
	AllowOther   bool
	ReadOnly     bool
	UID, GID     int
	SpoolDir     string
	RecoverDir   string
	LogFile      string
	user         string // -o user=, applied to Source
	Umask        int
	DefaultPerm  bool         // default_permissions: the kernel checks modes
	Replace      core.Replace // how new content takes a file's place (atomic, inplace)
	Writeback    bool         // close returns once the content is durable in the spool
	Encoding     string
	TimeZone     string // -o timezone: the zone of the server's LIST times
	DisableEPSV  bool
	Parallel     int
	Readahead    int  // KiB
	ReadaheadSet bool // given on the command line (warn when it cannot be applied)
	AutoUnmount  bool // unmount when the daemon dies

	// FTPS
	ImplicitTLS bool
	CAFile      string
	Insecure    bool
	Cert, Key   string // client certificate and its key (PEM)

	// Where the password comes from, when the URL has none.
	PasswordFile string
	NetrcFile    string // "" means ~/.netrc when it exists
}

const usage = `usage: ftpmount [options] SOURCE MOUNTPOINT
       ftpmount status [--json] MOUNTPOINT

SOURCE is ftp://[user[:password]@]host[:port][/path] (ftps:// for FTPS), or
host[:port] for anonymous access. Options may come anywhere on the command line:

  -f                     stay in the foreground
  -d                     debug: like -o debug, and stay in the foreground
  -o opt[=value],...     mount options:
       dir_cache=SECONDS   how long a directory listing is trusted (default 5)
       timeout=SECONDS     give up on a silent server after this long (default 30)
       connections=N       at most N connections to the server (default 4)
       debug               log every FTP command and reply (password masked)
       loglevel=LEVEL      error, warn, info (default) or debug
       logfile=PATH        write log lines here (default: stderr in the
                           foreground, syslog in the background)
       fuse_debug          log every FUSE request
       allow_other         let other users use the mount
       auto_unmount        remove the mount if ftpmount dies
       ro                  read-only mount
       uid=N,gid=N         owner shown for all files (default: the mounting user)
       umask=OCTAL         permission bits to clear from 0666/0777 (default 022)
       default_permissions let the kernel enforce those modes
       timezone=ZONE       the server lists times in this zone (IANA name such as
                           Europe/Berlin, or +HHMM); MLSD times are UTC anyway
       encoding=NAME       the server stores names in this code page (cp932,
                           euc-jp, gbk, gb18030, big5, euc-kr, latin1, ...)
       readahead=KB        the kernel's readahead for the mount, as root
                           (default 4096; 0 leaves the kernel's 128)
       parallel=N          read large files sequentially over N connections at
                           once (for servers that throttle each connection)
       disable_epsv        passive mode with PASV only (for servers that break EPSV)
       atomic              appends too go through a temporary name, so readers
                           never see a part of the appended bytes
       inplace             store onto the file itself instead of a temporary
                           name renamed over it (servers without RNFR/RNTO,
                           or quotas that cannot hold two copies)
       writeback           close returns once the data is safe in the spool on
                           local disk; uploads run in the background (fsync and
                           unmount still wait; a crash is finished at the next mount)
       user=NAME           log in as NAME (instead of the URL's user)
       password_file=PATH  read the password from the first line of PATH
       netrc=PATH          take login and password from a netrc file (default ~/.netrc)
       implicit_tls        ftps:// with implicit TLS (port 990 by default)
       cafile=PATH         trust the CA certificates in PATH (PEM) for ftps://
       cert=PATH           client certificate (PEM) for ftps://
       key=PATH            its private key (PEM; default: in the cert= file)
       insecure            do not verify the server's certificate (warns)
       spool_dir=PATH      where files being written are staged, with their crash
                           journals (default /var/tmp/ftpmount/spool as root,
                           else ~/.cache/ftpmount/spool)
       recovery_dir=PATH   where data of failed uploads is kept
  -h, --help             show this help
  -V, --version          show the version

The password comes from the URL, password_file, $FTPMOUNT_PASSWORD or netrc;
else, for a named user, it is asked on the terminal. ftps:// is explicit FTPS
(AUTH TLS, port 21 by default); the certificate is verified against the
system's roots and the host name.

Unmount with: fusermount3 -u MOUNTPOINT. See ftpmount(1).
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
		LogLevel:    slog.LevelInfo,
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
			c.Foreground, c.LogLevel = true, slog.LevelDebug
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
	if (c.Cert == "") != (c.Key == "") && c.Key != "" {
		return nil, errors.New("key= needs cert=")
	}
	if c.Cert != "" && !src.TLS {
		return nil, errors.New("cert= needs an ftps:// source")
	}
	c.Source, c.Mountpoint = src, pos[1]
	c.absPaths()
	return c, nil
}

// absPaths makes the paths of c absolute: the background process works
// from /.
func (c *config) absPaths() {
	for _, p := range []*string{&c.Mountpoint, &c.SpoolDir, &c.RecoverDir, &c.LogFile, &c.PasswordFile,
		&c.NetrcFile, &c.CAFile, &c.Cert, &c.Key} {
		if *p != "" {
			if abs, err := filepath.Abs(*p); err == nil {
				*p = abs
			}
		}
	}
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
	flag := func(dst *bool) error {
		if hasVal {
			return fmt.Errorf("takes no value (write %s, or leave it out)", name)
		}
		*dst = true
		return nil
	}
	flagTo := func(dst *core.Replace, v core.Replace) error {
		var on bool
		if err := flag(&on); err != nil {
			return err
		}
		*dst = v
		return nil
	}
	seconds := func(dst *time.Duration, minimum, maximum float64) error {
		if err := needVal(); err != nil {
			return err
		}
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsNaN(f) || f < minimum || f > maximum {
			return fmt.Errorf("%q is not a number of seconds from %g to %g", val, minimum, maximum)
		}
		*dst = time.Duration(f * float64(time.Second))
		return nil
	}
	number := func(dst *int, minimum, maximum int) error {
		if err := needVal(); err != nil {
			return err
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < minimum || n > maximum {
			return fmt.Errorf("%q is not a whole number from %d to %d", val, minimum, maximum)
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
	const day = 24 * 3600
	switch name {
	case "dir_cache":
		return seconds(&c.DirCache, 0, day)
	case "timeout":
		return seconds(&c.Timeout, 1, day)
	case "connections":
		return number(&c.Connections, 1, 64)
	case "uid":
		return number(&c.UID, 0, math.MaxUint32-1)
	case "gid":
		return number(&c.GID, 0, math.MaxUint32-1)
	case "debug":
		var on bool
		if err := flag(&on); err != nil {
			return err
		}
		c.LogLevel = slog.LevelDebug
	case "loglevel":
		if err := needVal(); err != nil {
			return err
		}
		l, err := parseLevel(val)
		if err != nil {
			return err
		}
		c.LogLevel = l
	case "fuse_debug":
		return flag(&c.FuseDebug)
	case "allow_other":
		return flag(&c.AllowOther)
	case "ro":
		return flag(&c.ReadOnly)
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
		return flag(&c.DefaultPerm)
	case "atomic":
		return flagTo(&c.Replace, core.ReplaceAtomic)
	case "inplace":
		return flagTo(&c.Replace, core.ReplaceInPlace)
	case "writeback":
		return flag(&c.Writeback)
	case "auto_unmount":
		return flag(&c.AutoUnmount)
	case "readahead":
		c.ReadaheadSet = true
		return number(&c.Readahead, 0, 1<<20)
	case "parallel":
		return number(&c.Parallel, 1, 64)
	case "disable_epsv":
		return flag(&c.DisableEPSV)
	case "timezone":
		if err := needVal(); err != nil {
			return err
		}
		if _, err := ftpconn.ParseTimeZone(val); err != nil {
			return err
		}
		c.TimeZone = val
	case "encoding":
		if err := needVal(); err != nil {
			return err
		}
		if _, err := ftpconn.LookupEncoding(val); err != nil {
			return err
		}
		c.Encoding = val
	case "user":
		if !hasVal {
			return nil // fstab's "user": any user may mount (mount(8) handles it)
		}
		return path(&c.user)
	case "password_file":
		return path(&c.PasswordFile)
	case "netrc":
		if !hasVal {
			return nil // the default, ~/.netrc
		}
		return path(&c.NetrcFile)
	case "implicit_tls":
		return flag(&c.ImplicitTLS)
	case "cafile":
		return path(&c.CAFile)
	case "cert":
		return path(&c.Cert)
	case "key":
		return path(&c.Key)
	case "insecure":
		return flag(&c.Insecure)
	case "spool_dir":
		return path(&c.SpoolDir)
	case "recovery_dir":
		return path(&c.RecoverDir)
	case "logfile":
		return path(&c.LogFile)
	default:
		if strings.HasPrefix(name, "x-systemd.") || name == "comment" || strings.HasPrefix(name, "x-") {
			return nil
		}
		if ignoredOptions[name] {
			if hasVal {
				return fmt.Errorf("takes no value")
			}
			return nil
		}
		return errors.New("unknown option")
	}
	return nil
}
