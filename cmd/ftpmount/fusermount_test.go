package main

import (
	"strings"
	"testing"
)

// TestFusermountHint: fusermount3's refusals, as it words them (its format strings: "%s: option
// %.*s only allowed if 'user_allow_other' is set in %s", "%s: failed to open %s: %s"), become the
// cause and the fix. The integration test (TestBadInputs/allow_other_as_user) meets only the one
// its machine gives: /dev/fuse closed to users, or allow_other refused.
func TestFusermountHint(t *testing.T) {
	cases := []struct{ out, want string }{
		{"fusermount3: option allow_other only allowed if 'user_allow_other' is set in /etc/fuse.conf\n",
			"needs user_allow_other in /etc/fuse.conf"},
		{"fusermount3: failed to open /dev/fuse: Permission denied\n", "no access to /dev/fuse"},
		{"fusermount3: failed to open /dev/fuse: Operation not permitted\n", "no access to /dev/fuse"},
		{"fusermount3: failed to open /dev/fuse: No such file or directory\n", "modprobe fuse"},
		{"fusermount3: mountpoint is not empty\nfusermount3: if you are sure this is safe, use the 'nonempty' mount option\n", "not empty"},
		{"fusermount3: something new\nsecond line\n", "fusermount3: something new"},
	}
	for _, c := range cases {
		got := fusermountHint(c.out)
		if !strings.Contains(got, c.want) || strings.Contains(got, "\n") {
			t.Errorf("%q: %q, want one line with %q", c.out, got, c.want)
		}
	}
	if got := fusermountHint(""); got != "" {
		t.Errorf("nothing said: %q", got)
	}
}
