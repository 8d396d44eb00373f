package ftpconn

import (
	"context"
	"errors"
	"net"
	"net/textproto"
	"strconv"
	"time"
)

// A RETR on ftpconn's own command path: REST and RETR in one write, on a
// data connection opened ahead where the connection has one
// (dataahead.go), so that a read at any offset costs one round trip: the
// 350, the 150 and the first bytes come back together.
//
// REST goes out before its reply is known, so a refused REST (502, 504,
// 550) would make the RETR send the file from its start: its reply is
// read first, and then nothing of the data connection is used; the
// RETR's replies are read and the REST's refusal is the result.

// transfer is an open download: *retrStream, or the library's
// *ftp.Response. Close ends it and reads the server's final reply: nil
// for 2xx, else the reply as a *textproto.Error.
type transfer interface {
	Read(p []byte) (int, error)
	Close() error
}

// retrStream is a download on our own command path.
type retrStream struct {
	cn     *conn
	dc     net.Conn
	closed bool
}

func (s *retrStream) Read(p []byte) (int, error) { return s.dc.Read(p) }

// Close closes the data connection and reads the transfer's final reply.
func (s *retrStream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	cerr := s.dc.Close()
	code, msg, err := s.cn.readReply(context.Background())
	if err != nil {
		return errors.Join(cerr, err)
	}
	return transferReply(code, msg, nil)
}

// retr starts a download of p at offset off. Its error reads like the
// library's RetrFrom: a refused REST or RETR as a *textproto.Error, a
// failure of the connection as a plain error.
func (cn *conn) retr(ctx context.Context, p string, off int64) (*retrStream, error) {
	dc, err := cn.openData(ctx)
	if err != nil {
		return nil, err
	}
	lines := []string{"RETR " + p}
	pipelined := off > 0 && !cn.traits.noPipelining && !cn.pp.noRestPair.Load()
	if off > 0 && !pipelined {
		code, msg, err := cn.Cmd(ctx, "REST "+strconv.FormatInt(off, 10))
		if err == nil && code != 350 {
			err = &textproto.Error{Code: code, Msg: msg}
		}
		if err != nil {
			dc.Close()
			return nil, err
		}
	} else if pipelined {
		lines = []string{"REST " + strconv.FormatInt(off, 10), "RETR " + p}
	}
	if err := cn.writeLines(lines...); err != nil {
		dc.Close()
		return nil, err
	}
	sent := time.Now()
	var restErr error
	if pipelined {
		code, msg, err := cn.readReply(ctx)
		if err != nil {
			dc.Close()
			return nil, err
		}
		if code != 350 {
			restErr = &textproto.Error{Code: code, Msg: msg}
			dc.Close() // whatever the RETR sends from the start is not wanted
		}
	}
	var code int
	var msg string
	if pipelined {
		code, msg, err = cn.readPipelined(ctx, time.Since(sent))
		if errors.Is(err, errOutOfStep) {
			cn.learn(&cn.pp.noRestPair, "REST+RETR in one write", err.Error())
		}
	} else {
		code, msg, err = cn.readReply(ctx)
	}
	if err != nil {
		dc.Close()
		return nil, err
	}
	if code < 100 || code >= 200 {
		dc.Close()
		if restErr != nil {
			return nil, restErr
		}
		return nil, &textproto.Error{Code: code, Msg: msg}
	}
	s := &retrStream{cn: cn, dc: dc}
	if restErr != nil {
		// The RETR started from the beginning of the file: end it.
		if cerr := s.Close(); cerr != nil && replyCode(cerr) == 0 {
			return nil, cerr
		}
		return nil, restErr
	}
	return s, nil
}

// abortWithEPSV closes the data connection of s, sends EPSV at once, and
// reads the transfer's final reply and then the EPSV's, whose port becomes
// the connection's spare. Only for servers that read no command during a
// transfer; should the EPSV's reply come first all the same, the replies
// are told apart by their codes (229 never ends a transfer). nil means the
// connection is in step and usable.
func (cn *conn) abortWithEPSV(s *retrStream) error {
	s.closed = true
	s.dc.Close()
	if err := cn.writeLines("EPSV"); err != nil {
		return err
	}
	sent := time.Now()
	ctx := context.Background()
	code, msg, err := cn.readReply(ctx)
	if err != nil {
		return err
	}
	ecode, emsg, err := cn.readPipelined(ctx, time.Since(sent))
	if err != nil {
		return err
	}
	if code == 229 && ecode != 229 {
		code, msg, ecode, emsg = ecode, emsg, code, msg
	}
	switch {
	case code >= 200 && code < 300, code == 426, code == 450, code == 451, code == 550, code == 551:
	default:
		return &textproto.Error{Code: code, Msg: msg}
	}
	cn.prepareSpare(ecode, emsg)
	return nil
}
