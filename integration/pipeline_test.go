package integration

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestPipelinedSmallFiles: small files copied in with cp -r arrive whole on every server, plain
// and FTPS, with each one's rename sent as RNFR and RNTO in one write (ftpconn/renamepipe.go: the
// RNTO goes before the 350 comes back, once the size was checked). The servers differ in how they
// take pipelined commands (ftpconn/pipeline.go): vsftpd answers in order; proftpd and pyftpdlib
// answer a SIZE that arrives during an upload at once, which the client must notice; pure-ftpd
// reads commands during an upload and drops them; pyftpdlib accepts data connections early.
func TestPipelinedSmallFiles(t *testing.T) {
	t.Parallel()
	forEachServerOf(t, slices.Concat(harness.PlainKinds, harness.TLSKinds), func(t *testing.T, kind string) {
		logFile := filepath.Join(t.TempDir(), "ftpmount.log")
		f := newFixture(t, kind, dirCacheFast, "debug", "logfile="+logFile)
		c := f.dir(t, "")
		src := filepath.Join(t.TempDir(), "src")
		os.Mkdir(src, 0o755)
		sizes := []int{0, 1, 4096, 65536, 200 << 10}
		files := map[string][]byte{}
		for i := range 24 {
			name := fmt.Sprintf("small-%02d.dat", i)
			files[name] = randomFile(t, filepath.Join(src, name), sizes[i%len(sizes)]+i*37)
		}
		sh(t, c.Mnt, "cp -r "+q(src)+" copy")
		for name, data := range files {
			if diff := diffBytes(c.serverBytes(t, filepath.Join("copy", name)), data); diff != "" {
				t.Errorf("server side copy/%s: %s", name, diff)
			}
		}
		ents, _ := os.ReadDir(c.serverPath("copy"))
		if len(ents) != len(files) {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Errorf("server holds %d names in copy/, want %d: %q", len(ents), len(files), names)
		}
		if learned, err := os.ReadFile(logFile); err == nil {
			for _, l := range strings.Split(string(learned), "\n") {
				if strings.Contains(l, "does not keep step") {
					t.Logf("%s: %s", kind, l) // what the client learned about this server
				}
			}
		}
		if pairs, apart := renamePairs(t, logFile); pairs < len(files) || apart > 0 {
			t.Errorf("%d renames sent as RNFR+RNTO in one write, %d with the RNTO after RNFR's reply; want all %d in one write; the log:\n%s",
				pairs, apart, len(files), harness.Tail(logFile, 80))
		}
	})
}

// logCmd matches a command or reply of ftpmount's debug log: "ftp[3] > RNFR /x", "ftp[3] < 350 ...".
var logCmd = regexp.MustCompile(`ftp\[(\d+)\] ([<>]) (\S+)`)

// renamePairs counts, per connection of the debug log, the RNFRs followed directly by their RNTO
// (sent together) and those followed first by a reply (the RNTO waited for it).
func renamePairs(t *testing.T, logFile string) (pairs, apart int) {
	t.Helper()
	fh, err := os.Open(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	afterRNFR := map[string]bool{}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		m := logCmd.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		conn, dir, word := m[1], m[2], strings.ToUpper(m[3])
		if afterRNFR[conn] {
			afterRNFR[conn] = false
			switch {
			case dir == ">" && word == "RNTO":
				pairs++
			default:
				apart++
			}
		}
		if dir == ">" && word == "RNFR" {
			afterRNFR[conn] = true
		}
	}
	return pairs, apart
}
