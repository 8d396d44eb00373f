package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"log/syslog"
	"os"
	"strings"
	"sync"
	"time"
)

// Logging. Every message goes through log/slog at one of four levels
// (-o loglevel=error|warn|info|debug; -o debug means loglevel=debug):
//
//   - debug: each FTP command and reply (PASS masked), retries, FUSE
//     requests with fuse_debug;
//   - info: signals, uploads still running at shutdown;
//   - warn: what the user must know: a failed upload and where its data
//     is kept, -o insecure, an option that could not take effect;
//   - error: what stops the mount.
//
// Where the lines go: with logfile=PATH, to that file (time stamped);
// else in the foreground to stderr; else (background) to syslog, which
// systemd's journal also receives, or nowhere when there is none.
//
// While the mount is being set up, warnings also go to the terminal of
// the command that mounted (foreground: its stderr; background: the
// ready pipe, which the waiting parent prints), so that `-o insecure` or
// an ignored readahead is seen where the user typed the command. Once the
// mount is ready, nothing more is written to that terminal.

// logSetup is the sink of one process's log lines.
type logSetup struct {
	level slog.LevelVar

	mu       sync.Mutex
	dst      io.Writer      // GUARDED_BY(mu): logfile or stderr; nil with syslog
	stamp    bool           // GUARDED_BY(mu): prefix lines with the time (log files)
	sys      *syslog.Writer // GUARDED_BY(mu): background without logfile
	terminal func(string)   // GUARDED_BY(mu): mount-time warnings; nil once ready
	recent   []logEntry     // GUARDED_BY(mu): the last maxRecent warnings and errors, for status
}

// logEntry is one warning or error kept for `ftpmount status`.
type logEntry struct {
	Time  time.Time `json:"time"`
	Level string    `json:"level"`
	Msg   string    `json:"msg"`
}

// maxRecent is how many warnings and errors status shows.
const maxRecent = 10

// recentProblems returns the last warnings and errors, oldest first.
func (ls *logSetup) recentProblems() []logEntry {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return append([]logEntry(nil), ls.recent...)
}

// parseLevel reads -o loglevel=.
func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "error":
		return slog.LevelError, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	}
	return 0, fmt.Errorf("%q is not one of error, warn, info, debug", s)
}

// openLogFile opens logfile= for appending; the mount fails when it
// cannot be written.
func openLogFile(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("logfile: %v", err)
	}
	return f, nil
}

// newLogging sets up the sink for c. background is true in the daemon.
// It also routes the standard library's log package (go-fuse's FUSE debug
// output) to the debug level.
func newLogging(c *config, background bool) (*logSetup, *slog.Logger, error) {
	ls := &logSetup{}
	ls.level.Set(c.LogLevel)
	switch {
	case c.LogFile != "":
		f, err := openLogFile(c.LogFile)
		if err != nil {
			return nil, nil, err
		}
		ls.dst, ls.stamp = f, true
	case !background:
		ls.dst = os.Stderr
	default:
		if w, err := syslog.New(syslog.LOG_INFO|syslog.LOG_DAEMON, "ftpmount"); err == nil {
			ls.sys = w
		} else {
			ls.dst = io.Discard
		}
	}
	logger := slog.New(&lineHandler{ls: ls})
	log.SetFlags(0)
	log.SetOutput(stdLogWriter{logger})
	return ls, logger, nil
}

// mountDone stops sending warnings to the mounting terminal.
func (ls *logSetup) mountDone() {
	ls.mu.Lock()
	ls.terminal = nil
	ls.mu.Unlock()
}

// setTerminal sends mount-time warnings to fn as well.
func (ls *logSetup) setTerminal(fn func(string)) {
	ls.mu.Lock()
	ls.terminal = fn
	ls.mu.Unlock()
}

func (ls *logSetup) emit(l slog.Level, msg string) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if l >= slog.LevelWarn {
		if len(ls.recent) == maxRecent {
			ls.recent = ls.recent[1:]
		}
		ls.recent = append(ls.recent, logEntry{Time: time.Now(), Level: strings.TrimSuffix(levelWord(l), ": "), Msg: msg})
	}
	if ls.terminal != nil && l >= slog.LevelWarn && ls.dst != os.Stderr {
		ls.terminal(levelWord(l) + msg)
	}
	if ls.sys != nil {
		switch {
		case l >= slog.LevelError:
			ls.sys.Err(msg)
		case l >= slog.LevelWarn:
			ls.sys.Warning(msg)
		case l >= slog.LevelInfo:
			ls.sys.Info(msg)
		default:
			ls.sys.Debug(msg)
		}
		return
	}
	line := "ftpmount: " + levelWord(l) + msg + "\n"
	if ls.stamp {
		line = time.Now().Format("2006-01-02 15:04:05.000000 ") + line
	}
	io.WriteString(ls.dst, line)
}

// levelWord prefixes warnings and errors.
func levelWord(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "error: "
	case l >= slog.LevelWarn:
		return "warning: "
	}
	return ""
}

// lineHandler is a slog.Handler that writes one plain line per record:
// the message, then key=value pairs.
type lineHandler struct {
	ls    *logSetup
	attrs string // preformatted " k=v" pairs of WithAttrs
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.ls.level.Level()
}

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.ls.emit(r.Level, b.String())
	return nil
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range as {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	return &lineHandler{ls: h.ls, attrs: b.String()}
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }

// stdLogWriter receives the standard log package's lines (go-fuse logs
// through it) at debug level.
type stdLogWriter struct{ l *slog.Logger }

func (w stdLogWriter) Write(p []byte) (int, error) {
	w.l.Debug(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// printfAt adapts a level of logger to the Printf-style callbacks of fs
// and ftpconn.
func printfAt(logger *slog.Logger, l slog.Level) func(string, ...any) {
	return func(format string, args ...any) {
		if logger.Enabled(context.Background(), l) {
			logger.Log(context.Background(), l, fmt.Sprintf(format, args...))
		}
	}
}
