package harness

import (
	"context"
	"fmt"
	"path/filepath"
)

// PKI is the certificates the TLS kinds use, made with openssl by MakePKI.
type PKI struct {
	CA        string // the test CA's certificate (PEM): what ftpmount's -o cafile trusts
	Server    Cert   // what the servers present: CN localhost, SAN IP:127.0.0.1 and DNS:localhost
	WrongName Cert   // signed by the test CA too, but for wrong.example only
	OtherCA   string // a second CA that signed nothing the servers present
	Client    Cert   // a client certificate (CN ftpmount-client) signed by the test CA, for -o cert
}

// Cert is a server's certificate, signed by the test CA, and its key.
type Cert struct {
	Cert     string // the certificate (PEM)
	Key      string // its private key (unencrypted PEM)
	Combined string // Cert then Key in one file, for pure-ftpd
}

// pkiScript makes the CA, the servers' keys and certificates, and another CA. The files are
// readable by all: pyftpdlib runs as the FTP user, and these keys protect nothing.
const pkiScript = `set -e
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 7 -subj '/CN=ftpmount test CA' \
	-addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'
# server NAME CN SAN [USAGE]: a key and a certificate signed by the CA (for serverAuth by default).
server() {
	openssl req -newkey rsa:2048 -nodes -keyout $1.key -out $1.csr -subj /CN=$2
	printf '%s\n' "subjectAltName=$3" 'basicConstraints=critical,CA:FALSE' \
		'keyUsage=critical,digitalSignature,keyEncipherment' "extendedKeyUsage=${4:-serverAuth}" > $1.ext
	openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 -sha256 \
		-extfile $1.ext -out $1.pem
	cat $1.pem $1.key > $1-combined.pem
}
server server localhost IP:127.0.0.1,DNS:localhost
server wrong-name wrong.example DNS:wrong.example
server client ftpmount-client DNS:client.example clientAuth
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 7 \
	-subj '/CN=ftpmount other CA' -addext 'basicConstraints=critical,CA:TRUE'
openssl verify -CAfile ca.pem server.pem
chmod 755 .
chmod 644 ./*
`

// MakePKI makes a test CA, certificates it signed and a second CA in dir (an empty directory the
// caller removes), with openssl. It takes a few seconds: make it once per run.
func MakePKI(ctx context.Context, dir string) (*PKI, error) {
	if r := Run(ctx, dir, nil, "bash", "-c", pkiScript); r.Err != nil {
		return nil, fmt.Errorf("making the test certificates: %v", r)
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	cert := func(name string) Cert {
		return Cert{Cert: p(name + ".pem"), Key: p(name + ".key"), Combined: p(name + "-combined.pem")}
	}
	return &PKI{CA: p("ca.pem"), Server: cert("server"), WrongName: cert("wrong-name"), OtherCA: p("other-ca.pem"),
		Client: cert("client")}, nil
}
