package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"
)

// passwordEnv may hold the password.
const passwordEnv = "FTPMOUNT_PASSWORD"

// errNoTerminal: a password is needed and there is no terminal to ask on.
var errNoTerminal = errors.New("no terminal")

// resolveCredentials fills in the password (and, from netrc, the user) when
// the URL had none. Order: URL, password_file, $FTPMOUNT_PASSWORD, netrc
// (the named one, else ~/.netrc when it exists), then, when a user is
// named and stdin is a terminal, a prompt (as sshfs, curl and lftp do).
// Without a terminal (fstab, systemd) a named user without a password is
// one line naming the password sources. It runs in the foreground
// process, so a missing file is reported before anything is mounted; the
// background process receives the result over a pipe.
func resolveCredentials(c *config, prompt func(what string) (string, error)) error {
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
	if err := fromNetrc(c); err != nil || s.Password != "" {
		return err
	}
	if s.User == "" || s.User == "anonymous" || s.User == "ftp" {
		return nil // anonymous: jlaffaye sends anonymous@ as RFC 1635 asks
	}
	pw, err := prompt(s.User + "@" + s.Host)
	if errors.Is(err, errNoTerminal) {
		return fmt.Errorf("no password for %s@%s and no terminal to ask on: put it in -o password_file=PATH, $%s, a netrc entry, or the URL", s.User, s.Host, passwordEnv)
	}
	if err != nil {
		return fmt.Errorf("reading the password: %v", err)
	}
	s.Password = pw
	return nil
}

// fromNetrc takes login and password from netrc= or ~/.netrc.
func fromNetrc(c *config) error {
	s := &c.Source
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
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("netrc: %v", err)
	}
	login, pw := netrcLookup(string(b), s.Host, s.User)
	if s.User == "" {
		s.User = login
	}
	s.Password = pw
	return nil
}

// terminalPrompt asks for the password on the terminal, without echo.
func terminalPrompt(what string) (string, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", errNoTerminal
	}
	fmt.Fprintf(os.Stderr, "Password for %s: ", what)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", errors.New("empty password")
	}
	return string(b), nil
}
