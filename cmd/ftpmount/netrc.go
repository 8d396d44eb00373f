package main

import "strings"

// netrc files, as ftp(1), curl and lftp read them: tokens separated by
// white space; "machine NAME" starts an entry, "default" the entry for
// any other host; "login", "password" and "account" take a value.
// "macdef NAME" starts a macro whose body runs to the next empty line; it
// is skipped, and entries after it are read. Values may be quoted as curl
// writes them ("pass word", with \" and \\ inside). Lines whose first
// token starts with '#' are comments.

// netrcLookup finds the login and password for host in the text of a
// netrc file: the first "machine host" entry (with a matching login, when
// user is given), else "default".
func netrcLookup(text, host, user string) (login, password string) {
	type entry struct{ machine, login, password string }
	var entries []entry
	toks := netrcTokens(text)
	for i := 0; i < len(toks); i++ {
		switch toks[i] {
		case "machine":
			if i+1 < len(toks) {
				entries = append(entries, entry{machine: toks[i+1]})
				i++
			}
		case "default":
			entries = append(entries, entry{machine: "*"})
		case "login", "password", "account":
			if i+1 >= len(toks) || len(entries) == 0 {
				continue
			}
			e := &entries[len(entries)-1]
			if toks[i] == "login" {
				e.login = toks[i+1]
			} else if toks[i] == "password" {
				e.password = toks[i+1]
			}
			i++
		}
	}
	for _, want := range []string{host, "*"} {
		for _, e := range entries {
			if e.machine == want && (user == "" || e.login == user || e.login == "") {
				return e.login, e.password
			}
		}
	}
	return "", ""
}

// netrcTokens splits a netrc file into tokens, leaving out comments and
// macro definitions and unquoting quoted values.
func netrcTokens(text string) []string {
	var toks []string
	lineStart := true
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\n':
			lineStart = true
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			i++
			continue
		case c == '#' && lineStart:
			for i < len(text) && text[i] != '\n' {
				i++
			}
			continue
		}
		lineStart = false
		var tok string
		if c == '"' {
			var b strings.Builder
			i++
			for i < len(text) && text[i] != '"' {
				if text[i] == '\\' && i+1 < len(text) {
					i++
					switch text[i] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					case 'r':
						b.WriteByte('\r')
					default:
						b.WriteByte(text[i])
					}
				} else {
					b.WriteByte(text[i])
				}
				i++
			}
			i++ // the closing quote
			tok = b.String()
		} else {
			j := i
			for j < len(text) && !strings.ContainsRune(" \t\r\n\f", rune(text[j])) {
				j++
			}
			tok, i = text[i:j], j
		}
		if tok == "macdef" {
			// The name, then the body up to an empty (or blank) line.
			rest := text[i:]
			_, rest, _ = strings.Cut(rest, "\n")
			for rest != "" {
				var line string
				line, rest, _ = strings.Cut(rest, "\n")
				if strings.TrimSpace(line) == "" {
					break
				}
			}
			i = len(text) - len(rest)
			lineStart = true
			continue
		}
		toks = append(toks, tok)
	}
	return toks
}
