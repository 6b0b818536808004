package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// systemCA is trusted as a system root by this test binary: pion's ICE agent verifies a turns:
// server against the system roots only, which Go reads once, from SSL_CERT_FILE when it is set.
// TestMain sets it, to the system bundle plus this CA, before any test runs.
var systemCA *testCA

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	ca, err := makeTestCA()
	if err != nil {
		fmt.Fprintln(os.Stderr, "test CA:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "wisp-test-ca")
	if err != nil {
		fmt.Fprintln(os.Stderr, "test CA:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// The system's own bundle first, so that nothing else this binary (or a go command it runs)
	// verifies loses its roots.
	var bundle []byte
	for _, f := range []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"} {
		if b, err := os.ReadFile(f); err == nil {
			bundle = append(b, '\n')
			break
		}
	}
	file := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(file, append(bundle, ca.pem...), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "test CA:", err)
		return 1
	}
	os.Setenv("SSL_CERT_FILE", file)
	systemCA = ca
	return m.Run()
}

// iceLink is one parsed Link: rel="ice-server".
type iceLink struct{ url, username, credential string }

var linkRE = regexp.MustCompile(`^<([^>]+)>; rel="ice-server"(?:; username="([^"]*)"; credential="([^"]*)"; credential-type="password")?$`)

func parseICELinks(t *testing.T, h http.Header) []iceLink {
	t.Helper()
	var out []iceLink
	for _, l := range h.Values("Link") {
		if m := linkRE.FindStringSubmatch(l); m != nil {
			out = append(out, iceLink{m[1], m[2], m[3]})
		}
	}
	return out
}

// The built-in TURN server (issue 17, Done-when 1; COMMON-14, COMMON-15): -turn with HTTPS puts
// turn: over UDP and TCP and turns: over TLS into the ice-server Links, with TURN REST
// credentials, by themselves; a pion viewer that may use only relay candidates and only one of
// those servers receives the publisher's frames over each of them.
func TestTURNRelay(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := writePair(t, dir, pemPair(systemCA.issue(t, 7, "127.0.0.1", "localhost")))
	srv := startServer(t, func(c *config) {
		c.TLS = tlsConfig{CertFile: certPath, KeyFile: keyPath}
		c.TURN = turnConfig{Enabled: true, Addr: "127.0.0.1:0", TLS: "127.0.0.1:0"}
	})
	hc := systemCA.httpsClient(t)
	base := countGoroutines()
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Loop: true, HTTPClient: hc})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}

	req, _ := http.NewRequest(http.MethodOptions, srv.whepURL("cam"), nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	links := parseICELinks(t, resp.Header)
	want := []string{
		"turn:127.0.0.1:" + strconv.Itoa(srv.turn.UDPPort()) + "?transport=udp",
		"turn:127.0.0.1:" + strconv.Itoa(srv.turn.TCPPort()) + "?transport=tcp",
		"turns:127.0.0.1:" + strconv.Itoa(srv.turn.TLSPort()) + "?transport=tcp",
	}
	if len(links) != len(want) {
		t.Fatalf("Links %q, want %q", resp.Header.Values("Link"), want)
	}
	for i, l := range links {
		if l.url != want[i] || !strings.HasSuffix(l.username, ":wisp") || l.credential == "" {
			t.Fatalf("Link %d: %+v, want %s with TURN REST credentials", i, l, want[i])
		}
	}

	for _, l := range links {
		v, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true, HTTPClient: hc,
			Config: webrtc.Configuration{
				ICEServers:         []webrtc.ICEServer{{URLs: []string{l.url}, Username: l.username, Credential: l.credential}},
				ICETransportPolicy: webrtc.ICETransportPolicyRelay,
			}})
		if err != nil {
			t.Fatalf("%s: view: %v", l.url, err)
		}
		recvFrames(t, v, m, 30, 20*time.Second)
		if n := srv.turn.Allocations(); n != 1 {
			t.Fatalf("%s: %d TURN allocations while the relay-only viewer plays, want 1", l.url, n)
		}
		if err := v.Close(); err != nil {
			t.Fatalf("%s: close: %v", l.url, err)
		}
		waitFor(t, 10*time.Second, "the allocation to go", func() bool { return srv.turn.Allocations() == 0 })
	}
	srv.closeAll(t, base, pub)
}

// Bad TURN settings stop the start with a message.
func TestTURNSettings(t *testing.T) {
	for _, args := range [][]string{
		{"-turn-tls", ":5349"},
		{"-turn", "-turn-tls", ":5349"},
		{"-turn", "-turn-addr", "3478"},
	} {
		if _, err := parseConfig(args, env(nil), io.Discard); err == nil {
			t.Errorf("%q: accepted", args)
		}
	}
	c, err := parseConfig([]string{"-turn"}, env(nil), io.Discard)
	if err != nil || !c.TURN.Enabled || c.TURN.Addr != ":3478" {
		t.Fatalf("-turn: %+v, %v", c.TURN, err)
	}
	// The TURN server's goroutines end with wisp.
	base := countGoroutines()
	t.Run("shutdown", func(t *testing.T) {
		srv := startServer(t, func(c *config) { c.TURN = turnConfig{Enabled: true, Addr: "127.0.0.1:0"} })
		if srv.turn.UDPPort() == 0 || srv.turn.TCPPort() == 0 || srv.turn.TLSPort() != 0 {
			t.Fatalf("TURN ports udp %d tcp %d tls %d", srv.turn.UDPPort(), srv.turn.TCPPort(), srv.turn.TLSPort())
		}
	})
	checkGoroutines(t, base)
}
