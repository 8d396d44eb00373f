package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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
