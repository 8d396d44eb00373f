package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// passwordEnv may hold the password.
const passwordEnv = "FTPMOUNT_PASSWORD"

// resolveCredentials fills in the password (and, from netrc, the user) when
// the URL had none. Order: URL, password_file, $FTPMOUNT_PASSWORD, netrc
// (the named one, else ~/.netrc when it exists). It runs in the foreground
// process, so a missing file is reported before anything is mounted; the
// background process receives the result over a pipe.
func resolveCredentials(c *config) error {
	s := &c.Source
	if s.Password != "" {
		return nil
	}
	if c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return fmt.Errorf("password_file: %v", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		s.Password = strings.TrimRight(line, "\r")
		if s.Password == "" {
			return fmt.Errorf("password_file %s: the first line is empty", c.PasswordFile)
		}
		return nil
	}
	if pw := os.Getenv(passwordEnv); pw != "" {
		s.Password = pw
		return nil
	}
	path := c.NetrcFile
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil
		}
		path = filepath.Join(home, ".netrc")
		if _, err := os.Stat(path); err != nil {
			return nil
		}
	}
	login, pw, err := netrcLookup(path, s.Host, s.User)
	if err != nil {
		return fmt.Errorf("netrc: %v", err)
	}
	if s.User == "" {
		s.User = login
	}
	s.Password = pw
	return nil
}

// netrcLookup finds the login and password for host in a netrc file: the
// first "machine host" entry (with a matching login, when user is given),
// else "default".
func netrcLookup(path, host, user string) (login, password string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	var words []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		words = append(words, strings.Fields(line)...)
	}
	if err := sc.Err(); err != nil {
		return "", "", err
	}
	type entry struct{ machine, login, password string }
	var entries []entry
	for i := 0; i < len(words); i++ {
		switch words[i] {
		case "machine":
			if i+1 < len(words) {
				entries = append(entries, entry{machine: words[i+1]})
				i++
			}
		case "default":
			entries = append(entries, entry{machine: "*"})
		case "login", "password", "account":
			if i+1 >= len(words) || len(entries) == 0 {
				continue
			}
			e := &entries[len(entries)-1]
			if words[i] == "login" {
				e.login = words[i+1]
			} else if words[i] == "password" {
				e.password = words[i+1]
			}
			i++
		case "macdef": // a macro runs to the next blank line; we have no lines here, so stop
			i = len(words)
		}
	}
	for _, want := range []string{host, "*"} {
		for _, e := range entries {
			if e.machine == want && (user == "" || e.login == user || e.login == "") {
				return e.login, e.password, nil
			}
		}
	}
	return "", "", nil
}
