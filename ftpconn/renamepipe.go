package ftpconn

import (
	"context"
	"net/textproto"
	"strconv"
	"time"
)

// rename sends RNFR and RNTO (RFC 959 §4.1.3) in one write where the
// mount pipelines them (pipeline.go), with an EPSV behind them that opens
// the connection's next data connection ahead (dataahead.go), and reads
// the three replies: one round trip instead of two or three.
//
// Callers must have checked whatever makes the rename safe before: RNTO
// goes out without waiting for RNFR's reply. Its error reads like the
// library's Rename: RNFR's reply when that was not 350, else RNTO's when
// not 2xx, as a *textproto.Error; a plain error when the connection failed
// or fell out of step (then the operation is tried again on a fresh
// connection; the retry accepts a rename that did happen).
func (cn *conn) rename(ctx context.Context, from, to string) error {
	if cn.traits.noPipelining || cn.pp.noRenamePair.Load() {
		return cn.sc.Rename(from, to)
	}
	lines := []string{"RNFR " + from, "RNTO " + to}
	ahead := !cn.noEPSV && !cn.hasSpare()
	if ahead {
		lines = append(lines, "EPSV")
	}
	if err := cn.writeLines(lines...); err != nil {
		return err
	}
	sent := time.Now()
	c1, m1, err := cn.readReply(ctx)
	if err != nil {
		return err
	}
	c2, m2, err := cn.readPipelined(ctx, time.Since(sent))
	if err != nil {
		cn.learn(&cn.pp.noRenamePair, "RNFR+RNTO in one write", err.Error())
		return err
	}
	result := renameResult(c1, m1, c2, m2)
	if ahead {
		c3, m3, err := cn.readPipelined(ctx, time.Since(sent))
		if err != nil {
			// The rename's outcome is known; the connection is not in
			// step any more.
			cn.learn(&cn.pp.noRenamePair, "RNFR+RNTO in one write", "no reply to EPSV: "+err.Error())
			cn.broken = err
			return result
		}
		cn.prepareSpare(c3, m3)
	}
	if c1 == 350 && c2 == 503 {
		// "Bad sequence": the server lost the RNFR before the RNTO came,
		// as a server that does not take pipelined commands may. The
		// rename did not happen: do it the old way.
		cn.learn(&cn.pp.noRenamePair, "RNFR+RNTO in one write", strconv.Itoa(c2)+" "+m2)
		cn.ctl.dropSpare()
		return cn.sc.Rename(from, to)
	}
	return result
}

// renameResult is the outcome of RNFR (c1) and RNTO (c2).
func renameResult(c1 int, m1 string, c2 int, m2 string) error {
	if c1 != 350 {
		return &textproto.Error{Code: c1, Msg: m1}
	}
	if c2 < 200 || c2 >= 300 {
		return &textproto.Error{Code: c2, Msg: m2}
	}
	return nil
}
