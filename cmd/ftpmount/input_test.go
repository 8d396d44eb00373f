package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestOptionValues: each bad value is refused with a line naming the
// option; flags take no value (debug=0 once meant debug on).
func TestOptionValues(t *testing.T) {
	bad := []struct{ opt, want string }{
		{"debug=0", "takes no value"},
		{"ro=1", "takes no value"},
		{"allow_other=no", "takes no value"},
		{"timeout=NaN", "not a number of seconds"},
		{"timeout=Inf", "not a number of seconds"},
		{"timeout=0.5", "not a number of seconds"},
		{"dir_cache=Inf", "not a number of seconds"},
		{"dir_cache=-1", "not a number of seconds"},
		{"dir_cache=1e300", "not a number of seconds"},
		{"connections=100000", "whole number"},
		{"uid=-1", "whole number"},
		{"loglevel=loud", "not one of"},
		{"noauto=1", "takes no value"},
		{"key=/k", "key= needs cert="},
	}
	for _, b := range bad {
		_, err := parseArgs([]string{"ftps://h", "/m", "-o", b.opt})
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("-o %s: %v, want an error with %q", b.opt, err, b.want)
		}
	}
	c, err := parseArgs([]string{"h", "/m", "-o", "loglevel=warn,timeout=2.5,dir_cache=0,x-gvfs-show,comment=x,user,netrc"})
	if err != nil || c.LogLevel != slog.LevelWarn || c.Timeout != 2500*time.Millisecond || c.DirCache != 0 {
		t.Errorf("good values: %+v, %v", c, err)
	}
	if _, err := parseArgs([]string{"ftp://h", "/m", "-o", "cert=/c"}); err == nil {
		t.Error("cert= on ftp:// accepted")
	}
	c, err = parseArgs([]string{"ftps://h", "rel/mnt", "-o", "cert=c.pem,key=k.pem,logfile=log"})
	if err != nil || !strings.HasPrefix(c.Cert, "/") || !strings.HasPrefix(c.Key, "/") || !strings.HasPrefix(c.Mountpoint, "/") || !strings.HasPrefix(c.LogFile, "/") {
		t.Errorf("paths not made absolute: %+v, %v", c, err)
	}
}

// TestSourceForms: schemes in any case; an unescaped character in a
// password gets the hint.
func TestSourceForms(t *testing.T) {
	for _, in := range []string{"FTP://u@h/", "Ftp://h", "FTPS://u@h/"} {
		s, err := parseSource(in)
		if err != nil || s.Host != "h" || s.TLS != strings.HasPrefix(strings.ToLower(in), "ftps") {
			t.Errorf("%q: %+v, %v", in, s, err)
		}
	}
	for _, in := range []string{"ftp://u:pa/ss@h/", "ftp://u:pa#ss@h/", "ftp://u:pa?ss@h/", "u:pa/ss@h", "ftp://u:p#@h"} {
		_, err := parseSource(in)
		if err == nil || !strings.Contains(err.Error(), "percent-escape") || !strings.Contains(err.Error(), "password_file") {
			t.Errorf("%q: %v, want the escaping hint", in, err)
		}
		if err != nil && strings.Contains(err.Error(), "pa/ss") {
			t.Errorf("%q: the error shows the password: %v", in, err)
		}
	}
}

// TestNetrc: entries after a macdef block, and values quoted as curl
// writes them.
func TestNetrc(t *testing.T) {
	text := `# a comment
machine a login x password y
macdef init
cd /pub
machine a login evil password fromMacro

machine h login "bob" password "pa ss\"word\\"
default login anon password d
`
	if l, p := netrcLookup(text, "h", ""); l != "bob" || p != `pa ss"word\` {
		t.Errorf("h: %q %q", l, p)
	}
	if l, p := netrcLookup(text, "a", "evil"); l != "" || p != "" {
		t.Errorf("a as evil (only inside the macro): %q %q, want nothing", l, p)
	}
	if l, p := netrcLookup(text, "a", ""); l != "x" || p != "y" {
		t.Errorf("a: %q %q", l, p)
	}
}
