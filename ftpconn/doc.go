// Package ftpconn is ftpmount's only door to the FTP server.
//
// It wraps github.com/jlaffaye/ftp behind a small, context-first,
// concurrency-safe interface (Client) and hides everything that library
// leaves to its callers:
//
//   - A pool with exclusive checkout. A jlaffaye ServerConn carries one
//     transfer at a time and is not safe for concurrent use, so every
//     operation borrows a connection, and an open download stream owns its
//     connection until it is closed or reclaimed (see Reader). The pool is
//     capped (Config.MaxConns); idle connections are checked with NOOP before
//     reuse and replaced when dead. Work marked Background leaves callers
//     the connection whose next data connection is already open
//     (background.go).
//   - Deadlines. The library sets none after dialing, so every net.Conn it
//     uses (control and data) is wrapped by deadlineConn, which keeps a
//     read/write deadline of about Config.Timeout ahead of each call: a
//     silent server fails the operation instead of blocking it forever. A
//     timeout is final: it is not retried, reads queued behind it share it,
//     and the rest of that FTP session fails at once (see silence). A
//     checkout's idle check and the dial after it share one timeout, so a
//     silent server fails each call within Config.Timeout.
//   - Errors. Replies become sentinel errors (ErrNotFound, ErrPermission,
//     ...) in one table (classify, errors.go), wrapped in *ReplyError, which
//     keeps the server's words. Failures that are no reply (a refusal made
//     here, a short transfer, a dead connection) are *NoReplyError, of the
//     same kinds. A path too long for the server's command
//     line fails with ErrNameTooLong before anything is sent. A 550 is
//     ambiguous in FTP; operations that get one look at the parent listing to
//     tell "missing" from "refused". Nothing here knows about errno: package
//     fs maps these sentinels in one place.
//   - Verification. Downloads count bytes against the size that was
//     expected; uploads compare the server's size with the bytes sent. A
//     short transfer is an error, never a short file.
//   - Retries. Operations that fail because the connection died (EOF, reset,
//     421, but not a timeout) are retried a bounded number of times on a fresh
//     connection, by one policy (retry.go: retryable, backoff, retrier). Non-idempotent ones (delete, mkdir, rmdir, rename) accept
//     "already done" as success on a retry.
//
// Paths given to this package are always absolute server paths ("/a/b").
package ftpconn
