package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// tlsConfig is the TLS part of the config: certificate files, or ACME. Neither = plain HTTP.
type tlsConfig struct {
	CertFile, KeyFile string   // PEM certificate chain and private key (-tls-cert, -tls-key)
	ACMEDomains       []string // names to get certificates for (-acme-domain)
	ACMECache         string   // directory keeping the account key and certificates (-acme-cache)
	ACMEDirectory     string   // the CA's ACME directory URL (-acme-directory)
	ACMEHTTP          string   // listen address answering HTTP-01 challenges ("" = TLS-ALPN-01 only)
}

// enabled reports whether wisp serves HTTPS.
func (c tlsConfig) enabled() bool { return c.CertFile != "" || len(c.ACMEDomains) > 0 }

// check refuses settings that cannot work together.
func (c tlsConfig) check() error {
	switch {
	case (c.CertFile == "") != (c.KeyFile == ""):
		return errors.New("-tls-cert and -tls-key go together")
	case c.CertFile != "" && len(c.ACMEDomains) > 0:
		return errors.New("-tls-cert and -acme-domain exclude each other: certificate files or ACME")
	case len(c.ACMEDomains) > 0 && c.ACMECache == "":
		return errors.New("-acme-domain needs -acme-cache DIR: without a cache every start asks the CA again (and hits its rate limits)")
	case len(c.ACMEDomains) == 0 && (c.ACMECache != "" || c.ACMEHTTP != ""):
		return errors.New("-acme-cache and -acme-http need -acme-domain")
	}
	return nil
}

// httpsServer is what serving HTTPS needs: the listener's TLS configuration, the host printed
// in URLs, and for ACME the HTTP-01 challenge server.
type httpsServer struct {
	config    *tls.Config
	host      string       // a name the certificate covers, for printed URLs ("" = as for HTTP)
	challenge *http.Server // HTTP-01 on -acme-http; nil without
}

// newHTTPS builds HTTPS from c: certificate files, loaded now (a missing, unreadable or
// mismatched pair stops the server) and reloaded when they change on disk, or ACME through
// autocert (TLS-ALPN-01 on the HTTPS listener, HTTP-01 on -acme-http when given).
func newHTTPS(c tlsConfig, log *slog.Logger) (*httpsServer, error) {
	if c.CertFile != "" {
		files, err := loadCertFiles(c.CertFile, c.KeyFile, log)
		if err != nil {
			return nil, err
		}
		h := &httpsServer{config: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: files.getCertificate}}
		if leaf := files.current().Leaf; leaf != nil && len(leaf.DNSNames) > 0 {
			h.host = leaf.DNSNames[0]
		}
		return h, nil
	}
	if err := os.MkdirAll(c.ACMECache, 0o700); err != nil {
		return nil, fmt.Errorf("-acme-cache: %w", err)
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(c.ACMEDomains...),
		Cache:      autocert.DirCache(c.ACMECache),
		Client:     &acme.Client{DirectoryURL: c.ACMEDirectory},
	}
	h := &httpsServer{config: m.TLSConfig(), host: c.ACMEDomains[0]}
	h.config.MinVersion = tls.VersionTLS12
	if c.ACMEHTTP != "" {
		l, err := net.Listen("tcp", c.ACMEHTTP)
		if err != nil {
			return nil, fmt.Errorf("listen -acme-http %s: %w", c.ACMEHTTP, err)
		}
		h.challenge = &http.Server{Handler: withoutPort(m.HTTPHandler(nil)), ReadHeaderTimeout: 5 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
		go func() {
			if err := h.challenge.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("acme http-01 listener", "err", err)
			}
		}()
		log.Info("ACME HTTP-01 challenges answered", "http", l.Addr().String())
	}
	log.Info("ACME certificates", "domains", c.ACMEDomains, "directory", c.ACMEDirectory, "cache", c.ACMECache)
	return h, nil
}

// withoutPort drops the port from the Host header before next: autocert matches the host against
// the domain list as it is, and a CA validating on another port than 80 (Pebble in tests, a port
// map) sends it with the port. Redirects to https then go to the default port.
func withoutPort(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if host, _, err := net.SplitHostPort(r.Host); err == nil {
			r.Host = host
		}
		next.ServeHTTP(w, r)
	})
}

// close stops the challenge server, if any.
func (h *httpsServer) close() {
	if h != nil && h.challenge != nil {
		_ = h.challenge.Close()
	}
}

// loadLeaf parses the first certificate of a loaded pair into its Leaf, with its validity.
func loadLeaf(c *tls.Certificate) error {
	if c.Leaf != nil {
		return nil
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return fmt.Errorf("parse certificate: %w", err)
	}
	c.Leaf = leaf
	return nil
}
