package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClientCertificate: cert= and key= load a PEM pair into the TLS config (key= defaults to the
// cert= file); a missing or mismatched key is one line naming both files.
func TestClientCertificate(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	certFile, keyFile, both := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem"), filepath.Join(dir, "both.pem")
	os.WriteFile(certFile, certPEM, 0o600)
	os.WriteFile(keyFile, keyPEM, 0o600)
	os.WriteFile(both, append(append([]byte{}, certPEM...), keyPEM...), 0o600)
	nowarn := func(string, ...any) {}

	for _, opts := range []string{"cert=" + certFile + ",key=" + keyFile, "cert=" + both} {
		c, err := parseArgs([]string{"ftps://u@h/", "/m", "-o", opts})
		if err != nil {
			t.Fatal(err)
		}
		conf, err := tlsConfig(c, nowarn)
		if err != nil || len(conf.Certificates) != 1 {
			t.Errorf("-o %s: %v, %d certificates", opts, err, len(conf.Certificates))
		}
	}
	c, _ := parseArgs([]string{"ftps://u@h/", "/m", "-o", "cert=" + certFile})
	if _, err := tlsConfig(c, nowarn); err == nil || !strings.Contains(err.Error(), "cert="+certFile) {
		t.Errorf("cert without its key: %v", err)
	}
	c, _ = parseArgs([]string{"ftps://u@h/", "/m", "-o", "cert=" + certFile + ",key=" + dir + "/none.pem"})
	if _, err := tlsConfig(c, nowarn); err == nil || !strings.Contains(err.Error(), "none.pem") {
		t.Errorf("missing key file: %v", err)
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}
