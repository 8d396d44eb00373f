package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ftpmount/ftpmount/fs"
)

// config is everything the command line says.
type config struct {
	Source     source
	Mountpoint string

	Foreground  bool
	LogLevel    slog.Level // -o loglevel=; -o debug is slog.LevelDebug (FTP commands and replies)
	FuseDebug   bool       // log FUSE requests
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
	DefaultPerm bool       // default_permissions: the kernel checks modes
	Replace     fs.Replace // how new content takes a file's place (atomic, inplace)
	Writeback   bool       // close returns once the content is durable in the spool
	Encoding    string
	TimeZone    string // -o timezone: the zone of the server's LIST times
	DisableEPSV bool
	Parallel    int
	Readahead   int             // KiB
	Given       map[string]bool // the -o options named on the command line (readahead=: warn when it cannot be applied)
	AutoUnmount bool            // unmount when the daemon dies

	// FTPS
	ImplicitTLS bool
	CAFile      string
	Insecure    bool
	Cert, Key   string // client certificate and its key (PEM)

	// Where the password comes from, when the URL has none.
	PasswordFile string
	NetrcFile    string // "" means ~/.netrc when it exists
}

// ignoredOptions are passed along by mount(8) and mount.fuse3 from fstab;
// they mean nothing to ftpmount.
var ignoredOptions = map[string]bool{
	"_netdev": true, "noauto": true, "auto": true, "nofail": true, "user": true, "nouser": true,
	"users": true, "rw": true, "dev": true, "nodev": true, "suid": true, "nosuid": true,
	"exec": true, "noexec": true, "defaults": true, "async": true, "atime": true,
	"noatime": true, "relatime": true, "norelatime": true, "strictatime": true,
	"nodiratime": true, "diratime": true, "sync": false,
}

func parseArgs(args []string) (*config, error) {
	c := &config{UID: os.Getuid(), GID: os.Getgid(), Given: map[string]bool{}}
	for i := range options {
		if o := &options[i]; o.def != "" {
			if err := o.apply(c, o.def, true); err != nil {
				panic(fmt.Sprintf("option %s: default %q: %v", o.name, o.def, err))
			}
		}
	}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
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
			f := lookupFlag(a)
			if f == nil || f.apply == nil {
				return nil, fmt.Errorf("unknown flag %s", a)
			}
			if err := f.apply(c); err != nil {
				return nil, err
			}
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
	if c.Writeback && !c.Given["connections"] {
		c.Connections = writebackConnections
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

// setOption sets one -o option: "name=val" (hasVal) or "name". Options that
// mount(8) passes along from fstab are accepted and ignored.
func (c *config) setOption(name, val string, hasVal bool) error {
	if o := lookupOption(name); o != nil {
		c.Given[name] = true
		return o.apply(c, val, hasVal)
	}
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
