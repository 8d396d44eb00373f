package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// daemonEnv marks the background process.
const daemonEnv = "FTPMOUNT_DAEMON"

// The background process gets its configuration on fd 3 and reports
// readiness on fd 4: a line "OK", or "ERR <message>".
const (
	configFD = 3
	readyFD  = 4
)

// daemonize starts the background process and waits until it says the
// mount is ready or why it is not.
func daemonize(c *config) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ftpmount: %v\n", err)
		return 1
	}
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ftpmount: %v\n", err)
		return 1
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ftpmount: %v\n", err)
		return 1
	}
	// The arguments only say what this process is in ps: no password.
	cmd := exec.Command(exe, c.Source.String(), c.Mountpoint)
	cmd.Env = append(os.Environ(), daemonEnv+"=1")
	cmd.ExtraFiles = []*os.File{cfgR, readyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if c.Debug && c.LogFile == "" {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "ftpmount: starting the background process: %v\n", err)
		return 1
	}
	cfgR.Close()
	readyW.Close()
	err = json.NewEncoder(cfgW).Encode(c)
	cfgW.Close()
	if err != nil {
		cmd.Process.Kill()
		fmt.Fprintf(os.Stderr, "ftpmount: %v\n", err)
		return 1
	}

	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(readyR).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	// Logging in and mounting are each bounded by the timeout; allow both
	// and some slack before declaring the child lost.
	limit := 2*c.Timeout + 15*time.Second
	select {
	case s := <-line:
		if s == "OK" {
			cmd.Process.Release()
			return 0
		}
		cmd.Wait()
		if msg, ok := strings.CutPrefix(s, "ERR "); ok {
			fmt.Fprintf(os.Stderr, "ftpmount: %s\n", msg)
		} else {
			fmt.Fprintln(os.Stderr, "ftpmount: the background process exited before the mount was ready")
		}
	case <-time.After(limit):
		cmd.Process.Kill()
		cmd.Wait()
		fmt.Fprintf(os.Stderr, "ftpmount: no mount after %v; gave up\n", limit)
	}
	return 1
}

// runChild is the background process: read the configuration, serve.
func runChild() int {
	cfgFile := os.NewFile(configFD, "config")
	ready := os.NewFile(readyFD, "ready")
	var c config
	err := json.NewDecoder(cfgFile).Decode(&c)
	cfgFile.Close()
	if err != nil {
		fmt.Fprintf(ready, "ERR reading configuration: %v\n", err)
		return 1
	}
	return serve(&c, ready)
}
