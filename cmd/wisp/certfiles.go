package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
)

// certCheckEvery is how often, at most, a TLS handshake looks whether the certificate files
// changed on disk.
const certCheckEvery = time.Second

// certFiles serves a certificate pair from PEM files and picks up a renewed pair (certbot, a
// Kubernetes secret update) for new connections without a restart; live connections and
// sessions are untouched. A renewed pair that does not load (half written, mismatched, not PEM)
// leaves the previous one served and is logged with the reason, once per change. Handshakes
// never wait on a lock: at most one of them looks at the files, the rest use the current pair.
type certFiles struct {
	// set at construction
	certPath, keyPath string
	log               *slog.Logger

	cur      atomic.Pointer[tls.Certificate]
	seen     atomic.Pointer[fileStamp] // the files last tried, loaded or not
	checked  atomic.Int64              // unix ns of the last look at the files
	checking atomic.Bool               // one handshake looks at a time
}

// fileStamp tells whether either file changed.
type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

// loadCertFiles loads the pair now; an error stops the server at start.
func loadCertFiles(certPath, keyPath string, log *slog.Logger) (*certFiles, error) {
	c := &certFiles{certPath: certPath, keyPath: keyPath, log: log}
	st, err := c.stamp()
	if err != nil {
		return nil, err
	}
	pair, err := c.load()
	if err != nil {
		return nil, err
	}
	c.cur.Store(pair)
	c.seen.Store(&st)
	c.checked.Store(time.Now().UnixNano())
	log.Info("TLS certificate", "names", pair.Leaf.DNSNames, "not_after", pair.Leaf.NotAfter, "cert", certPath)
	return c, nil
}

// current is the pair served now.
func (c *certFiles) current() *tls.Certificate { return c.cur.Load() }

// getCertificate is tls.Config.GetCertificate.
func (c *certFiles) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.maybeReload(time.Now())
	return c.cur.Load(), nil
}

// maybeReload loads the files again if they changed since they were last tried, at most once
// per certCheckEvery and by one caller at a time.
func (c *certFiles) maybeReload(now time.Time) {
	if now.UnixNano()-c.checked.Load() < int64(certCheckEvery) || !c.checking.CompareAndSwap(false, true) {
		return
	}
	defer c.checking.Store(false)
	c.checked.Store(now.UnixNano())
	st, err := c.stamp()
	if err != nil {
		if prev := c.seen.Load(); prev != nil && *prev != (fileStamp{}) {
			c.log.Warn("certificate files unreadable; serving the previous certificate", "err", err)
			c.seen.Store(&fileStamp{})
		}
		return
	}
	if prev := c.seen.Load(); prev != nil && *prev == st {
		return
	}
	c.seen.Store(&st)
	pair, err := c.load()
	if err != nil {
		c.log.Warn("renewed certificate files do not load; serving the previous certificate", "err", err)
		return
	}
	c.cur.Store(pair)
	c.log.Info("TLS certificate reloaded", "names", pair.Leaf.DNSNames, "not_after", pair.Leaf.NotAfter)
}

// stamp reads both files' size and modification time.
func (c *certFiles) stamp() (fileStamp, error) {
	ci, err := os.Stat(c.certPath)
	if err != nil {
		return fileStamp{}, fmt.Errorf("-tls-cert: %w", err)
	}
	ki, err := os.Stat(c.keyPath)
	if err != nil {
		return fileStamp{}, fmt.Errorf("-tls-key: %w", err)
	}
	return fileStamp{certMod: ci.ModTime(), keyMod: ki.ModTime(), certSize: ci.Size(), keySize: ki.Size()}, nil
}

// load reads and checks the pair: PEM, a key matching the certificate, a parsable leaf.
func (c *certFiles) load() (*tls.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(c.certPath, c.keyPath)
	if err != nil {
		return nil, fmt.Errorf("-tls-cert %s / -tls-key %s: %w", c.certPath, c.keyPath, err)
	}
	if err := loadLeaf(&pair); err != nil {
		return nil, fmt.Errorf("-tls-cert %s: %w", c.certPath, err)
	}
	return &pair, nil
}
