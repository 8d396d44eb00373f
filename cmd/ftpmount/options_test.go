package main

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
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
		{"example.org", "example.org", "", "", "", "/", "ftp://example.org/"},
		{"example.org:2121", "example.org", "2121", "", "", "/", "ftp://example.org:2121/"},
		{"ftp://bob@h/pub/x", "h", "", "bob", "", "/pub/x", "ftp://bob@h/pub/x"},
		{"ftp://bob:s%40cret@h:99/", "h", "99", "bob", "s@cret", "/", "ftp://bob@h:99/"},
		{"ftp://[::1]:2121/a", "::1", "2121", "", "", "/a", "ftp://[::1]:2121/a"},
		{"ftp://u:p@h/dir%20with%20space", "h", "", "u", "p", "/dir with space", "ftp://u@h/dir%20with%20space"},
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
	for _, in := range []string{"gopher://u:hunter2@h/", "sftp://u:hunter2@h/", "ftp://u:hunter2@h/?x=1", "ftp://u:hunter2@/"} {
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
	if c.Mountpoint != "/mnt/x" || c.Source.Host != "h" || !c.Foreground || c.LogLevel != slog.LevelDebug ||
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

func TestFTPSSource(t *testing.T) {
	c, err := parseArgs([]string{"ftps://u@h/", "/m"})
	if err != nil || !c.Source.TLS || c.Source.Addr() != "h:21" || c.Source.String() != "ftps://u@h/" {
		t.Fatalf("explicit: %+v, %v", c, err)
	}
	c, err = parseArgs([]string{"ftps://u@h/", "/m", "-o", "implicit_tls"})
	if err != nil || c.Source.Addr() != "h:990" {
		t.Fatalf("implicit: %+v, %v", c, err)
	}
	if _, err := parseArgs([]string{"ftp://u@h/", "/m", "-o", "implicit_tls"}); err == nil {
		t.Fatal("implicit_tls with ftp:// accepted")
	}
}

func TestCredentialSources(t *testing.T) {
	dir := t.TempDir()
	netrc := filepath.Join(dir, "netrc")
	os.WriteFile(netrc, []byte("machine other login x password y\nmachine h\n  login bob\n  password fromnetrc\ndefault login anon password d\n"), 0o600)
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("fromfile\nignored\n"), 0o600)
	t.Setenv(passwordEnv, "")

	cases := []struct {
		args     []string
		env      string
		user, pw string
	}{
		{[]string{"ftp://bob:inurl@h/", "/m", "-o", "password_file=" + pwFile}, "", "bob", "inurl"},
		{[]string{"ftp://bob@h/", "/m", "-o", "password_file=" + pwFile}, "fromenv", "bob", "fromfile"},
		{[]string{"ftp://bob@h/", "/m", "-o", "netrc=" + netrc}, "fromenv", "bob", "fromenv"},
		{[]string{"h", "/m", "-o", "netrc=" + netrc}, "", "bob", "fromnetrc"},
		{[]string{"zzz", "/m", "-o", "netrc=" + netrc}, "", "anon", "d"},
		{[]string{"h", "/m", "-o", "user=carol,netrc=" + netrc}, "", "carol", "typed"}, // no entry is for carol: asked
		{[]string{"ftp://anonymous@h/", "/m", "-o", "netrc=" + netrc}, "", "anonymous", ""},
	}
	for _, tc := range cases {
		t.Setenv(passwordEnv, tc.env)
		c, err := parseArgs(tc.args)
		if err == nil {
			err = resolveCredentials(c, func(string) (string, error) { return "typed", nil })
		}
		if err != nil || c.Source.User != tc.user || c.Source.Password != tc.pw {
			t.Errorf("%q env=%q: user %q password %q (%v), want %q %q", tc.args, tc.env, c.Source.User, c.Source.Password, err, tc.user, tc.pw)
		}
	}
	c, _ := parseArgs([]string{"h", "/m", "-o", "password_file=/nonexistent"})
	if err := resolveCredentials(c, nil); err == nil {
		t.Error("a missing password_file was accepted")
	}
	// A named user, no password anywhere, no terminal: one line naming the sources.
	c, _ = parseArgs([]string{"ftp://carol@h/", "/m", "-o", "netrc=" + netrc})
	err := resolveCredentials(c, func(string) (string, error) { return "", errNoTerminal })
	if err == nil || !strings.Contains(err.Error(), "password_file") || !strings.Contains(err.Error(), passwordEnv) {
		t.Errorf("no terminal: %v", err)
	}
}

// TestWritebackConnections: write-back enlarges the pool when connections= is not given, so
// that background uploads overlap; a given connections= is kept, with or without writeback.
func TestWritebackConnections(t *testing.T) {
	cases := []struct {
		opts        string
		conns, upld int
	}{
		{"debug", 4, 0},
		{"writeback", writebackConnections, writebackConnections - 1},
		{"writeback,connections=2", 2, 1},
		{"connections=2,writeback", 2, 1},
		{"connections=1,writeback", 1, 1},
		{"connections=12", 12, 0},
	}
	for _, c := range cases {
		cfg, err := parseArgs([]string{"ftp://h/", "/mnt/x", "-o", c.opts})
		if err != nil {
			t.Fatalf("%s: %v", c.opts, err)
		}
		if cfg.Connections != c.conns || writebackUploads(cfg) != c.upld {
			t.Errorf("-o %s: %d connections, %d background uploads; want %d and %d",
				c.opts, cfg.Connections, writebackUploads(cfg), c.conns, c.upld)
		}
	}
}
