package main

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// TestCORSAndLinks checks what a browser page on another origin and Link-reading clients need:
// COMMON-11 (preflight on endpoint and session URL, no auth), COMMON-12 (expose list on actual
// responses), COMMON-14 (ice-server Links on an authorised non-preflight OPTIONS, never on a
// preflight), COMMON-15 (one Link line per server on the 201), configurable origins.
func TestCORSAndLinks(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, func(c *config) {
		c.CORSOrigins = []string{"https://app.test"}
		c.PublishKeys = keyMap{"cam": "pk"}
		c.ICEServers = []string{"turn:turn.test:3478?transport=udp", "stun:stun.test:3478"}
		c.TURNSecret = "secret"
	})
	const origin = "https://app.test"

	// Preflights, on the endpoint and a session URL, without Authorization.
	for _, url := range []string{srv.whipURL("cam"), srv.whipURL("cam") + "/0123456789abcdef0123456789abcdef", srv.whepURL("cam") + "/x"} {
		r := do(t, http.MethodOptions, url, "", map[string]string{"Origin": origin,
			"Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization,if-match,content-type"})
		if r.StatusCode/100 != 2 {
			t.Fatalf("preflight %s: %d", url, r.StatusCode)
		}
		for h, want := range map[string]string{
			"Access-Control-Allow-Origin":  origin,
			"Access-Control-Allow-Methods": "GET, HEAD, POST, PATCH, DELETE, OPTIONS",
			"Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
			"Access-Control-Max-Age":       "86400",
			"Vary":                         "Origin",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("preflight %s: %s = %q, want %q", url, h, got, want)
			}
		}
		if l := r.Header.Values("Link"); len(l) != 0 {
			t.Errorf("preflight carries Link %q (COMMON-14: SHOULD NOT)", l)
		}
	}
	// A disallowed origin gets no CORS grant.
	r := do(t, http.MethodOptions, srv.whipURL("cam"), "", map[string]string{"Origin": "https://evil.test", "Access-Control-Request-Method": "POST"})
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("disallowed origin granted: %q", r.Header.Get("Access-Control-Allow-Origin"))
	}

	// Non-preflight OPTIONS: Links only when authorised.
	r = do(t, http.MethodOptions, srv.whipURL("cam"), "", map[string]string{"Authorization": "Bearer pk"})
	if links := r.Header.Values("Link"); len(links) != 2 || !strings.HasPrefix(links[0], "<stun:stun.test:3478>") ||
		!strings.Contains(links[1], `credential-type="password"`) {
		t.Errorf("authorised OPTIONS Links %q", links)
	}
	r = do(t, http.MethodOptions, srv.whipURL("cam"), "", map[string]string{"Authorization": "Bearer wrong"})
	if links := r.Header.Values("Link"); len(links) != 0 {
		t.Errorf("unauthorised OPTIONS got Links %q", links)
	}

	// The 201 to a cross-origin POST: CORS grant, exposed headers, one Link line per server.
	resp, _ := postSDP(t, srv.whipURL("cam"), readOffer(t, "chrome-publish.sdp"), map[string]string{"Origin": origin, "Authorization": "Bearer pk"})
	if resp.StatusCode != 201 {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("201 Access-Control-Allow-Origin %q", got)
	}
	expose := resp.Header.Get("Access-Control-Expose-Headers")
	for _, h := range []string{"Location", "ETag", "Link", "Accept-Post", "Accept-Patch", "Retry-After"} {
		if !strings.Contains(expose, h) {
			t.Errorf("Access-Control-Expose-Headers %q lacks %s", expose, h)
		}
	}
	if links := resp.Header.Values("Link"); len(links) != 2 {
		t.Errorf("201 has %d Link lines, want 2: %q", len(links), links)
	}
	// Errors carry the grant too, so the page can read the status.
	r = do(t, http.MethodPost, srv.whipURL("cam"), "x", map[string]string{"Origin": origin, "Content-Type": "text/plain", "Authorization": "Bearer pk"})
	if r.StatusCode != 415 || r.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("415 to a cross-origin page: %d, ACAO %q", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
	}
	if d := do(t, http.MethodDelete, resp.Header.Get("Location"), "", map[string]string{"Origin": origin}); d.StatusCode != 200 {
		t.Fatalf("DELETE: %d", d.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()
	checkGoroutines(t, base)
}
