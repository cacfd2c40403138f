package testregistry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// TLSProxy stands in front of a registry as a company's registry does:
// HTTPS with a certificate from a private CA, and a client certificate
// from that CA required of every client (mutual TLS).
type TLSProxy struct {
	host     string
	srv      *http.Server
	caPEM    []byte
	certPEM  []byte // the client's
	keyPEM   []byte
	requests atomic.Int64
}

// StartTLSProxy serves upstream (a registry's host:port) over TLS on a free
// loopback port, with a new CA.
func StartTLSProxy(upstream string) (*TLSProxy, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "testregistry private CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	issue := func(serial int64, usage x509.ExtKeyUsage, name string) (tls.Certificate, []byte, []byte, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
			DNSNames:     []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return tls.Certificate{}, nil, nil, err
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return tls.Certificate{}, nil, nil, err
		}
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
		c, err := tls.X509KeyPair(certPEM, keyPEM)
		return c, certPEM, keyPEM, err
	}
	server, _, _, err := issue(2, x509.ExtKeyUsageServerAuth, "testregistry")
	if err != nil {
		return nil, err
	}
	_, clientCert, clientKey, err := issue(3, x509.ExtKeyUsageClientAuth, "packager")
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &TLSProxy{host: l.Addr().String(),
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), certPEM: clientCert, keyPEM: clientKey}
	target := &url.URL{Scheme: "http", Host: upstream}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		// The registry writes its upload locations with the client's
		// host and scheme.
		r.Out.Host = r.In.Host
		r.Out.Header.Set("X-Forwarded-Proto", "https")
	}}
	p.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.requests.Add(1)
			rp.ServeHTTP(w, r)
		}),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{server},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    pool,
			MinVersion:   tls.VersionTLS12,
		},
		// A client that does not trust the CA ends the handshake: what
		// the tests want, not log lines.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go p.srv.ServeTLS(l, "", "") //nolint:errcheck // ends with Close
	return p, nil
}

// Host is the proxy's 127.0.0.1:PORT.
func (p *TLSProxy) Host() string { return p.host }

// Requests counts the requests that passed the TLS handshake.
func (p *TLSProxy) Requests() int64 { return p.requests.Load() }

// WriteCerts writes, in dir, the CA's certificate as ca.crt and the
// client's certificate and key as client.cert and client.key: what docker
// and podman read from a certs.d/HOST folder.
func (p *TLSProxy) WriteCerts(dir string) (ca, cert, key string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", "", err
	}
	ca, cert, key = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "client.cert"), filepath.Join(dir, "client.key")
	for path, b := range map[string][]byte{ca: p.caPEM, cert: p.certPEM, key: p.keyPEM} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return "", "", "", err
		}
	}
	return ca, cert, key, nil
}

// Close stops the proxy.
func (p *TLSProxy) Close() error { return p.srv.Close() }
