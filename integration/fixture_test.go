package integration

import (
	"os"
	"path/filepath"
	"testing"
)

// fixture is a private FTP server mounted by ftpmount.
type fixture struct {
	srv *ftpServer
	mnt *mountPoint
}

// newFixture starts a server of the given kind (see serverKinds) and mounts it with the given -o
// options.
func newFixture(t *testing.T, kind string, opts ...string) *fixture {
	t.Helper()
	srv := startServer(t, kind)
	return &fixture{srv: srv, mnt: mount(t, srv, opts...)}
}

// caseDir is one subtest's directory, as the mount shows it (Mnt) and on the server's disk (Srv).
type caseDir struct {
	Mnt string
	Srv string
}

// dir makes the subtest's own directory on the server side, runs setup in it as the FTP user (so
// the server may change what it creates), and waits until the directory shows through the mount.
func (f *fixture) dir(t *testing.T, setup string) caseDir {
	t.Helper()
	name := filepath.Base(t.Name())
	c := caseDir{Mnt: filepath.Join(f.mnt.Dir, name), Srv: filepath.Join(f.srv.DataDir, name)}
	f.srv.sh(t, f.srv.DataDir, "mkdir -- "+q(name))
	if setup != "" {
		f.srv.sh(t, c.Srv, setup)
	}
	eventually(t, "the server-side directory "+name+" to show through the mount", func() (bool, string) {
		r := try(cmdTimeout, f.mnt.Dir, "test -d "+q(name))
		return r.err == nil, r.String()
	})
	return c
}

// serverPath is rel inside the subtest's directory on the server's disk.
func (c caseDir) serverPath(rel string) string {
	return filepath.Join(c.Srv, rel)
}

// serverBytes reads rel from the server's disk.
func (c caseDir) serverBytes(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(c.serverPath(rel))
	if err != nil {
		t.Fatalf("server side: %v", err)
	}
	return b
}
