package main

import (
	"net/http"
	"strings"
	"testing"
)

// The embeddable player's routes (issue 17): /player.js redirects to the module under /static/ (so
// its imports resolve there) with the CORS grant a cross-origin module load needs (COMMON-12), the
// module and its import carry it too; /embed/{stream} may be framed by the allowed origins only,
// while the other pages may not be framed at all.
func TestPlayerRoutes(t *testing.T) {
	const origin = "https://site.test"
	srv := startServer(t, func(c *config) { c.CORSOrigins = []string{origin} })
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.base+path, nil)
		req.Header.Set("Origin", origin)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	r := get("/player.js")
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/static/player.js" || r.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("/player.js: %d Location %q ACAO %q", r.StatusCode, r.Header.Get("Location"), r.Header.Get("Access-Control-Allow-Origin"))
	}
	for _, p := range []string{"/static/player.js", "/static/wisp.js"} {
		r := get(p)
		if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") || r.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Fatalf("%s: %d %q ACAO %q", p, r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	r = get("/embed/cam")
	if csp := r.Header.Get("Content-Security-Policy"); r.StatusCode != 200 || !strings.HasSuffix(csp, "frame-ancestors "+origin) || r.Header.Get("X-Frame-Options") != "" {
		t.Fatalf("/embed/cam: %d CSP %q X-Frame-Options %q", r.StatusCode, csp, r.Header.Get("X-Frame-Options"))
	}
	r = get("/watch/cam")
	if !strings.HasSuffix(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || r.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("/watch/cam may be framed: %q", r.Header.Get("Content-Security-Policy"))
	}
	open := startServer(t, nil)
	resp, err := http.Get(open.base + "/embed/cam")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors *") {
		t.Fatalf("/embed with any origin allowed: CSP %q", csp)
	}
}
