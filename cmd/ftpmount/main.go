// Command ftpmount mounts an FTP server as a local directory.
//
//	ftpmount [options] SOURCE MOUNTPOINT
//	ftpmount status MOUNTPOINT
//
// By default it runs in the background like sshfs: the command returns 0
// once the mount answers, or exits non-zero with one line saying why. The
// background process is the same binary started again (daemon.go) with the
// configuration, password included, passed over a pipe, never on its
// command line or in its environment. Logging: logging.go.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if os.Getenv(daemonEnv) == "1" {
		return runChild()
	}
	if os.Getenv(watchEnv) == "1" {
		return runWatcher(args)
	}
	if len(args) > 0 && args[0] == "status" {
		return runStatus(args[1:])
	}
	c, err := parseArgs(args)
	switch {
	case errors.Is(err, errHelp):
		fmt.Print(usage)
		return 0
	case errors.Is(err, errVersion):
		fmt.Println("ftpmount", version())
		return 0
	case err != nil:
		fmt.Fprintf(os.Stderr, "ftpmount: %v (see ftpmount -h)\n", err)
		return 2
	}
	if err := checkMountpoint(c.Mountpoint); err != nil {
		fmt.Fprintf(os.Stderr, "ftpmount: %v\n", err)
		return 1
	}
	if c.LogFile != "" {
		f, err := openLogFile(c.LogFile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ftpmount: %v\n", err)
			return 1
		}
		f.Close()
	}
	if err := resolveCredentials(c, terminalPrompt); err != nil {
		fmt.Fprintf(os.Stderr, "ftpmount: %v\n", err)
		return 1
	}
	if c.Foreground {
		return serve(c, nil)
	}
	return daemonize(c)
}
