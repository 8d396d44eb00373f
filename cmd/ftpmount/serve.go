package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/text/encoding"

	"github.com/ftpmount/ftpmount/fs"
	"github.com/ftpmount/ftpmount/ftpconn"
)

// serve connects, mounts and serves until unmounted. ready, when not nil,
// is the pipe to the waiting parent (see daemon.go).
func serve(c *config, ready *os.File) int {
	background := ready != nil
	fail := func(format string, args ...any) int {
		msg := fmt.Sprintf(format, args...)
		if background {
			fmt.Fprintf(ready, "ERR %s\n", msg)
			ready.Close()
		} else {
			fmt.Fprintf(os.Stderr, "ftpmount: %s\n", msg)
		}
		return 1
	}
	ls, logger, err := newLogging(c, background)
	if err != nil {
		return fail("%v", err)
	}
	switch {
	case background:
		ls.setTerminal(func(s string) { fmt.Fprintf(ready, "SAY %s\n", s) })
		os.Chdir("/")
	default:
		ls.setTerminal(func(s string) { fmt.Fprintf(os.Stderr, "ftpmount: %s\n", s) })
		os.Unsetenv(passwordEnv)
	}
	var debugf func(string, ...any)
	if c.LogLevel <= slog.LevelDebug {
		debugf = printfAt(logger, slog.LevelDebug)
	}
	warnf := printfAt(logger, slog.LevelWarn)
	startPprof(warnf)

	if err := checkDir("spool_dir", spoolDir(c)); err != nil {
		return fail("%v", err)
	}
	if c.RecoverDir != "" {
		if err := checkDir("recovery_dir", c.RecoverDir); err != nil {
			return fail("%v", err)
		}
	}
	tlsConf, err := tlsConfig(c, warnf)
	if err != nil {
		return fail("%v", err)
	}
	if c.Readahead > 0 && c.Given["readahead"] && os.Geteuid() != 0 {
		warnf("readahead=%d is ignored: only root can change a mount's readahead (the kernel's 128 KiB stays)", c.Readahead)
	}
	var enc encoding.Encoding
	if c.Encoding != "" {
		enc, _ = ftpconn.LookupEncoding(c.Encoding) // checked when parsing
	}
	var zone *time.Location
	if c.TimeZone != "" {
		zone, _ = ftpconn.ParseTimeZone(c.TimeZone) // checked when parsing
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout+5*time.Second)
	defer cancel()
	activity := ftpconn.NewActivity()
	client, err := ftpconn.Dial(ctx, ftpconn.Config{
		Activity:      activity,
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
		Logf:          warnf,
		TimeZone:      zone,
	})
	if err != nil {
		return fail("%s", describeDialError(c, err))
	}
	root := c.Source.Root(ftpconn.LoginDir(client))
	rootListing, err := client.List(ctx, root)
	if errors.Is(err, ftpconn.ErrIncomplete) {
		rootListing, err = nil, nil // the cache lists it again and knows it is incomplete
	}
	if err == nil {
		err = checkRootIsDir(ctx, client, root, rootListing)
	}
	if err != nil {
		client.Close()
		return fail("%v", describeRootError(c, root, err))
	}

	sock := statusSocket(c.Mountpoint) // before mounting: it resolves symbolic links
	var srv *fs.Server
	hint, err := mountCaptured(func() error {
		var err error
		srv, err = fs.Mount(c.Mountpoint, client, fs.Options{
			Root:        root,
			DirTTL:      c.DirCache,
			KernelTTL:   min(c.DirCache, time.Second),
			UID:         uint32(c.UID),
			GID:         uint32(c.GID),
			FileMode:    0o666 &^ uint32(c.Umask),
			DirMode:     0o777 &^ uint32(c.Umask),
			DefaultPerm: c.DefaultPerm,
			Replace:     c.Replace,
			Server:      c.Source.String(),
			Streams:     c.Connections / 2, // half the connections at most wait on writers
			Writeback:   writebackUploads(c),
			Background:  backgroundListings(c),
			ReadaheadKB: c.Readahead,
			RootListing: rootListing,
			SpoolDir:    c.SpoolDir,
			RecoverDir:  recoverDir(c),
			FsName:      c.Source.String(),
			AllowOther:  c.AllowOther,
			ReadOnly:    c.ReadOnly,
			FuseDebug:   c.FuseDebug,
			Logf:        warnf,
			Debugf:      debugf,
		})
		return err
	})
	if err != nil {
		client.Close()
		if hint != "" {
			return fail("cannot mount on %s: %s", c.Mountpoint, hint)
		}
		return fail("%v", err)
	}
	if c.AutoUnmount {
		w, err := startWatcher(c.Mountpoint)
		if err != nil {
			srv.Unmount()
			client.Close()
			return fail("auto_unmount: %v", err)
		}
		defer w.Close()
	}
	// Signals are ours before anyone is told the mount is ready: a SIGTERM
	// right after READY=1 must unmount, not kill.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	started := time.Now()
	stopStatus, err := serveStatus(sock, func() statusReport {
		return statusReport{
			Source: c.Source.String(), Mountpoint: c.Mountpoint, PID: os.Getpid(), Started: started,
			Activity: activity.View(), Mount: srv.Status(), Problems: ls.recentProblems(),
		}
	})
	if err != nil {
		warnf("ftpmount status will not answer for this mount: %v", err)
	} else {
		defer stopStatus()
	}
	ls.mountDone()
	if background {
		fmt.Fprintln(ready, "OK")
		ready.Close()
	}
	sdNotify("READY=1")

	exiting := make(chan struct{})
	defer close(exiting)
	go func() {
		first := true
		for sig := range sigs {
			sdNotify("STOPPING=1")
			logger.Info(fmt.Sprintf("%v: unmounting %s", sig, c.Mountpoint))
			if err := srv.Unmount(); err != nil {
				// Busy: detach now, finish what is in flight, then exit.
				// go-fuse's error holds fusermount3's lines: keep it one line.
				logger.Info(fmt.Sprintf("unmount: %s; detaching lazily", strings.Join(strings.Fields(err.Error()), " ")))
				if err := syscall.Unmount(c.Mountpoint, syscall.MNT_DETACH); err != nil {
					logger.Warn(fmt.Sprintf("lazy unmount: %v", err))
				}
			}
			if first {
				first = false
				go reportUploads(activity, logger, exiting)
			}
		}
	}()
	srv.Wait()
	srv.WaitUploads()
	srv.Shutdown()
	client.Close()
	return 0
}

// reportUploads says every two seconds, until exiting is closed, how far
// the uploads still running are (at info level: on the terminal of a
// foreground mount), so that a stop that waits for them is not a silent
// hang.
func reportUploads(activity *ftpconn.Activity, logger *slog.Logger, exiting <-chan struct{}) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	wait := time.After(300 * time.Millisecond)
	for {
		select {
		case <-exiting:
			return
		case <-wait:
		case <-tick.C:
		}
		v := activity.View()
		if len(v.Uploads) == 0 {
			continue
		}
		var parts []string
		for _, u := range v.Uploads {
			parts = append(parts, displayPath(u.Path)+" "+progress(u))
		}
		logger.Info(fmt.Sprintf("waiting for %d upload(s) before exiting: %s", len(v.Uploads), strings.Join(parts, "; ")))
	}
}

// checkRootIsDir refuses a SOURCE path that names a file. A LIST of a file
// lists that one file on most servers, so only a listing of exactly one
// non-directory entry named like the path is looked at more closely, in
// the parent's listing.
func checkRootIsDir(ctx context.Context, client ftpconn.Client, root string, listing []ftpconn.Entry) error {
	if root == "/" || len(listing) != 1 || listing[0].Type == ftpconn.TypeDir || listing[0].Name != path.Base(root) {
		return nil
	}
	parent, err := client.List(ctx, path.Dir(root))
	if err != nil {
		return nil // cannot tell: mount it
	}
	for _, e := range parent {
		if e.Name == path.Base(root) && e.Type == ftpconn.TypeFile {
			return errSourceIsFile
		}
	}
	return nil
}

var errSourceIsFile = errors.New("is a file")

func describeRootError(c *config, root string, err error) string {
	switch {
	case errors.Is(err, errSourceIsFile):
		return fmt.Sprintf("%s on %s is a file, not a directory (mount its directory %s and open the file there)", root, c.Source.Addr(), path.Dir(root))
	case errors.Is(err, ftpconn.ErrNotFound):
		return fmt.Sprintf("%s does not exist on %s", root, c.Source.Addr())
	}
	return fmt.Sprintf("cannot list %s on %s: %v", root, c.Source.Addr(), err)
}

func describeDialError(c *config, err error) string {
	user := c.Source.User
	if user == "" {
		user = "anonymous"
	}
	var re *ftpconn.ReplyError
	var ne *ftpconn.NoReplyError
	msg := err.Error()
	switch {
	case errors.As(err, &re):
		msg = fmt.Sprintf("%d %s", re.Code, re.Msg)
	case errors.As(err, &ne):
		msg = ne.Msg
	}
	var pe *ftpconn.ProtocolError
	switch {
	case errors.As(err, &pe):
		return fmt.Sprintf("%s is %s, not %s: %s", c.Source.Addr(), pe.What, wantedProtocol(c), protocolHint(c, pe))
	case errors.Is(err, ftpconn.ErrNoAuthTLS):
		return fmt.Sprintf("%s does not offer FTPS (AUTH TLS refused: %s): use ftp:// if it may be plain FTP, or -o implicit_tls if it is an implicit FTPS port", c.Source.Addr(), msg)
	case errors.Is(err, ftpconn.ErrTLS) && c.ImplicitTLS && strings.Contains(msg, "does not look like a TLS handshake"):
		return fmt.Sprintf("TLS with %s failed: the server does not start with TLS (explicit FTPS? drop -o implicit_tls)", c.Source.Addr())
	case c.Source.TLS && c.Cert == "" && strings.Contains(msg, "tls: certificate required"):
		// TLS 1.3 servers refuse a missing client certificate after the handshake, at the first
		// read (RFC 8446 §6.2 certificate_required): the greeting or the login fails with it.
		return fmt.Sprintf("%s requires a client certificate: add -o cert=PATH (PEM; key=PATH if the key is in another file)", c.Source.Addr())
	case errors.Is(err, ftpconn.ErrTLS) && c.Cert != "" && strings.Contains(strings.ToLower(msg), "certificate"):
		return fmt.Sprintf("TLS with %s failed: %s (check cert= and key=, and the server's CA with -o cafile=PATH)", c.Source.Addr(), msg)
	case errors.Is(err, ftpconn.ErrTLS):
		return fmt.Sprintf("TLS with %s failed: %s (use -o cafile=PATH to trust a CA, or -o insecure)", c.Source.Addr(), msg)
	case c.Source.TLS && !c.ImplicitTLS && errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Sprintf("cannot connect to %s: no greeting within %v (implicit FTPS? add -o implicit_tls)", c.Source.Addr(), c.Timeout)
	case errors.Is(err, ftpconn.ErrLogin):
		return fmt.Sprintf("login refused by %s for user %s: %s", c.Source.Addr(), user, msg)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Sprintf("cannot connect to %s: no answer within %v", c.Source.Addr(), c.Timeout)
	}
	return fmt.Sprintf("cannot connect to %s: %s", c.Source.Addr(), msg)
}

// wantedProtocol names what the command line asked for.
func wantedProtocol(c *config) string {
	switch {
	case c.ImplicitTLS:
		return "an implicit FTPS server"
	case c.Source.TLS:
		return "an FTPS server"
	}
	return "an FTP server"
}

// protocolHint says which source or option fits the server found.
func protocolHint(c *config, pe *ftpconn.ProtocolError) string {
	switch pe.Kind {
	case ftpconn.ProtoTLS:
		if c.Source.TLS {
			return "add -o implicit_tls"
		}
		return "use ftps://HOST:PORT with -o implicit_tls"
	case ftpconn.ProtoFTP:
		return "drop -o implicit_tls (explicit FTPS, AUTH TLS), or use ftp://"
	case ftpconn.ProtoSSH:
		return "this is SFTP, which ftpmount does not speak (use sshfs)"
	case ftpconn.ProtoHTTP:
		return "check the port (FTP is usually 21)"
	}
	return "check the host and port (FTP is usually 21, implicit FTPS 990)"
}

// backgroundListings is how many listings the cache may fetch at once
// for no caller: one less than the connections, so one stays for the
// caller's own requests (the cache takes at most three).
func backgroundListings(c *config) int {
	return max(1, c.Connections-1)
}

// writebackConnections is the pool's size with -o writeback when
// connections= is not given. Background uploads overlap only as far as
// connections allow, and a small file's upload is two round trips
// (STOR with its size check, then the rename), so at 4 connections
// they, not the local disk, set the pace of a cp -r. rclone's FTP
// backend opens as many connections as it has transfers. A server that
// allows fewer answers 421 and the pool shrinks to what it allows.
const writebackConnections = 8

// writebackUploads is how many uploads run in the background with -o
// writeback (0 without it): every connection but one, which is left for
// listings and reads.
func writebackUploads(c *config) int {
	if !c.Writeback {
		return 0
	}
	return max(1, c.Connections-1)
}

// spoolDir is where files being written are staged, with their crash
// journals: a place that outlives the daemon (and, outside tmpfs, a
// reboot), so that the next mount of the server finds what a dead daemon
// left (see core.Recover).
func spoolDir(c *config) string {
	if c.SpoolDir != "" {
		return c.SpoolDir
	}
	if os.Geteuid() == 0 {
		return "/var/tmp/ftpmount/spool"
	}
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "ftpmount", "spool")
	}
	return filepath.Join(os.TempDir(), "ftpmount-spool")
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
