// Command ftpmount mounts an FTP server as a local directory.
//
//	ftpmount [options] SOURCE MOUNTPOINT
//
// By default it runs in the background like sshfs: the command returns 0
// once the mount answers, or exits non-zero with one line saying why. The
// background process is the same binary started again (daemon.go) with the
// configuration, password included, passed over a pipe, never on its
// command line.
package main

import (
	"errors"
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if os.Getenv(daemonEnv) == "1" {
		return runChild()
	}
	c, err := parseArgs(args)
	switch {
	case errors.Is(err, errHelp):
		fmt.Print(usage)
		return 0
	case errors.Is(err, errVersion):
		fmt.Println("ftpmount", version)
		return 0
	case err != nil:
		fmt.Fprintf(os.Stderr, "ftpmount: %v (see ftpmount -h)\n", err)
		return 2
	}
	if err := resolveCredentials(c); err != nil {
		fmt.Fprintf(os.Stderr, "ftpmount: %v\n", err)
		return 1
	}
	if err := checkMountpoint(c.Mountpoint); err != nil {
		fmt.Fprintf(os.Stderr, "ftpmount: %v\n", err)
		return 1
	}
	if c.Foreground {
		return serve(c, nil)
	}
	return daemonize(c)
}

func checkMountpoint(p string) error {
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("mount point %s does not exist", p)
	case err != nil:
		return fmt.Errorf("mount point %s: %v", p, err)
	case !st.IsDir():
		return fmt.Errorf("mount point %s is not a directory", p)
	}
	return nil
}
