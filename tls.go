package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync/atomic"
	"time"
)

// tlsConfig builds the server's TLS configuration from the flags, or
// returns nil for plain HTTP. fingerprint is set for a self-signed
// certificate, so that a person can check what the browser shows.
//
// The certificate and key files are read again on SIGHUP (reload.go):
// the server asks keys for each handshake (GetCertificate), so a renewed
// certificate is served from the next connection on without a restart.
func tlsConfig(cfg config) (tc *tls.Config, keys *certHolder, fingerprint string, err error) {
	var cert tls.Certificate
	switch {
	case cfg.tlsCert != "":
		keys = &certHolder{certFile: cfg.tlsCert, keyFile: cfg.tlsKey}
		if err := keys.reload(); err != nil {
			return nil, nil, "", err
		}
	case cfg.tlsSelfSigned:
		host, _, _ := net.SplitHostPort(cfg.listen)
		cert, err = selfSignedCert(host)
		if err != nil {
			return nil, nil, "", fmt.Errorf("make a self-signed certificate: %w", err)
		}
		sum := sha256.Sum256(cert.Certificate[0])
		fingerprint = strings.ToUpper(strings.Join(hexPairs(sum[:]), ":"))
	default:
		return nil, nil, "", nil
	}
	tc = &tls.Config{
		MinVersion: tls.VersionTLS12,
		// WebSockets here need HTTP/1.1: x/net/websocket hijacks the
		// connection, which HTTP/2 cannot do, so HTTP/2 is not offered.
		NextProtos: []string{"http/1.1"},
	}
	if keys != nil {
		tc.GetCertificate = keys.get
	} else {
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, keys, fingerprint, nil
}

// certHolder is -tls-cert and -tls-key as last read well.
type certHolder struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

func (c *certHolder) get(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.cert.Load(), nil }

// reload reads the files again; on failure the last good pair stays.
func (c *certHolder) reload() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("load -tls-cert %s and -tls-key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert.Store(&cert)
	return nil
}

// selfSignedCert makes a certificate for localhost, the loopback addresses
// and host (the listening address, if it names one), valid for a year.
func selfSignedCert(host string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "wstelnet self-signed"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() && !ip.IsLoopback() {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	} else if host != "" && ip == nil && host != "localhost" {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func hexPairs(b []byte) []string {
	out := make([]string, len(b))
	for i, c := range b {
		out[i] = fmt.Sprintf("%02x", c)
	}
	return out
}
