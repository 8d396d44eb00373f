package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestTerminalMessages: what the command that mounts prints, and what it must not. A warning of the
// mount itself (-o insecure) reaches the terminal of the mounting command even in the background;
// once the command has returned, the daemon writes nothing more to that terminal, -o debug or not
// (its debug lines go to the log).
func TestTerminalMessages(t *testing.T) {
	t.Parallel()
	requireEnv(t)

	t.Run("insecure_warns_on_the_terminal", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, "vsftpd-tls")
		dir := newMountDir(t)
		m := &mountPoint{Dir: dir}
		t.Cleanup(func() { m.unmount(t) })
		r := runFtpmount(t, cmdTimeout, srv.URL(), dir, "insecure")
		if r.Err != nil {
			t.Fatalf("mount: %v", r)
		}
		line := strings.TrimSpace(r.Stderr)
		if !strings.Contains(line, "warning") || !strings.Contains(line, "insecure") || strings.Count(line, "\n") != 0 {
			t.Errorf("stderr of the mounting command: %q, want one warning about -o insecure", r.Stderr)
		}
	})

	t.Run("debug_leaves_the_terminal_alone", func(t *testing.T) {
		t.Parallel()
		srv := startVsftpd(t)
		srv.sh(t, srv.DataDir, "echo x > a.txt")
		dir := newMountDir(t)
		m := &mountPoint{Dir: dir}
		t.Cleanup(func() { m.unmount(t) })
		// The terminal is a file here, so that what arrives after the command returned can be seen.
		term, err := os.Create(filepath.Join(t.TempDir(), "terminal"))
		if err != nil {
			t.Fatal(err)
		}
		defer term.Close()
		cmd := exec.Command(binary(t), srv.URL(), dir, "-o", "debug")
		cmd.Stdout, cmd.Stderr = term, term
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("mount: %v", err)
			}
		case <-time.After(cmdTimeout):
			cmd.Process.Kill()
			t.Fatal("the mounting command did not return")
		}
		atReturn, _ := os.ReadFile(term.Name())
		if got := sh(t, dir, "cat a.txt; ls"); !strings.Contains(got, "a.txt") {
			t.Errorf("through the mount: %q", got)
		}
		m.unmount(t)
		after, _ := os.ReadFile(term.Name())
		if len(after) > len(atReturn) {
			t.Errorf("the daemon wrote to the terminal after the command returned:\n%s", harness.Clip(string(after[len(atReturn):])))
		}
	})
}
