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

// The background process gets its configuration on fd 3 and talks back
// on fd 4, one line at a time:
//
//	SAY <text>   a warning for the user's terminal (printed as "ftpmount: <text>")
//	OK           the mount is ready; nothing more follows
//	ERR <why>    the mount failed; the process exits
//
// Its stderr is the logfile when there is one (a crash shows there),
// else /dev/null: the terminal that started it never receives anything
// once the command has returned, -o debug or not.
const (
	configFD = 3
	readyFD  = 4
)

// daemonize starts the background process and waits until it says the
// mount is ready or why it is not.
func daemonize(c *config) int {
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "ftpmount: %v\n", err)
		return 1
	}
	exe, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	// The arguments only say what this process is in ps: no password.
	cmd := exec.Command(exe, c.Source.String(), c.Mountpoint)
	cmd.Env = append(environWithout(passwordEnv), daemonEnv+"=1")
	cmd.ExtraFiles = []*os.File{cfgR, readyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	if c.LogFile != "" {
		f, err := openLogFile(c.LogFile)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		cmd.Stderr = f
	}
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("starting the background process: %v", err))
	}
	cfgR.Close()
	readyW.Close()
	err = json.NewEncoder(cfgW).Encode(c)
	cfgW.Close()
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return fail(err)
	}

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(readyR)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// Logging in and mounting are each bounded by the timeout; allow both
	// and some slack before declaring the child lost.
	limit := time.NewTimer(2*c.Timeout + 15*time.Second)
	defer limit.Stop()
	for {
		select {
		case s, ok := <-lines:
			switch {
			case !ok:
				cmd.Wait()
				return fail(fmt.Errorf("the background process exited before the mount was ready"))
			case s == "OK":
				cmd.Process.Release()
				return 0
			case strings.HasPrefix(s, "SAY "):
				fmt.Fprintf(os.Stderr, "ftpmount: %s\n", s[4:])
			case strings.HasPrefix(s, "ERR "):
				cmd.Wait()
				fmt.Fprintf(os.Stderr, "ftpmount: %s\n", s[4:])
				return 1
			}
		case <-limit.C:
			cmd.Process.Kill()
			cmd.Wait()
			return fail(fmt.Errorf("no mount after %v; gave up", 2*c.Timeout+15*time.Second))
		}
	}
}

// environWithout is the environment less the variable name.
func environWithout(name string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// runChild is the background process: read the configuration, serve.
func runChild() int {
	cfgFile := os.NewFile(configFD, "config")
	ready := os.NewFile(readyFD, "ready")
	os.Unsetenv(daemonEnv)
	var c config
	err := json.NewDecoder(cfgFile).Decode(&c)
	cfgFile.Close()
	if err != nil {
		fmt.Fprintf(ready, "ERR reading configuration: %v\n", err)
		return 1
	}
	return serve(&c, ready)
}
