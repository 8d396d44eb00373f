package main

import (
	"strings"
)

const usageHead = `usage: ftpmount [options] SOURCE MOUNTPOINT
       ftpmount status [--json] MOUNTPOINT

SOURCE is ftp://[user[:password]@]host[:port][/path] (ftps:// for FTPS), or
host[:port] for anonymous access. The path is relative to the login directory;
%2F at its start (or //) makes it absolute. Options may come anywhere on the
command line:

`

const usageTail = `
The password comes from the URL, password_file, $FTPMOUNT_PASSWORD or netrc;
else, for a named user, it is asked on the terminal. ftps:// is explicit FTPS
(AUTH TLS, port 21 by default); the certificate is verified against the
system's roots and the host name.

Unmount with: fusermount3 -u MOUNTPOINT. See ftpmount(1).
`

// usage is the -h text, made from the flags and options tables.
var usage = usageText()

// The -h columns: flags from column 2, their help from 25; options from 7, their help from 27.
const (
	usageWidth     = 80
	flagIndent     = 2
	flagHelpColumn = 25
	optIndent      = 7
	optHelpColumn  = 27
)

func usageText() string {
	var b strings.Builder
	b.WriteString(usageHead)
	for _, f := range flags {
		head := strings.Join(f.names, ", ")
		if f.arg != "" {
			head += " " + f.arg
		}
		writeColumns(&b, flagIndent, head, flagHelpColumn, f.help)
		if f.apply == nil { // -o: the options follow
			for _, o := range options {
				writeColumns(&b, optIndent, o.synopsis(), optHelpColumn, o.helpLine())
			}
		}
	}
	b.WriteString(usageTail)
	return b.String()
}

// synopsis is how -h names o: "dir_cache=SECONDS", "ro".
func (o *option) synopsis() string {
	if o.arg == "" {
		return o.name
	}
	return o.name + "=" + o.arg
}

// helpLine is o's help with its default.
func (o *option) helpLine() string {
	switch {
	case o.def != "":
		return o.help + " (default " + o.def + ")"
	case o.defNote != "":
		return o.help + " (default: " + o.defNote + ")"
	}
	return o.help
}

// writeColumns writes head indented by indent and text from column col, wrapped at usageWidth;
// a head too long for its column puts the text on the next line.
func writeColumns(b *strings.Builder, indent int, head string, col int, text string) {
	line := strings.Repeat(" ", indent) + head
	if len(line) >= col {
		b.WriteString(line + "\n")
		line = ""
	}
	for _, w := range strings.Fields(text) {
		switch {
		case len(line) < col:
			line += strings.Repeat(" ", col-len(line)) + w
		case len(line)+1+len(w) > usageWidth:
			b.WriteString(line + "\n")
			line = strings.Repeat(" ", col) + w
		default:
			line += " " + w
		}
	}
	b.WriteString(line + "\n")
}
