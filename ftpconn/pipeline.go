package ftpconn

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jlaffaye/ftp"
)

// Pipelining: several commands in one write, their replies read after.
//
// RFC 959 lets a client send a command before the reply to the last one
// has come (replies come back in order, one final reply per command), and
// lftp does so by default. On a link with a 40 ms round trip, each reply
// waited for costs 40 ms, so ftpconn pipelines where it is known to be
// safe, and learns per mount (per pool) where a server does not keep step:
//
//   - STOR's data without waiting for its 150 (storpipe.go), only on
//     servers that accept the data connection when the transfer command
//     comes (vsftpd, proftpd, pure-ftpd: their greeting names them). A
//     server that accepts it at once (pyftpdlib) and sees the data end
//     before it has read the STOR loses the data and waits for another
//     connection (seen here: 150, then nothing). Such a failure cannot be
//     told from a slow server, so it is never tried on others. Nor under
//     FTPS: a handshake cut short makes Go forget the TLS session that
//     data connections must resume (see storPipelined).
//   - SIZE right behind the data of a STOR, to check the upload without a
//     round trip of its own. vsftpd reads no command during a transfer, so
//     its SIZE reply follows the 226. pyftpdlib and proftpd 1.3.8 answer a
//     command that arrives during a transfer at once ("213 0" before the
//     226: seen here), and pure-ftpd answers it with 500 and drops it. So
//     the reply is trusted only when it comes after the transfer's final
//     reply and is a 213; anything else is asked again, and the mount stops
//     pipelining SIZE (sizeAfterData).
//   - RNFR and RNTO in one write (renamepipe.go), only after the size was
//     checked: an incomplete temporary file must never replace the real
//     one. An EPSV rides along to open the next transfer's data
//     connection ahead (dataahead.go).
//   - REST and RETR in one write (retrpipe.go); the REST's reply is read
//     before any data is used. Never REST and STOR: a refused REST would
//     make the STOR overwrite the file from its start.
//
// Servers known to mishandle pipelined commands (lftp's list for its
// sync mode: Microsoft FTP Service, MadGoat, MikroTik) get none of it. A
// reply out of step, or one that does not come within pipeWait, turns
// pipelining of that kind off for the mount; the operation is then
// finished the old way (the connection is dropped if it is out of step,
// and the retry policy runs the operation again).

// pipePolicy is what one mount has learned; shared by its connections.
type pipePolicy struct {
	noSizeAfterData atomic.Bool // SIZE behind a STOR's data came out of step
	noRenamePair    atomic.Bool // RNFR+RNTO in one write came out of step
	noRestPair      atomic.Bool // REST+RETR in one write came out of step
}

// learn turns one kind of pipelining off for the mount, once.
func (cn *conn) learn(flag *atomic.Bool, what string, why string) {
	if flag.CompareAndSwap(false, true) {
		cn.debugf("ftp[%d] server does not keep step with %s (%s): sending it after the reply from now on", cn.id, what, why)
	}
}

// serverTraits is what the greeting tells about a server's handling of
// pipelined commands.
type serverTraits struct {
	noPipelining bool // known to drop or misread pipelined commands
	acceptLate   bool // accepts a passive data connection only at the transfer command
	readsDuring  bool // reads commands during an upload and drops them (pure-ftpd)
	// quietDuringTransfer: reads no command until a transfer has ended
	// (vsftpd: only an urgent ABOR interrupts it), so a command sent with
	// the close of a download's data connection is answered after the
	// transfer's reply.
	quietDuringTransfer bool
}

// traitsOf reads the greeting (the first reply, all its lines).
func traitsOf(greeting string) serverTraits {
	g := strings.ToLower(greeting)
	var t serverTraits
	for _, s := range []string{"microsoft ftp service", "madgoat", "mikrotik"} {
		if strings.Contains(g, s) {
			t.noPipelining = true
		}
	}
	switch {
	case strings.Contains(g, "(vsftpd "):
		t.acceptLate, t.quietDuringTransfer = true, true
	case strings.Contains(g, "proftpd"):
		t.acceptLate = true
	case strings.Contains(g, "pure-ftpd"):
		t.acceptLate, t.readsDuring = true, true
	}
	return t
}

// greetingOf returns the first reply of a login dialogue (as recorded by
// the ctrlConn: greeting first), its lines joined by "\n".
func greetingOf(dialogue string) string {
	var lines []string
	for _, l := range strings.Split(dialogue, "\n") {
		l = strings.TrimRight(l, "\r")
		lines = append(lines, l)
		if code, sep, _, ok := splitReply(l); ok && sep != '-' && code != 120 {
			break
		}
	}
	return strings.Join(lines, "\n")
}

// pipeWait bounds the wait for a pipelined reply once the reply before it
// has come: a server that dropped the command would otherwise keep the
// caller for the whole timeout. It is generous (a server's own work, such
// as a rename on a slow disk, counts), and a false alarm only costs the
// connection and turns pipelining off.
func pipeWait(sinceWrite time.Duration) time.Duration {
	return max(2*time.Second, 4*sinceWrite)
}

// errOutOfStep: a pipelined reply did not come in time; the connection is
// dropped and the operation tried again (retry.go treats it like a
// connection that died).
var errOutOfStep = errors.New("server did not answer a pipelined command in time")

// readPipelined reads one more reply of a pipelined batch, waiting at most
// pipeWait(sinceWrite) (and never longer than the connection's timeout).
// A wait that runs out returns errOutOfStep; the connection is then
// unusable.
func (cn *conn) readPipelined(ctx context.Context, sinceWrite time.Duration) (int, string, error) {
	d := min(pipeWait(sinceWrite), cn.timeout)
	cn.ctrl.setTimeout(d)
	code, msg, err := cn.readReply(ctx)
	cn.ctrl.setTimeout(cn.timeout)
	if err != nil && isTimeout(err) && ctx.Err() == nil {
		return 0, "", errOutOfStep
	}
	return code, msg, err
}

// writeLines sends several command lines in one write, logging each.
func (cn *conn) writeLines(lines ...string) error {
	var b strings.Builder
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			return ftp.ErrInvalidCommand
		}
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	for _, l := range lines {
		cn.logLine(l)
	}
	_, err := cn.ctl.Conn.Write([]byte(b.String()))
	return err
}
