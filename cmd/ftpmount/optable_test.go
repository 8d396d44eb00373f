package main

import (
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// textSamples are valid values of the text options that check their value; others get a path.
var textSamples = map[string]string{"loglevel": "warn", "timezone": "+0200", "encoding": "latin1"}

// sample is a valid value for o that differs from its default.
func sample(o *option) string {
	switch o.kind {
	case optSeconds:
		return "7"
	case optNumber:
		n := int(o.lo) + 2
		if fmt.Sprint(n) == o.def || n == os.Getuid() || n == os.Getgid() {
			n++
		}
		return fmt.Sprint(n)
	case optOctal:
		return "007"
	case optText, optTextOrName:
		if s, ok := textSamples[o.name]; ok {
			return s
		}
		return "/x/" + o.name
	}
	return ""
}

// changedFields are the names of the config fields in which a and b differ (Given aside).
func changedFields(a, b *config) []string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	var out []string
	for i := range va.NumField() {
		name := va.Type().Field(i).Name
		if name != "Given" && !va.Field(i).Equal(vb.Field(i)) {
			out = append(out, name)
		}
	}
	return out
}

// Every option of the table is parsed into its own field of config, and only there: a row whose
// setter writes nothing, or the field of another option, fails here.
func TestEveryOptionSetsItsOwnField(t *testing.T) {
	base, err := parseArgs([]string{"h", "/m"})
	if err != nil {
		t.Fatal(err)
	}
	shared := map[string]string{"debug": "loglevel", "inplace": "atomic"} // one field, two ways to set it
	owner := map[string]string{}
	for i := range options {
		o := &options[i]
		arg := o.name
		if o.kind != optFlag {
			arg += "=" + sample(o)
		}
		c, _ := parseArgs([]string{"h", "/m"})
		if err := c.setOptions(arg); err != nil { // not parseArgs: key= alone is refused there
			t.Errorf("-o %s: %v", arg, err)
			continue
		}
		if !c.Given[o.name] {
			t.Errorf("-o %s: not recorded as given", arg)
		}
		changed := changedFields(base, c)
		if len(changed) == 0 {
			t.Errorf("-o %s changes nothing in config", arg)
		}
		for _, f := range changed {
			if prev, ok := owner[f]; ok && shared[o.name] != prev && shared[prev] != o.name {
				t.Errorf("-o %s sets %s, which -o %s sets too", arg, f, prev)
			}
			owner[f] = o.name
		}
	}
}

// Each kind refuses what it must: a value for a flag, no value for the others, numbers out of range.
func TestOptionKindsRefuse(t *testing.T) {
	for i := range options {
		o := &options[i]
		var bad []string
		switch o.kind {
		case optFlag:
			bad = []string{o.name + "=1", o.name + "="}
		case optSeconds:
			bad = []string{o.name, o.name + "=", fmt.Sprintf("%s=%g", o.name, o.hi+1), o.name + "=NaN", o.name + "=x"}
		case optNumber:
			bad = []string{o.name, fmt.Sprintf("%s=%d", o.name, int64(o.lo)-1), fmt.Sprintf("%s=%d", o.name, int64(o.hi)+1), o.name + "=1.5"}
		case optOctal:
			bad = []string{o.name, o.name + "=8", o.name + "=1000"}
		case optText:
			bad = []string{o.name, o.name + "="}
		case optTextOrName:
			bad = []string{o.name + "="}
		}
		for _, arg := range bad {
			if _, err := parseArgs([]string{"h", "/m", "-o", arg}); err == nil || !strings.Contains(err.Error(), o.name) {
				t.Errorf("-o %s: %v, want an error naming the option", arg, err)
			}
		}
	}
}

// The defaults of the table are applied, and are what the documentation says they are.
func TestOptionDefaults(t *testing.T) {
	c, err := parseArgs([]string{"h", "/m"})
	if err != nil {
		t.Fatal(err)
	}
	if c.DirCache != 5*time.Second || c.Timeout != 30*time.Second || c.Connections != 4 || c.Umask != 0o022 ||
		c.Readahead != 4096 || c.LogLevel != slog.LevelInfo || c.UID != os.Getuid() || c.GID != os.Getgid() ||
		c.Parallel != 0 || c.Given["readahead"] {
		t.Errorf("defaults: %+v", c)
	}
	c, err = parseArgs([]string{"h", "/m", "-o", "readahead=4096"})
	if err != nil || !c.Given["readahead"] {
		t.Errorf("readahead=4096 given: %+v, %v", c, err)
	}
}

// Every flag of the table is parsed; -o alone is not a flag.
func TestEveryFlagParses(t *testing.T) {
	for _, f := range flags {
		for _, n := range f.names {
			_, err := parseArgs([]string{n, "h", "/m"})
			switch {
			case f.apply == nil:
				if err == nil {
					t.Errorf("%s without a value accepted", n)
				}
			case slices.Contains(f.names, "-h") || slices.Contains(f.names, "-V"):
				if err == nil {
					t.Errorf("%s: no help or version", n)
				}
			case err != nil:
				t.Errorf("%s: %v", n, err)
			}
		}
	}
}
