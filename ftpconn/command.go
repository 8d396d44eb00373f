package ftpconn

import (
	"context"
	"strings"

	"github.com/jlaffaye/ftp"
)

// ftpconn's own command path.
//
// jlaffaye/ftp sends a fixed set of commands and hides its connection, so
// SITE, MLST, raw listing lines and anything else it lacks go through here
// instead: on the same pooled, logged-in session (plain, explicit or
// implicit FTPS alike), through the ctrlConn the library itself reads and
// writes (see ctrlconn.go).
//
//	code, msg, err := cn.Cmd(ctx, "SITE CHMOD 755 /www/a.cgi")
//	lines, code, msg, err := cn.ListRaw(ctx, "MLSD /www")   // datconn.go
//
// Rules for callers:
//   - The connection must be checked out (pool.get) and the library must
//     not be in the middle of anything: no open *ftp.Response.
//   - err is only for failures of the connection itself (I/O, timeout,
//     a malformed reply, ctx done: then the connection is broken and goes
//     back to the pool with that error, which closes it). Any reply, even
//     500, comes back as code and msg with err == nil; Expect turns the
//     ones a caller did not want into a *textproto.Error, which the
//     package's classification (errors.go) reads like the library's own.
//   - A line with CR or LF is refused before sending (ftp.ErrInvalidCommand,
//     as the library does), so a name can never smuggle in a command.
//   - With Config.Debugf, the command and every reply line are logged as
//     the library's are (PASS masked).

// Cmd sends one command line and reads its complete reply (RFC 959 §4.2,
// multi-line replies joined by "\n"), skipping nothing. ctx cancels the
// wait; the connection is then unusable (err is ctx.Err()).
func (c *conn) Cmd(ctx context.Context, line string) (code int, msg string, err error) {
	if strings.ContainsAny(line, "\r\n") {
		return 0, "", ftp.ErrInvalidCommand
	}
	if err := ctx.Err(); err != nil {
		return 0, "", err
	}
	stop := context.AfterFunc(ctx, c.ctrl.abort)
	code, msg, err = c.ctl.exchange(c, line)
	if !stop() {
		err = ctx.Err()
	}
	if err != nil {
		c.fail(err)
		return 0, "", err
	}
	return code, msg, nil
}

// fail records that the connection failed (no reply, or an aborted wait):
// whatever the operation makes of the error, even one that carries on
// without the answer it wanted, the pool drops the connection when it
// comes back (its replies may be out of step, its deadline in the past).
// Callers that go on after a failure they tolerate check cn.broken.
func (c *conn) fail(err error) {
	if c.broken == nil {
		c.broken = err
	}
}

// Expect is Cmd with the reply checked: a code not among want (none means
// any 2xx) is returned as a *textproto.Error.
func (c *conn) Expect(ctx context.Context, line string, want ...int) (string, error) {
	code, msg, err := c.Cmd(ctx, line)
	if err != nil {
		return "", err
	}
	return msg, checkCode(code, msg, want)
}

// readReply reads one more reply (after a 1xx preliminary reply, say),
// honouring ctx like Cmd.
func (c *conn) readReply(ctx context.Context) (int, string, error) {
	if err := ctx.Err(); err != nil {
		return 0, "", err
	}
	stop := context.AfterFunc(ctx, c.ctrl.abort)
	code, msg, err := c.ctl.readReply(c.logLine)
	if !stop() {
		err = ctx.Err()
	}
	if err != nil {
		c.fail(err)
		return 0, "", err
	}
	return code, msg, nil
}

// exchange writes line and reads its reply. c supplies the log.
func (ctl *ctrlConn) exchange(c *conn, line string) (int, string, error) {
	c.logLine(line)
	if _, err := ctl.Conn.Write([]byte(line + "\r\n")); err != nil {
		return 0, "", err
	}
	return ctl.readReply(c.logLine)
}

// logLine passes one line of the dialogue to the debug log, labelled as
// protoLog labels the library's.
func (c *conn) logLine(line string) {
	if c.plog != nil {
		c.plog.Write([]byte(line + "\n"))
	}
}
