package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-media/wisp/client"
)

// Every response carries nosniff and no-referrer; pages add a CSP with frame-ancestors 'none'
// and X-Frame-Options DENY; problem responses are not cached.
func TestSecurityHeaders(t *testing.T) {
	srv := startServer(t, nil)
	for _, tc := range []struct {
		method, path string
		page         bool
	}{
		{"GET", "/", true}, {"GET", "/watch/cam", true}, {"GET", "/publish/cam", true},
		{"GET", "/api/streams", false}, {"GET", "/static/watch.js", false}, {"POST", "/whip/cam", false},
		{"DELETE", "/whep/cam/00", false}, {"GET", "/no/such/page", false},
	} {
		req, _ := http.NewRequest(tc.method, srv.base+tc.path, strings.NewReader("v=0\r\n"))
		req.Header.Set("Content-Type", "application/sdp")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s %s: nosniff %q, referrer %q", tc.method, tc.path, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
		if tc.page && (!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY") {
			t.Errorf("%s: CSP %q, X-Frame-Options %q", tc.path, h.Get("Content-Security-Policy"), h.Get("X-Frame-Options"))
		}
		if resp.StatusCode >= 400 && strings.HasPrefix(tc.path, "/wh") && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: error with Cache-Control %q", tc.method, tc.path, h.Get("Cache-Control"))
		}
	}
}

// Nothing outside the embedded page files is reachable under /static/: dot-dot segments, encoded
// or not, and names of source files all fail to return anything but the embedded files.
func TestStaticNoTraversal(t *testing.T) {
	srv := startServer(t, nil)
	for _, p := range []string{
		"/static/../go.mod", "/static/..%2f..%2fgo.mod", "/static/%2e%2e/%2e%2e/go.mod",
		"/static/../../../../etc/passwd", "/static/..%5c..%5cgo.mod", "/static/embed.go",
		"/static/%2e%2e%2f%2e%2e%2fcmd/wisp/main.go", "/static//etc/passwd", "/static/.%2e/.%2e/README.md",
	} {
		// Send the path raw, as an attacker would: net/http's client would clean it.
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(conn, "GET "+p+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		for _, leak := range []string{"module github.com", "root:", "package main", "package web", "# wisp"} {
			if bytes.Contains(body, []byte(leak)) {
				t.Fatalf("%s: %d and a body containing %q", p, resp.StatusCode, leak)
			}
		}
		if resp.StatusCode == http.StatusOK {
			// A 200 may only be a cleaned path that names an embedded file (or its listing).
			clean, _ := url.PathUnescape(p)
			if !strings.HasPrefix(path.Clean(clean), "/static") {
				t.Fatalf("%s: 200 outside /static (%q)", p, path.Clean(clean))
			}
		}
	}
}

// CORS origins are configurable: an allowed origin is echoed, another gets no
// Access-Control-Allow-Origin, and preflights never reach a handler (COMMON-11, COMMON-12).
func TestCORSOriginsConfigurable(t *testing.T) {
	srv := startServer(t, func(c *config) { c.CORSOrigins = []string{"https://good.example"} })
	for origin, want := range map[string]string{"https://good.example": "https://good.example", "https://evil.example": ""} {
		req, _ := http.NewRequest(http.MethodOptions, srv.whipURL("cam"), nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want || resp.StatusCode != http.StatusNoContent {
			t.Errorf("preflight from %s: %d, allow-origin %q, want %q", origin, resp.StatusCode, got, want)
		}
	}
}

// Session URLs and entity tags carry 128 random bits (32 hex digits) and never repeat
// (COMMON-07, COMMON-23).
func TestSessionURLEntropy(t *testing.T) {
	srv := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		v, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true})
		if err != nil {
			t.Fatalf("view: %v", err)
		}
		id := path.Base(v.Location())
		etag := strings.Trim(v.ETag(), `"`)
		for _, s := range []string{id, etag} {
			if b, err := hex.DecodeString(s); err != nil || len(b) < 16 || seen[s] {
				t.Fatalf("id or etag %q: want ≥ 128 bits of fresh hex", s)
			}
			seen[s] = true
		}
		_ = v.Close()
	}
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Keys never reach the log, at debug level: not at start-up, not when a client presents the
// right key, not when it presents a wrong one; bad key flags are reported redacted.
func TestKeysNeverLogged(t *testing.T) {
	const pubKey, watchKey, wrongKey = "PubKey-7f3a9c", "WatchKey-51bd02", "WrongKey-c0ffee"
	var out syncBuffer
	cfg, err := parseConfig([]string{"-http", "127.0.0.1:0", "-udp-port", "1", "-ice-host", "127.0.0.1",
		"-publish-key", "cam=" + pubKey, "-watch-key", "cam=" + watchKey, "-log-level", "debug", "-rate-limit", "0", "-metrics", "127.0.0.1:0"}, env(nil), &out)
	if err != nil {
		t.Fatal(err)
	}
	cfg.UDPPort = 0 // a free port (the flag refuses 0)
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := newServer(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", cfg.HTTP)
	if err != nil {
		t.Fatal(err)
	}
	announce(io.Discard, log, cfg, nil, l.Addr(), srv.udpPort())
	go func() { _ = srv.serve(l) }()
	base := "http://" + l.Addr().String()

	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, base+"/whip/cam", client.PublishOptions{Video: m.video, Token: pubKey, Loop: true})
	if err != nil {
		t.Fatalf("publish with the key: %v", err)
	}
	if _, err := client.View(ctx, base+"/whep/cam", client.ViewOptions{Video: true, Token: wrongKey}); err == nil {
		t.Fatal("view with a wrong key succeeded")
	}
	v, err := client.View(ctx, base+"/whep/cam", client.ViewOptions{Video: true, Token: watchKey})
	if err != nil {
		t.Fatalf("view with the key: %v", err)
	}
	_ = v.Close()
	_ = pub.Close()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := srv.shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if _, err := parseConfig([]string{"-publish-key", "bad/name=" + pubKey}, env(nil), &stderr); err == nil || strings.Contains(err.Error(), pubKey) {
		t.Fatalf("bad key flag error %v shows the key", err)
	}
	logs := out.String() + stderr.String()
	if !strings.Contains(logs, "publish keys configured") {
		t.Fatalf("the log was not captured:\n%s", logs)
	}
	for _, k := range []string{pubKey, watchKey, wrongKey} {
		if strings.Contains(logs, k) {
			t.Fatalf("key %q in the log:\n%s", k, logs)
		}
	}
}

// A client that sends its headers or body too slowly is cut off by the header and read timeouts
// and leaves no session (slowloris).
func TestSlowClientTimeouts(t *testing.T) {
	cfg := config{HTTP: "127.0.0.1:0", ICEHost: "127.0.0.1", CORSOrigins: []string{"*"}}
	srv, err := newServer(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv.http.ReadHeaderTimeout, srv.http.ReadTimeout = 300*time.Millisecond, 600*time.Millisecond
	l, err := net.Listen("tcp", cfg.HTTP)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.serve(l) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.shutdown(ctx)
		<-served
	}()
	for name, partial := range map[string]string{
		"headers": "POST /whip/cam HTTP/1.1\r\nHost: x\r\nContent-Type: appl",
		"body":    "POST /whip/cam HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\nContent-Length: 5000\r\n\r\nv=0\r\n",
	} {
		conn, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(conn, partial)
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second)) // the bound of this wait, well over the timeouts
		rest, err := io.ReadAll(conn)
		conn.Close()
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("slow %s: the server kept the connection open for 5 s", name)
		}
		if bytes.HasPrefix(rest, []byte("HTTP/1.1 201")) {
			t.Fatalf("slow %s: %q", name, rest)
		}
	}
	if n := srv.whip.Len(); n != 0 {
		t.Fatalf("%d sessions after slow clients", n)
	}
}
