package ftpconn

import "context"

// Background work. Some requests have no caller waiting on them: a
// listing refreshed before it goes stale (cache/refresh.go). Such a
// request should not take the connection a caller is about to need: the
// one used last, whose data connection for the next transfer is already
// open (dataahead.go). A sequential `cp -r` on a slow link keeps reusing
// that connection, file after file; a refresh that took it made the next
// upload check another, idle one (NOOP) and open a data connection for it
// (EPSV): two round trips on the copy's path, three times every five
// seconds.
//
// So the pool gives a background request an idle connection without such
// a spare, or dials a new one (within Config.MaxConns) when every idle
// connection has one. Once the server has refused a connection as one too
// many, background work takes any idle connection, as the rest does: it
// would only be refused again.

type backgroundKey struct{}

// Background marks ctx as that of work no caller waits on (see above).
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// isBackground tells whether ctx was marked by Background.
func isBackground(ctx context.Context) bool {
	bg, _ := ctx.Value(backgroundKey{}).(bool)
	return bg
}
