package main

import (
	"context"
	"errors"
	"fmt"
	"golang.org/x/text/encoding"
	"io"
	"log"
	"log/syslog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ftpmount/ftpmount/fs"
	"github.com/ftpmount/ftpmount/ftpconn"
)

// serve connects, mounts and serves until unmounted. ready, when not nil,
// is the pipe to the waiting parent: it gets "OK" or "ERR <why>".
func serve(c *config, ready *os.File) int {
	logger := newLogger(c, ready != nil)
	fail := func(format string, args ...any) int {
		msg := fmt.Sprintf(format, args...)
		if ready != nil {
			fmt.Fprintf(ready, "ERR %s\n", msg)
			ready.Close()
		} else {
			fmt.Fprintf(os.Stderr, "ftpmount: %s\n", msg)
		}
		return 1
	}
	var debugf func(string, ...any)
	if c.Debug {
		debugf = logger.Printf
	}

	tlsConf, err := tlsConfig(c, logger)
	if err != nil {
		return fail("%v", err)
	}
	var enc encoding.Encoding
	if c.Encoding != "" {
		enc, _ = ftpconn.LookupEncoding(c.Encoding) // checked when parsing
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout+5*time.Second)
	defer cancel()
	client, err := ftpconn.Dial(ctx, ftpconn.Config{
		Addr:          c.Source.Addr(),
		User:          c.Source.User,
		Password:      c.Source.Password,
		TLS:           tlsConf,
		ImplicitTLS:   c.ImplicitTLS,
		Encoding:      enc,
		DisableEPSV:   c.DisableEPSV,
		ParallelReads: c.Parallel,
		Timeout:       c.Timeout,
		MaxConns:      c.Connections,
		Debugf:        debugf,
	})
	if err != nil {
		return fail("%s", describeDialError(c, err))
	}
	root := c.Source.Path
	rootListing, err := client.List(ctx, root)
	if err != nil {
		client.Close()
		return fail("cannot list %s on %s: %v", root, c.Source.Addr(), err)
	}

	srv, err := fs.Mount(c.Mountpoint, client, fs.Options{
		Root:        root,
		DirTTL:      c.DirCache,
		KernelTTL:   min(c.DirCache, time.Second),
		UID:         uint32(c.UID),
		GID:         uint32(c.GID),
		FileMode:    0o666 &^ uint32(c.Umask),
		DirMode:     0o777 &^ uint32(c.Umask),
		DefaultPerm: c.DefaultPerm,
		Atomic:      c.Atomic,
		Streams:     c.Connections / 2, // half the connections at most wait on writers
		ReadaheadKB: c.Readahead,
		RootListing: rootListing,
		SpoolDir:    c.SpoolDir,
		RecoverDir:  recoverDir(c),
		FsName:      c.Source.String(),
		AllowOther:  c.AllowOther,
		ReadOnly:    c.ReadOnly,
		FuseDebug:   c.FuseDebug,
		Logf:        logger.Printf,
		Debugf:      debugf,
	})
	if err != nil {
		client.Close()
		return fail("%v", err)
	}
	if ready != nil {
		fmt.Fprintln(ready, "OK")
		ready.Close()
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		for sig := range sigs {
			logger.Printf("%v: unmounting %s", sig, c.Mountpoint)
			if err := srv.Unmount(); err != nil {
				// Busy: detach now, finish what is in flight, then exit.
				logger.Printf("unmount: %v; detaching lazily", err)
				if err := syscall.Unmount(c.Mountpoint, syscall.MNT_DETACH); err != nil {
					logger.Printf("lazy unmount: %v", err)
				}
			}
		}
	}()
	srv.Wait()
	srv.WaitUploads()
	client.Close()
	return 0
}

func describeDialError(c *config, err error) string {
	user := c.Source.User
	if user == "" {
		user = "anonymous"
	}
	var re *ftpconn.ReplyError
	msg := err.Error()
	if errors.As(err, &re) {
		msg = re.Msg
		if re.Code != 0 {
			msg = fmt.Sprintf("%d %s", re.Code, re.Msg)
		}
	}
	switch {
	case errors.Is(err, ftpconn.ErrTLS) && c.ImplicitTLS && strings.Contains(msg, "does not look like a TLS handshake"):
		return fmt.Sprintf("TLS with %s failed: the server does not start with TLS (explicit FTPS? drop -o implicit_tls)", c.Source.Addr())
	case errors.Is(err, ftpconn.ErrTLS):
		return fmt.Sprintf("TLS with %s failed: %s (use -o cafile=PATH to trust a CA, or -o insecure)", c.Source.Addr(), msg)
	case c.Source.TLS && !c.ImplicitTLS && errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Sprintf("cannot connect to %s: no greeting within %v (implicit FTPS? add -o implicit_tls)", c.Source.Addr(), c.Timeout)
	case errors.Is(err, ftpconn.ErrLogin):
		return fmt.Sprintf("login refused by %s for user %s: %s", c.Source.Addr(), user, msg)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("cannot connect to %s: no answer within %v", c.Source.Addr(), c.Timeout)
	}
	return fmt.Sprintf("cannot connect to %s: %s", c.Source.Addr(), msg)
}

// recoverDir is where the data of failed uploads is kept.
func recoverDir(c *config) string {
	if c.RecoverDir != "" {
		return c.RecoverDir
	}
	if os.Geteuid() == 0 {
		return "/var/tmp/ftpmount-recovery"
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "ftpmount", "recovery")
	}
	return filepath.Join(os.TempDir(), "ftpmount-recovery")
}

// newLogger logs to stderr in the foreground; in the background to
// logfile=, or to stderr with -o debug, or else to syslog where there is one.
func newLogger(c *config, background bool) *log.Logger {
	var w io.Writer = os.Stderr
	if c.LogFile != "" {
		if f, err := os.OpenFile(c.LogFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			w = f
		}
	} else if background && !c.Debug {
		w = io.Discard
		if sl, err := syslog.New(syslog.LOG_ERR|syslog.LOG_DAEMON, "ftpmount"); err == nil {
			w = sl
		}
	}
	return log.New(w, "ftpmount: ", log.LstdFlags|log.Lmicroseconds)
}
