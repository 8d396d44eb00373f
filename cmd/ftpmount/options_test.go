package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseSource(t *testing.T) {
	cases := []struct {
		in                         string
		host, port, user, pw, path string
		str                        string
	}{
		{"example.org", "example.org", "21", "", "", "/", "ftp://example.org/"},
		{"example.org:2121", "example.org", "2121", "", "", "/", "ftp://example.org:2121/"},
		{"ftp://bob@h/pub/x", "h", "21", "bob", "", "/pub/x", "ftp://bob@h/pub/x"},
		{"ftp://bob:s%40cret@h:99/", "h", "99", "bob", "s@cret", "/", "ftp://bob@h:99/"},
		{"ftp://[::1]:2121/a", "::1", "2121", "", "", "/a", "ftp://[::1]:2121/a"},
		{"ftp://u:p@h/dir%20with%20space", "h", "21", "u", "p", "/dir with space", "ftp://u@h/dir%20with%20space"},
	}
	for _, c := range cases {
		s, err := parseSource(c.in)
		if err != nil {
			t.Errorf("parseSource(%q): %v", c.in, err)
			continue
		}
		if s.Host != c.host || s.Port != c.port || s.User != c.user || s.Password != c.pw || s.Path != c.path {
			t.Errorf("parseSource(%q) = %+v", c.in, s)
		}
		if got := s.String(); got != c.str {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.str)
		}
	}
}

func TestParseSourceErrorsHidePassword(t *testing.T) {
	for _, in := range []string{"ftps://u:hunter2@h/", "sftp://u:hunter2@h/", "ftp://u:hunter2@h/?x=1", "ftp://u:hunter2@/"} {
		_, err := parseSource(in)
		if err == nil {
			t.Errorf("parseSource(%q) accepted", in)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestParseArgs(t *testing.T) {
	c, err := parseArgs([]string{"ftp://u:p@h/", "/mnt/x", "-o", "dir_cache=2.5,connections=8,debug,_netdev,noauto,x-systemd.automount", "-f", "-otimeout=7"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Mountpoint != "/mnt/x" || c.Source.Host != "h" || !c.Foreground || !c.Debug ||
		c.DirCache != 2500*time.Millisecond || c.Connections != 8 || c.Timeout != 7*time.Second {
		t.Fatalf("parseArgs = %+v", c)
	}
	// mount.fuse3 style: options last.
	c, err = parseArgs([]string{"h", "/m", "-o", "rw,ro,allow_other,uid=5,gid=6"})
	if err != nil || !c.ReadOnly || !c.AllowOther || c.UID != 5 || c.GID != 6 {
		t.Fatalf("parseArgs = %+v, %v", c, err)
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, args := range [][]string{
		{"h"},
		{"h", "/m", "extra"},
		{"h", "/m", "-o", "bogus"},
		{"h", "/m", "-o", "connections=0"},
		{"h", "/m", "-o", "timeout=abc"},
		{"h", "/m", "-o"},
		{"h", "/m", "-x"},
	} {
		if _, err := parseArgs(args); err == nil {
			t.Errorf("parseArgs(%q) accepted", args)
		}
	}
	if _, err := parseArgs([]string{"--help"}); !errors.Is(err, errHelp) {
		t.Errorf("--help: %v", err)
	}
	if _, err := parseArgs([]string{"-V"}); !errors.Is(err, errVersion) {
		t.Errorf("-V: %v", err)
	}
}
