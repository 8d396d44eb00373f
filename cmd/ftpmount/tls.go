package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"os"
)

// tlsConfig builds the TLS settings of an ftps:// mount: the system's roots
// (plus cafile=) and the host name checked, unless insecure.
func tlsConfig(c *config, logger *log.Logger) (*tls.Config, error) {
	if !c.Source.TLS {
		return nil, nil
	}
	conf := &tls.Config{ServerName: c.Source.Host, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("cafile: %v", err)
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
	if c.Insecure {
		logger.Printf("warning: -o insecure: the server's certificate is not checked; anyone on the path can read and change the data")
		conf.InsecureSkipVerify = true
	}
	return conf, nil
}
