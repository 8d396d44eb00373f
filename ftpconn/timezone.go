package ftpconn

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // IANA names work on systems without zoneinfo
)

// Server time zones. LIST has no zone: servers print their local time
// (vsftpd with use_localtime=YES, most Windows servers), so a server west
// or east of UTC shows every time shifted. -o timezone names the server's
// zone, as lftp's ftp:timezone does; it applies to LIST times and to the
// times set with vsftpd's "MDTM time path" (which vsftpd reads in its
// local zone). MLSD and MFMT are UTC by RFC 3659 §2.3 and are never
// shifted; so are MDTM replies, except on a server that sets times with
// MDTM (no MFMT): vsftpd with use_localtime=YES answers MDTM in its local
// zone too (seen: 20231115031320 for a file of 22:13:20 UTC at UTC+5),
// and a time set through the mount must read back as set.

// ParseTimeZone reads an IANA zone name ("Europe/Berlin", "UTC") or a
// fixed offset "+HHMM", "-HH:MM", "+HH".
func ParseTimeZone(s string) (*time.Location, error) {
	if s == "" {
		return nil, fmt.Errorf("empty time zone")
	}
	if s[0] == '+' || s[0] == '-' {
		digits := strings.ReplaceAll(s[1:], ":", "")
		if len(digits) == 2 {
			digits += "00"
		}
		if len(digits) == 4 && isDigits(digits) {
			h, _ := strconv.Atoi(digits[:2])
			m, _ := strconv.Atoi(digits[2:])
			if h <= 14 && m < 60 {
				off := h*3600 + m*60
				if s[0] == '-' {
					off = -off
				}
				return time.FixedZone(s, off), nil
			}
		}
		return nil, fmt.Errorf("time zone %q: want an IANA name (Europe/Berlin) or an offset like +0200", s)
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: want an IANA name (Europe/Berlin) or an offset like +0200", s)
	}
	return loc, nil
}

// mdtmTime reads the time of an MDTM reply (RFC 3659 §3: YYYYMMDDHHMMSS
// with optional fractions, UTC), in the server's zone where the mount has
// one and the server sets times with MDTM (see above).
func (cn *conn) mdtmTime(msg string) (time.Time, bool) {
	t, ok := parseMLSDTime(strings.TrimSpace(msg))
	if !ok {
		return t, false
	}
	if _, mfmt := cn.feat["MFMT"]; !mfmt && cn.lp.loc != time.UTC {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), cn.lp.loc)
	}
	return t, true
}

// setTimeLocal sets p's time with vsftpd's "MDTM YYYYMMDDHHMMSS path" in
// the server's zone. Used only with Config.TimeZone set on a server
// without MFMT.
func (cn *conn) setTimeLocal(ctx context.Context, p string, t time.Time, loc *time.Location) error {
	_, err := cn.Expect(ctx, "MDTM "+t.In(loc).Format("20060102150405")+" "+p, 213)
	return err
}
