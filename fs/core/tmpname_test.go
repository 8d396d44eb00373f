package core

import (
	"strings"
	"testing"
	"time"
)

// TempTarget gives back the target of every temporary name, its name cut as tempName cuts it.
func TestTempTarget(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	long := strings.Repeat("ü", 80) // 160 bytes: cut to 100 at a character boundary
	for _, c := range []struct{ target, want string }{
		{"/d/f.txt", "/d/f.txt"},
		{"/a b/.hidden", "/a b/.hidden"},
		{"/x.ftpmount-1-2.part", "/x.ftpmount-1-2.part"},
		{"/d/" + long, "/d/" + strings.Repeat("ü", 50)},
	} {
		got, ok := TempTarget(tempName(c.target, now))
		if !ok || got != c.want {
			t.Errorf("TempTarget(tempName(%q)) = %q, %v; want %q", c.target, got, ok, c.want)
		}
	}
	for _, p := range []string{"/d/f.txt", "/d/.f.ftpmount-x.part", "/d/.f.ftpmount-abc-1234567.part"} {
		if got, ok := TempTarget(p); ok {
			t.Errorf("TempTarget(%q) = %q: not a temporary name", p, got)
		}
	}
}
