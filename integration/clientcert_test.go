package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ftpmount/ftpmount/integration/harness"
)

// TestClientCertificate (issue 13): an FTPS server that requires a client certificate (vsftpd
// with require_cert and validate_cert against the test CA) is mounted with -o cert=,key= and
// works for reads and writes, whose data connections need the certificate too; cert= alone takes
// a file holding both. Without a certificate the mount is refused with one line, not mounted.
func TestClientCertificate(t *testing.T) {
	t.Parallel()
	pki := testPKI(t)
	srv := startServerWith(t, "vsftpd-tls", func(o *harness.Options) {
		o.ClientCert = &pki.Client
		o.ExtraConf = "ssl_request_cert=YES\nrequire_cert=YES\nvalidate_cert=YES\nca_certs_file=" + pki.CA + "\n"
	})
	srv.sh(t, srv.DataDir, "echo from-server > s.txt")

	for name, opts := range map[string][]string{
		"cert_and_key": {"cert=" + pki.Client.Cert, "key=" + pki.Client.Key},
		"combined":     {"cert=" + pki.Client.Combined},
	} {
		t.Run(name, func(t *testing.T) {
			m := mount(t, srv, opts...)
			file := name + ".txt"
			if got := sh(t, m.Dir, "cat s.txt; echo up > "+file+"; cat "+file+"; ls"); !strings.Contains(got, "from-server\nup\n") {
				t.Errorf("through the mount: %q", got)
			}
			if b, err := os.ReadFile(filepath.Join(srv.DataDir, file)); err != nil || string(b) != "up\n" {
				t.Errorf("server side %s: %q, %v", file, b, err)
			}
		})
	}

	t.Run("without_cert", func(t *testing.T) {
		line := refused(t, nil, srv.URL(), newMountDir(t), append(srv.MountOptions(), "timeout=20")...)
		if !strings.Contains(line, "requires a client certificate") || !strings.Contains(line, "-o cert=") {
			t.Errorf("the line %q does not say that a client certificate is needed and which option gives one", line)
		}
	})
}
