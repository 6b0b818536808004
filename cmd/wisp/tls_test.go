package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wisp-media/wisp/client"
)

// HTTPS with certificate files (issue 14, Done-when 3; COMMON-31): WHIP and WHEP over https://
// to a name the test CA certified, with absolute https:// Locations (COMMON-07) the clients then
// DELETE; a renewed certificate replaced on disk is served to new connections while the live
// viewer keeps receiving source frames on its session.
func TestHTTPSSessionsAndRenewal(t *testing.T) {
	const name = "wisp.test"
	ca := newTestCA(t)
	dir := t.TempDir()
	certPath, keyPath := writePair(t, dir, pemPair(ca.issue(t, 100, name)))
	srv := startServer(t, func(c *config) { c.TLS = tlsConfig{CertFile: certPath, KeyFile: keyPath} })
	if !strings.HasPrefix(srv.base, "https://") {
		t.Fatalf("base %s, want https", srv.base)
	}
	addr := hostOf(srv.base)
	_, port, _ := strings.Cut(addr, ":")
	base := "https://" + name + ":" + port
	hc := ca.httpsClient(t)
	base0 := countGoroutines()

	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, base+"/whip/cam", client.PublishOptions{Video: m.video, Loop: true, HTTPClient: hc})
	if err != nil {
		t.Fatalf("publish over https: %v", err)
	}
	v, err := client.View(ctx, base+"/whep/cam", client.ViewOptions{Video: true, HTTPClient: hc})
	if err != nil {
		t.Fatalf("view over https: %v", err)
	}
	for what, loc := range map[string]string{"WHIP": pub.Location(), "WHEP": v.Location()} {
		if !strings.HasPrefix(loc, base+"/") {
			t.Errorf("%s Location %q, want absolute under %s", what, loc, base)
		}
	}
	recvFrames(t, v, m, 30, 10*time.Second)
	if got := ca.servedSerial(t, addr, name); got != 100 {
		t.Fatalf("served serial %d, want 100", got)
	}

	// Renewal: a new pair (new key, serial 101) replaces the files.
	writePair(t, dir, pemPair(ca.issue(t, 101, name)))
	waitFor(t, 5*certCheckEvery, "the renewed certificate on a new connection", func() bool {
		return ca.servedSerial(t, addr, name) == 101
	})
	recvFrames(t, v, m, 30, 10*time.Second) // the live viewer keeps playing
	select {
	case <-v.Ended():
		t.Fatalf("the viewer's session ended at the renewal (state %s)", v.State())
	default:
	}
	srv.closeAll(t, base0, v, pub) // DELETE to the https Locations
}

// countGoroutines is the baseline for checkGoroutines.
func countGoroutines() int { return runtime.NumGoroutine() }

// certFiles reloads on change only, keeps the served pair when renewed files do not load (a
// truncated certificate, a key of another certificate, a missing file), logging why once per
// change, and takes the next good pair; it looks at the files at most once per certCheckEvery.
func TestCertFilesReload(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certPath, keyPath := writePair(t, dir, pemPair(ca.issue(t, 1, "a.test")))
	var logs syncBuffer
	c, err := loadCertFiles(certPath, keyPath, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	serial := func() int64 { return c.current().Leaf.SerialNumber.Int64() }
	now := time.Now()
	step := func() { now = now.Add(certCheckEvery); c.maybeReload(now) }

	good2, key2 := ca.issue(t, 2, "a.test")
	writeAtomic(t, certPath, good2[:len(good2)/2]) // half written
	step()
	if serial() != 1 || strings.Count(logs.String(), "do not load") != 1 {
		t.Fatalf("truncated certificate: serial %d, log:\n%s", serial(), logs.String())
	}
	step() // unchanged files: not tried again, not logged again
	if strings.Count(logs.String(), "do not load") != 1 {
		t.Fatalf("the same bad files were logged again:\n%s", logs.String())
	}
	writeAtomic(t, certPath, good2) // certificate written, key still the old one: a mismatch
	step()
	if serial() != 1 || strings.Count(logs.String(), "do not load") != 2 {
		t.Fatalf("mismatched key: serial %d, log:\n%s", serial(), logs.String())
	}
	c.maybeReload(now.Add(certCheckEvery / 2)) // too soon after the last look
	writeAtomic(t, keyPath, key2)
	c.maybeReload(now.Add(certCheckEvery / 2))
	if serial() != 1 {
		t.Fatal("the files were looked at again before certCheckEvery passed")
	}
	step()
	if serial() != 2 || !strings.Contains(logs.String(), "reloaded") {
		t.Fatalf("good renewal: serial %d, log:\n%s", serial(), logs.String())
	}
	if err := os.Remove(certPath); err != nil {
		t.Fatal(err)
	}
	step()
	step()
	if serial() != 2 || strings.Count(logs.String(), "unreadable") != 1 {
		t.Fatalf("missing file: serial %d, log:\n%s", serial(), logs.String())
	}
}

// Bad TLS settings stop the server at start with a message: a missing or unreadable certificate,
// a key that is not the certificate's, half a pair, ACME without a cache directory.
func TestTLSStartErrors(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certPath, keyPath := writePair(t, dir, pemPair(ca.issue(t, 1, "a.test")))
	_, otherKey := ca.issue(t, 2, "a.test")
	otherKeyPath := filepath.Join(dir, "other-key.pem")
	garbage := filepath.Join(dir, "garbage.pem")
	writeAtomic(t, otherKeyPath, otherKey)
	writeAtomic(t, garbage, []byte("not a certificate\n"))
	base := []string{"-http", "127.0.0.1:0", "-udp-port", "1", "-ice-host", "127.0.0.1"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing certificate", []string{"-tls-cert", filepath.Join(dir, "none.pem"), "-tls-key", keyPath}, "-tls-cert"},
		{"not PEM", []string{"-tls-cert", garbage, "-tls-key", keyPath}, "-tls-cert"},
		{"key of another certificate", []string{"-tls-cert", certPath, "-tls-key", otherKeyPath}, "private key does not match"},
		{"certificate without key", []string{"-tls-cert", certPath}, "-tls-cert and -tls-key go together"},
		{"ACME without cache", []string{"-acme-domain", "live.example.com"}, "-acme-cache"},
		{"ACME for an IP", []string{"-acme-domain", "192.0.2.1", "-acme-cache", dir}, "-acme-domain"},
		{"files and ACME", []string{"-tls-cert", certPath, "-tls-key", keyPath, "-acme-domain", "a.test", "-acme-cache", dir}, "exclude"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr syncBuffer
			code := run(append(append([]string{}, base...), tc.args...), env(nil), &syncBuffer{}, &stderr)
			if code == 0 || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want non-zero and %q", code, stderr.String(), tc.want)
			}
		})
	}
}
