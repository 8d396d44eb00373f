package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// tlsConfig builds the TLS settings of an ftps:// mount: the system's roots
// (plus cafile=) and the host name checked, unless insecure; a client
// certificate with cert= and key= (PEM; key= may be left out when the key
// is in the cert= file).
func tlsConfig(c *config, warnf func(string, ...any)) (*tls.Config, error) {
	if !c.Source.TLS {
		return nil, nil
	}
	conf := &tls.Config{ServerName: c.Source.Host, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("cafile: %v", unwrapPath(err))
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cafile %s: no PEM certificate in it", c.CAFile)
		}
		conf.RootCAs = pool
	}
	if c.Cert != "" {
		key := c.Key
		if key == "" {
			key = c.Cert
		}
		pair, err := tls.LoadX509KeyPair(c.Cert, key)
		if err != nil {
			return nil, fmt.Errorf("client certificate (cert=%s, key=%s): %v", c.Cert, key, unwrapPath(err))
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	if c.Insecure {
		warnf("-o insecure: the server's certificate is not checked; anyone on the path can read and change the data")
		conf.InsecureSkipVerify = true
	}
	return conf, nil
}
