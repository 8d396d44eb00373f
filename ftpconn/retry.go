package ftpconn

import (
	"context"
	"errors"
	"time"
)

// The one retry policy of this package. Every loop that tries again (an
// operation whose connection died, an upload that came out short, a
// download cut short, a range of a parallel download, a dial refused
// because the server is full) asks a retrier: it decides from the error
// whether another try can help, counts failures in a row (progress, such as
// bytes that arrived, resets the count), and waits the one back-off
// schedule between tries.

// maxAttempts bounds the tries of one step without progress.
const maxAttempts = 3

// maxFullAttempts bounds the dials of a server that refuses more
// connections (421, "too many users") while no connection of ours is in use
// to wait for: such a server frees a slot within seconds or not at all.
const maxFullAttempts = 5

// backoff is the wait before try n+1 after n failures in a row: 0.2 s,
// 0.8 s, 1.8 s, 3.2 s (quadratic, so the first retry is quick and a few
// more cover a server restarting).
func backoff(failures int) time.Duration {
	return time.Duration(failures*failures) * 200 * time.Millisecond
}

// retryable reports whether an operation that failed with err may succeed
// on a fresh connection. A timeout is final: the user set how long a silent
// server may take, and trying again would multiply it. So are refusals
// (any reply but 421, 425, 426 and 450), a login refused, and a name too
// long for the server.
func retryable(err error) bool {
	if err == nil || isTimeout(err) || errors.Is(err, ErrLogin) || errors.Is(err, ErrNameTooLong) ||
		errors.Is(err, errNoSpareConn) || errors.Is(err, context.Canceled) {
		return false
	}
	var keeper connKeeper
	if errors.As(err, &keeper) {
		return true // a short upload: store resumes it
	}
	code := replyCode(err)
	var re *ReplyError
	if code == 0 && errors.As(err, &re) {
		code = re.Code
	}
	if code != 0 {
		return code == 421 || code == 425 || code == 426 || code == 450
	}
	return connBroken(err)
}

// retrier counts the failures of one step in a row. The zero value is ready.
type retrier struct {
	failures int
}

// again records a failure with err and reports whether to try again: err
// is retryable, fewer than maxAttempts failures in a row, and ctx still
// live after the back-off wait.
func (r *retrier) again(ctx context.Context, err error) bool {
	if !retryable(err) {
		r.failures++
		return false
	}
	return r.wait(ctx, maxAttempts)
}

// wait records a failure the caller knows to be worth another try and
// reports whether to make it: fewer than limit failures in a row, and ctx
// still live after the back-off wait.
func (r *retrier) wait(ctx context.Context, limit int) bool {
	r.failures++
	if r.failures >= limit {
		return false
	}
	t := time.NewTimer(backoff(r.failures))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// progress resets the count: the step moved on.
func (r *retrier) progress() {
	r.failures = 0
}

// retry reports whether failures happened before (for "already done" checks).
func (r *retrier) retry() bool {
	return r.failures > 0
}
