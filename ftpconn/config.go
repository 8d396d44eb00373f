package ftpconn

import (
	"crypto/tls"
	"time"

	"golang.org/x/text/encoding"
)

// Config says where the server is and how to talk to it.
type Config struct {
	Addr     string // host:port
	User     string // "anonymous" when empty
	Password string // "anonymous@" when empty and User is anonymous

	// TLS, when set, protects control and data connections (FTPS). With
	// ImplicitTLS the connection starts in TLS (usually port 990);
	// otherwise it is upgraded with AUTH TLS (explicit FTPS).
	TLS         *tls.Config
	ImplicitTLS bool

	// Encoding, when set, is the code page the server stores names in
	// (see encoding.go); nil means UTF-8 (OPTS UTF8 ON where offered).
	Encoding encoding.Encoding

	// ParallelReads > 1 fetches large files read from the start in
	// chunks over that many connections at once (see pget.go).
	ParallelReads int

	// DisableEPSV makes data connections use PASV only.
	DisableEPSV bool

	// Timeout bounds every network wait (connect, each read and write of
	// control and data connections). Zero means 30 s.
	Timeout time.Duration
	// MaxConns caps the connections open at once. Zero means 4.
	MaxConns int
	// Debugf, when set, receives every command and reply (PASS masked)
	// and the decisions this package takes (retries, reclaims).
	Debugf func(format string, args ...any)
	// Activity, when set, is kept up to date with uploads and connections
	// (see activity.go).
	Activity *Activity
	// Logf, when set, receives what the user should hear of once even
	// without debug: listing lines that could not be read, listings the
	// server cut short, server quirks worked around. Nil means Debugf.
	Logf func(format string, args ...any)
	// TimeZone is the zone the server's LIST times (and the times it is
	// told with vsftpd's MDTM) are in: -o timezone. Nil means UTC. MLSD,
	// MDTM replies and MFMT are UTC by RFC 3659 and never use it.
	TimeZone *time.Location
	// Now is the clock; nil means time.Now. Tests inject their own.
	Now func() time.Time
}

func (c *Config) withDefaults() Config {
	out := *c
	if out.Timeout <= 0 {
		out.Timeout = 30 * time.Second
	}
	if out.MaxConns <= 0 {
		out.MaxConns = 4
	}
	if out.User == "" {
		out.User = "anonymous"
		if out.Password == "" {
			out.Password = "anonymous@"
		}
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	return out
}

func (c *Config) debugf(format string, args ...any) {
	if c.Debugf != nil {
		c.Debugf(format, args...)
	}
}
