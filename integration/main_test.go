package integration

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// The binary under test, built once by TestMain (or FTPMOUNT_BIN, to test an installed binary);
// neither changes afterwards. A failed build fails every test that runs ftpmount (see binary),
// while the harness's own checks still run.
var (
	ftpmountBin string
	buildErr    error
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ftpmount-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	defer removePKI()
	if bin := os.Getenv("FTPMOUNT_BIN"); bin != "" {
		ftpmountBin, buildErr = filepath.Abs(bin) // commands run from /
	} else {
		ftpmountBin = filepath.Join(dir, "ftpmount")
		buildErr = build(ftpmountBin)
	}
	return m.Run()
}

// binary returns the path of the ftpmount binary, failing the test when it did not build.
func binary(t *testing.T) string {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("building ftpmount: %v", buildErr)
	}
	return ftpmountBin
}

// build compiles ../cmd/ftpmount (go test runs in this package's directory) to out, with the go
// command that runs the tests: go test puts its own GOROOT/bin first on the test's PATH.
func build(out string) error {
	cmd := exec.Command("go", "build", "-buildvcs=auto", "-o", out, "../cmd/ftpmount")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, b)
	}
	return nil
}

// requireEnv checks what every test here needs: root, /dev/fuse, fusermount3, bash and the FTP test
// account, and the given tools (a command looked up like harness.FindTool, or an absolute path: a server's
// binary). Where one is missing the test is skipped with the reason, except under CI=true, where a
// missing piece is a failure: CI must run these tests, not skip them.
func requireEnv(t *testing.T, tools ...string) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (FUSE mounts, FTP servers, drop_caches)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		missing = append(missing, "/dev/fuse")
	}
	for _, tool := range append([]string{"fusermount3", "bash"}, tools...) {
		var err error
		if filepath.IsAbs(tool) {
			_, err = os.Stat(tool)
		} else {
			_, err = harness.FindTool(tool)
		}
		if err != nil {
			missing = append(missing, tool+" (run scripts/install-deps.sh)")
		}
	}
	if _, err := user.Lookup(harness.User); err != nil {
		missing = append(missing, "user "+harness.User+" (run scripts/install-deps.sh)")
	}
	if _, err := os.Stat(harness.Home); err != nil {
		missing = append(missing, harness.Home+" (run scripts/install-deps.sh)")
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and this test cannot run; missing: %q", missing)
	}
	t.Skipf("missing: %q", missing)
}
