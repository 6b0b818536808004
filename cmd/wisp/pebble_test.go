package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// pebbleVersion is the Pebble (letsencrypt/pebble, a test ACME CA) the ACME test runs.
const pebbleVersion = "v2.10.3"

// pebbleBinary returns Pebble, built once per machine through the Go module proxy (go install
// verifies it against the checksum database) into the user cache directory.
func pebbleBinary(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "wisp-test", "pebble-"+pebbleVersion)
	bin := filepath.Join(dir, "pebble")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goBin, "install", "github.com/letsencrypt/pebble/v2/cmd/pebble@"+pebbleVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install pebble %s: %v\n%s", pebbleVersion, err, out)
	}
	return bin
}

// freeTCPPort returns a TCP port that was free a moment ago.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// pebble is a running Pebble: its ACME directory URL and management address.
type pebble struct {
	directory, management string
	logs                  *syncBuffer
	ca                    *testCA // signed Pebble's own HTTPS certificate
}

// startPebble runs Pebble on 127.0.0.1 with real validation (no sleep, no rejected nonces),
// validating TLS-ALPN-01 on tlsPort and HTTP-01 on httpPort, resolving names through dns.
func startPebble(t *testing.T, tlsPort, httpPort int, dns string) *pebble {
	t.Helper()
	bin := pebbleBinary(t)
	dir := t.TempDir()
	ca := newTestCA(t)
	certPath, keyPath := writePair(t, dir, pemPair(ca.issue(t, 10, "127.0.0.1")))
	listen, mgmt := "127.0.0.1:"+strconv.Itoa(freeTCPPort(t)), "127.0.0.1:"+strconv.Itoa(freeTCPPort(t))
	conf, _ := json.Marshal(map[string]any{"pebble": map[string]any{
		"listenAddress": listen, "managementListenAddress": mgmt,
		"certificate": certPath, "privateKey": keyPath,
		"httpPort": httpPort, "tlsPort": tlsPort, "ocspResponderURL": "", "externalAccountBindingRequired": false,
		"keyAlgorithm": "ecdsa",
	}})
	confPath := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(confPath, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	p := &pebble{directory: "https://" + listen + "/dir", management: mgmt, logs: &syncBuffer{}, ca: ca}
	cmd := exec.Command(bin, "-config", confPath, "-dnsserver", dns)
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("pebble's log:\n%s", p.logs.String())
		}
	})
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}}, Timeout: 5 * time.Second}
	waitFor(t, 30*time.Second, "pebble's directory", func() bool {
		r, err := hc.Get(p.directory)
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == http.StatusOK
	})
	return p
}

// root returns the root that issues Pebble's certificates (a new one at every start).
func (p *pebble) root(t *testing.T) *x509.CertPool {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.ca.pool}}, Timeout: 5 * time.Second}
	r, err := hc.Get("https://" + p.management + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(body) {
		t.Fatalf("pebble root: %q", body)
	}
	return pool
}

// startDNS answers DNS over TCP on 127.0.0.1 (Pebble's resolver uses TCP): A queries for name
// with 127.0.0.1, anything else with no records (so Pebble does not try [::1]).
func startDNS(t *testing.T, name string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveDNS(c, name)
		}
	}()
	return l.Addr().String()
}

func serveDNS(c net.Conn, name string) {
	defer c.Close()
	for {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		var n uint16
		if binary.Read(c, binary.BigEndian, &n) != nil {
			return
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		var q dnsmessage.Message
		if q.Unpack(buf) != nil || len(q.Questions) != 1 {
			return
		}
		qn := q.Questions[0]
		resp := dnsmessage.Message{Header: dnsmessage.Header{ID: q.ID, Response: true, Authoritative: true}, Questions: q.Questions}
		if qn.Type == dnsmessage.TypeA && qn.Name.String() == name+"." {
			resp.Answers = []dnsmessage.Resource{{
				Header: dnsmessage.ResourceHeader{Name: qn.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
				Body:   &dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}},
			}}
		}
		out, err := resp.Pack()
		if err != nil {
			return
		}
		var frame bytes.Buffer
		_ = binary.Write(&frame, binary.BigEndian, uint16(len(out)))
		frame.Write(out)
		if _, err := c.Write(frame.Bytes()); err != nil {
			return
		}
	}
}

// ACME against a local Pebble (issue 14, Done-when 4; COMMON-31): the real binary with
// -acme-domain gets a certificate for a test name from Pebble, which really validates the
// TLS-ALPN-01 challenge on wisp's HTTPS listener, and serves it: a client trusting only
// Pebble's root reaches /healthz and the publish page over https:// on that name, and the
// announced URL is https:// on it.
func TestACMEWithPebble(t *testing.T) {
	bin := buildWisp(t)
	t.Run("tls-alpn-01", func(t *testing.T) { acmeWithPebble(t, bin, false) })
	// Pebble validates TLS-ALPN-01 on a closed port, so that challenge fails and autocert turns
	// to HTTP-01, which Pebble validates on wisp's -acme-http listener.
	t.Run("http-01", func(t *testing.T) { acmeWithPebble(t, bin, true) })
}

func acmeWithPebble(t *testing.T, bin string, http01 bool) {
	const name = "wisp-acme.test"
	httpsPort, challengePort := freeTCPPort(t), freeTCPPort(t)
	pebbleTLSPort, extra := httpsPort, []string(nil)
	if http01 {
		pebbleTLSPort = freeTCPPort(t) // nothing listens there
		extra = []string{"-acme-http", "127.0.0.1:" + strconv.Itoa(challengePort)}
	}
	peb := startPebble(t, pebbleTLSPort, challengePort, startDNS(t, name))
	caFile := filepath.Join(t.TempDir(), "pebble-https-ca.pem")
	if err := os.WriteFile(caFile, peb.ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", caFile) // wisp's ACME client trusts Pebble's API certificate
	args := append([]string{"-http", "127.0.0.1:" + strconv.Itoa(httpsPort), "-acme-domain", name,
		"-acme-cache", t.TempDir(), "-acme-directory", peb.directory, "-log-level", "debug"}, extra...)
	p := startWisp(t, bin, args...)
	want := "https://" + name + ":" + strconv.Itoa(httpsPort)
	if p.base != want {
		t.Fatalf("announced %s, want %s", p.base, want)
	}

	roots := peb.root(t)
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(httpsPort))
		},
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second} // issuance takes about a second
	for _, path := range []string{"/healthz", "/publish/x"} {
		r, err := hc.Get(want + path)
		if err != nil {
			t.Fatalf("GET %s over https: %v", path, err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.StatusCode)
		}
		leaf := r.TLS.PeerCertificates[0]
		if err := leaf.VerifyHostname(name); err != nil {
			t.Fatalf("served certificate: %v", err)
		}
		t.Logf("GET %s: 200 with a certificate for %v issued by %q", path, leaf.DNSNames, leaf.Issuer.CommonName)
	}
}
