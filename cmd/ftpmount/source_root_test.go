package main

import "testing"

// The URL's path is relative to the login directory (RFC 1738 §3.2.2);
// %2F or "//" at its start makes it absolute (issue 11, item 1).
func TestSourceRoot(t *testing.T) {
	for _, c := range []struct{ in, login, root, str string }{
		{"ftp://u@h/", "/home/u", "/home/u", "ftp://u@h/"},
		{"ftp://u@h", "/home/u", "/home/u", "ftp://u@h/"},
		{"ftp://u@h/www/site", "/home/u", "/home/u/www/site", "ftp://u@h/www/site"},
		{"ftp://u@h/%2Fsrv/ftp", "/home/u", "/srv/ftp", "ftp://u@h//srv/ftp"},
		{"ftp://u@h//srv/ftp", "/home/u", "/srv/ftp", "ftp://u@h//srv/ftp"},
		{"ftp://u@h/%2F", "/home/u", "/", "ftp://u@h//"},
		{"ftp://u@h/a/../..", "/home/u", "/home/u", "ftp://u@h/"},
		{"ftp://u@h/pub", "/", "/pub", "ftp://u@h/pub"},
	} {
		s, err := parseSource(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if got := s.Root(c.login); got != c.root {
			t.Errorf("%s with login dir %s: root %s, want %s", c.in, c.login, got, c.root)
		}
		if got := s.String(); got != c.str {
			t.Errorf("%s: String %s, want %s", c.in, got, c.str)
		} else if again, _ := parseSource(got); again.Root(c.login) != c.root {
			t.Errorf("%s: String %s does not parse back to the same root", c.in, got)
		}
	}
}
