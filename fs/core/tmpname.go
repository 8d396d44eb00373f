package core

import (
	"fmt"
	"math/rand/v2"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Temporary names. New content goes to a name beside its target, renamed
// over the target once its size is checked:
//
//	.NAME.ftpmount-TIME-RAND.part
//
// TIME is the Unix time of the upload's start in base 36 and RAND 32
// random bits in hex, so that a name is ours beyond doubt and tells its
// age without asking the server. NAME is the target's name cut to 100
// bytes (at a character boundary), to stay within NAME_MAX (255). Such
// names are left out of listings: they are never a file a user made.

var tempNameRE = regexp.MustCompile(`^\..*\.ftpmount-([0-9a-z]{1,13})-[0-9a-f]{8}\.part$`)

// tempName returns a temporary name in the directory of target p.
func tempName(p string, now time.Time) string {
	base := path.Base(p)
	if len(base) > 100 {
		cut := 100
		for cut > 0 && !utf8.RuneStart(base[cut]) {
			cut--
		}
		base = base[:cut]
	}
	name := fmt.Sprintf(".%s.ftpmount-%s-%08x.part", base, strconv.FormatInt(now.Unix(), 36), rand.Uint32())
	return path.Join(path.Dir(p), name)
}

// IsTempName reports whether name (one path element) is a temporary name
// of an ftpmount upload, and when that upload started.
func IsTempName(name string) (started time.Time, ok bool) {
	m := tempNameRE.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}, false
	}
	secs, err := strconv.ParseInt(m[1], 36, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(secs, 0), true
}

// TempTarget is the path of the file that an upload under the temporary
// name p (a full path) replaces, its name cut as tempName cut it, and
// whether p is such a name.
func TempTarget(p string) (string, bool) {
	base := path.Base(p)
	if _, ok := IsTempName(base); !ok {
		return "", false
	}
	name := strings.TrimPrefix(base, ".")
	if i := strings.LastIndex(name, ".ftpmount-"); i > 0 {
		name = name[:i]
	}
	return path.Join(path.Dir(p), name), true
}
