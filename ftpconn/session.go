package ftpconn

import (
	"context"
	"strings"
)

// What a connection learns at login, beyond what the library keeps to
// itself: the FEAT lines (RFC 2389), read from the login dialogue as it
// passed through the ctrlConn, and the UTF-8 switch.

// afterLogin finishes a connection's login. The library's own OPTS UTF8 ON
// is disabled because it takes any refusal as a failed login (a server
// that lists UTF8 in FEAT and answers 502 could not be mounted); here it is
// sent where FEAT offers it and the user gave no -o encoding, and whatever
// the server answers is fine: names are sent as UTF-8 either way.
func (c *conn) afterLogin(ctx context.Context, login string, cfg *Config) error {
	c.feat = parseFeat(login)
	if _, ok := c.feat["UTF8"]; ok && cfg.Encoding == nil {
		code, msg, err := c.Cmd(ctx, "OPTS UTF8 ON")
		if err != nil {
			return err
		}
		if code >= 300 {
			c.debugf("ftp[%d] server lists UTF8 but refuses OPTS UTF8 ON (%d %s): harmless, names stay UTF-8", c.id, code, msg)
		}
	}
	return nil
}

// parseFeat finds the FEAT reply in a login dialogue ("211-Features:",
// lines starting with a space, "211 End") and returns its features, keyed
// by the upper-cased first word: " MLST type*;size*;" → "MLST": "type*;size*;".
func parseFeat(dialogue string) map[string]string {
	feat := map[string]string{}
	in := false
	for _, line := range strings.Split(dialogue, "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.HasPrefix(line, "211-"):
			in = true
		case in && strings.HasPrefix(line, "211"):
			return feat
		case in && strings.HasPrefix(line, " "):
			name, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
			feat[strings.ToUpper(name)] = arg
		}
	}
	return feat
}
