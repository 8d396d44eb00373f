package main

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
)

// source is where to mount from: ftp://[user[:password]@]host[:port][/path]
// or host[:port].
type source struct {
	Host     string
	Port     string
	User     string // empty: anonymous
	Password string
	// Path is the URL's path, relative to the login directory (RFC 1738
	// §3.2.2), written "/"-rooted ("/" by default); with Absolute (the URL
	// path began with %2F or "//") it is an absolute server path.
	Path     string
	Absolute bool
	TLS      bool // ftps://
}

// parseSource reads the SOURCE argument.
func parseSource(s string) (source, error) {
	var src source
	raw := s
	scheme, rest, hasScheme := strings.Cut(s, "://")
	switch {
	case !hasScheme:
		raw = "ftp://" + s
	case strings.EqualFold(scheme, "ftps"): // schemes are case-insensitive (RFC 3986 section 3.1)
		src.TLS = true
		raw = "ftp://" + rest
	case strings.EqualFold(scheme, "ftp"):
		raw = "ftp://" + rest
	default:
		return src, fmt.Errorf("%q: only ftp:// and ftps:// sources are supported", redact(s))
	}
	// A password with an unescaped '/', '#', '?' or '@' cuts the URL in the
	// wrong place: say how to write it instead of just refusing.
	hint := ""
	if strings.Contains(rest, "@") || (!hasScheme && strings.Contains(s, "@")) {
		hint = "; if the password has @ # / ? or :, percent-escape them (@ is %40, # %23, / %2F, ? %3F, : %3A) or use -o password_file=PATH"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return src, fmt.Errorf("%q is not a valid source (want ftp://[user@]host[:port][/path])%s", redact(s), hint)
	}
	if u.Hostname() == "" {
		return src, fmt.Errorf("%q: no host name%s", redact(s), hint)
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#") {
		if hint == "" {
			hint = " (escape '#' as %23 and '?' as %3F)"
		}
		return src, fmt.Errorf("%q: a source takes no ?query or #fragment%s", redact(s), hint)
	}
	if u.User != nil && strings.Contains(u.User.Username(), ":") {
		return src, fmt.Errorf("%q: the user name has a ':'%s", redact(s), hint)
	}
	src.Host = u.Hostname()
	src.Port = u.Port() // empty: the default, 21 (990 for implicit TLS); see config
	if u.User != nil {
		src.User = u.User.Username()
		src.Password, _ = u.User.Password()
	}
	src.Absolute = strings.HasPrefix(u.Path, "//")
	src.Path = path.Clean("/" + u.Path)
	return src, nil
}

// Root is the server directory to mount, given the login directory.
func (s source) Root(loginDir string) string {
	if s.Absolute {
		return s.Path
	}
	return path.Join(loginDir, s.Path)
}

// Addr is host:port for dialing.
func (s source) Addr() string {
	port := s.Port
	if port == "" {
		port = "21"
	}
	return net.JoinHostPort(s.Host, port)
}

// String is the source without the password: safe for the mount table,
// logs and the command line of the background process.
func (s source) String() string {
	u := url.URL{Scheme: "ftp", Host: s.Addr(), Path: s.Path}
	if s.Absolute {
		u.Path = "/" + s.Path
	}
	if s.TLS {
		u.Scheme = "ftps"
	}
	if s.Port == "" {
		u.Host = s.Host
		if strings.Contains(s.Host, ":") {
			u.Host = "[" + s.Host + "]"
		}
	}
	if s.User != "" {
		u.User = url.User(s.User)
	}
	return u.String()
}

// redact hides a password inside a source string that failed to parse.
func redact(s string) string {
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return s
	}
	start := strings.Index(s, "://")
	start += 3
	if start < 3 {
		start = 0
	}
	if c := strings.Index(s[start:at], ":"); c >= 0 {
		return s[:start+c+1] + "****" + s[at:]
	}
	return s
}
