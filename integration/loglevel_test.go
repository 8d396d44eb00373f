package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ftpmount/ftpmount/ftpconn/ftptest"
	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestLogLevels (issue 13): -o loglevel=error|warn|info|debug decides what the log gets. The
// server refuses every upload (552): the upload's failure, with the reply, and where its data is
// kept are warnings, logged at the default level (a shell's `>` does not see close fail), and at warn; not at
// error. debug logs each FTP command and reply, with the password masked; the other levels none.
func TestLogLevels(t *testing.T) {
	t.Parallel()
	requireEnv(t)
	s := ftptest.Start(t, ftptest.Options{Faults: &ftptest.Faults{Hook: func(cmd, _ string) *ftptest.Action {
		if cmd == "STOR" || cmd == "APPE" {
			return &ftptest.Action{Reply: "552 Quota exceeded."}
		}
		return nil
	}}})
	for _, level := range []string{"", "error", "warn", "info", "debug"} {
		name := level
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			logFile := filepath.Join(t.TempDir(), "ftpmount.log")
			opts := []string{"logfile=" + logFile, "timeout=5", "spool_dir=" + t.TempDir(), "recovery_dir=" + t.TempDir()}
			if level != "" {
				opts = append(opts, "loglevel="+level)
			}
			m := mountAt(t, harness.URL(s.User, s.Password, s.Addr), newMountDir(t), opts...)
			// bash ignores close's result: the redirection "succeeds".
			try(cmdTimeout, m.Dir, "echo data > "+name+".txt")
			m.unmount(t)
			b, _ := os.ReadFile(logFile)
			log := string(b)
			// The warning is "upload of /F failed (...); its data is kept in DIR", or, where the
			// kernel released the file only after the unmount began, "at unmount /F had changes the
			// server does not have: kept in DIR" after the 552 of each try.
			warned := strings.Contains(log, "warning: upload /"+name+".txt: STOR") && strings.Contains(log, "552 Quota exceeded") &&
				strings.Contains(log, "/"+name+".txt") && strings.Contains(log, "kept in")
			commands := strings.Contains(log, "USER "+s.User)
			if want := level != "error"; warned != want {
				t.Errorf("loglevel=%s: the upload's failure logged as a warning naming the recovery folder: %v, want %v; log:\n%s", level, warned, want, harness.Clip(log))
			}
			if want := level == "debug"; commands != want {
				t.Errorf("loglevel=%s: FTP commands logged: %v, want %v; log:\n%s", level, commands, want, harness.Clip(log))
			}
			if strings.Contains(log, s.Password) {
				t.Errorf("loglevel=%s: the log shows the password", level)
			}
		})
	}
}
