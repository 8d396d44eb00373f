package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The options documented in three places must be the set of the flags and options tables
// (optable.go): -h (rendered from them), the README's options table, and the man page (doc/ftpmount.1).

// tableOptions are the -o names and flags of the tables, as the docs name them.
func tableOptions() []string {
	var out []string
	for _, o := range options {
		out = append(out, o.name)
	}
	for _, f := range flags {
		if f.apply != nil {
			out = append(out, f.names[0])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// usageOptions are the -o names and flags listed by -h.
func usageOptions() []string {
	var out []string
	for _, line := range strings.Split(usage, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case strings.HasPrefix(line, "       ") && !strings.HasPrefix(line, "        ") && f[0] != "ftpmount":
			name, _, _ := strings.Cut(f[0], "=")
			out = append(out, name)
		case strings.HasPrefix(line, "  -") && f[0] != "-o":
			out = append(out, strings.TrimSuffix(f[0], ","))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestUsageListsTable(t *testing.T) {
	u, tab := usageOptions(), tableOptions()
	if len(tab) < 30 {
		t.Fatalf("the tables hold only %d options: %q", len(tab), tab)
	}
	if !slices.Equal(u, tab) {
		t.Errorf("-h and the tables differ:\n only in -h: %q\n only in the tables: %q", missing(u, tab), missing(tab, u))
	}
}

var readmeOption = regexp.MustCompile("`(-o [a-z_]+|-[a-zA-Z]|--[a-z]+)")

// readmeOptions are the options in the first column of the README's options table.
func readmeOptions(t *testing.T) []string {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `-") {
			continue
		}
		cell := strings.Split(line, "|")[1]
		for _, m := range readmeOption.FindAllStringSubmatch(cell, -1) {
			name := strings.TrimPrefix(m[1], "-o ")
			if name == "--help" || name == "--version" {
				continue
			}
			out = append(out, name)
			if strings.Contains(cell, "uid=N,gid=N") && name == "uid" {
				out = append(out, "gid")
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestReadmeOptionsMatchTable(t *testing.T) {
	u := tableOptions()
	r := readmeOptions(t)
	if !slices.Equal(u, r) {
		t.Errorf("the options table and the README's table differ:\n only in optable.go: %q\n only in README: %q", missing(u, r), missing(r, u))
	}
}

// missing is what a has and b lacks.
func missing(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// manOptions are the options the man page lists under OPTIONS (.TP then .B/.BI/.BR name).
func manOptions(t *testing.T) []string {
	b, err := os.ReadFile("../../doc/ftpmount.1")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start, end := strings.Index(text, ".SH OPTIONS"), strings.Index(text, ".SH PASSWORD")
	if start < 0 || end < start {
		t.Fatal("no OPTIONS section in doc/ftpmount.1")
	}
	lines := strings.Split(text[start:end], "\n")
	var out []string
	for i := 1; i < len(lines); i++ {
		if lines[i-1] != ".TP" {
			continue
		}
		f := strings.Fields(lines[i])
		if len(f) < 2 || f[1] == `"\-o` {
			continue
		}
		if strings.Contains(lines[i], "gid=") {
			out = append(out, "gid")
		}
		for _, w := range f[1:] {
			w = strings.Trim(w, `",`)
			w = strings.ReplaceAll(w, `\-`, "-")
			w = strings.ReplaceAll(w, `\fR,\fPgid=`, ",gid=")
			if !strings.HasPrefix(w, "-") && !strings.HasSuffix(w, "=") && !regexp.MustCompile(`^[a-z_]+$`).MatchString(w) {
				continue
			}
			for _, part := range strings.Split(w, ",") {
				name, _, _ := strings.Cut(part, "=")
				if name != "" && name != "N" && name != "--help" && name != "--version" {
					out = append(out, name)
				}
			}
			if f[0] == ".B" || f[0] == ".BI" {
				break // the rest is the argument
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestManPageOptionsMatchTable(t *testing.T) {
	u := tableOptions()
	m := manOptions(t)
	if !slices.Equal(u, m) {
		t.Errorf("the options table and doc/ftpmount.1 differ:\n only in optable.go: %q\n only in the man page: %q", missing(u, m), missing(m, u))
	}
}

// readmeDefaults maps each -o option of the README's options table to its default column.
func readmeDefaults(t *testing.T) map[string]string {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if !strings.HasPrefix(line, "| `-o ") || len(cells) < 4 {
			continue
		}
		for _, m := range readmeOption.FindAllStringSubmatch(cells[1], -1) {
			out[strings.TrimPrefix(m[1], "-o ")] = strings.TrimSpace(strings.ReplaceAll(cells[2], "`", ""))
		}
	}
	return out
}

// manParagraphs maps each option of the man page's Mount options to its paragraph (the .TP
// entry's text, roff requests and escapes left as they are).
func manParagraphs(t *testing.T) map[string]string {
	b, err := os.ReadFile("../../doc/ftpmount.1")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start, end := strings.Index(text, ".SS Mount options"), strings.Index(text, ".SH PASSWORD")
	if start < 0 || end < start {
		t.Fatal("no Mount options in doc/ftpmount.1")
	}
	out := map[string]string{}
	for _, entry := range strings.Split(text[start:end], "\n.TP\n")[1:] {
		head, body, _ := strings.Cut(entry, "\n")
		f := strings.Fields(head)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.Trim(f[1], `"`), "=")
		out[name] = strings.ReplaceAll(body, `\-`, "-")
	}
	return out
}

// TestDocsShowDefaults: the default of every option that has one value is the one the README's
// table gives (its default column starts with it) and the man page says ("default VALUE").
func TestDocsShowDefaults(t *testing.T) {
	readme, man := readmeDefaults(t), manParagraphs(t)
	n := 0
	for _, o := range options {
		if o.def == "" {
			continue
		}
		n++
		if got := readme[o.name]; !strings.HasPrefix(got, o.def) {
			t.Errorf("-o %s: the README's default is %q, the table's %q", o.name, got, o.def)
		}
		if p := man[o.name]; !strings.Contains(strings.ToLower(p), "default "+o.def) {
			t.Errorf("-o %s: the man page does not say \"default %s\": %q", o.name, o.def, p)
		}
	}
	if n < 5 {
		t.Errorf("only %d options with a default checked", n)
	}
}
