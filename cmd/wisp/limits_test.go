package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wisp-media/wisp/client"
)

// The token bucket: a burst passes, the next request waits 1/rate, refills over time, and each
// IP has its own bucket (COMMON-30).
func TestLimitsTokenBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimits(limitsConfig{Rate: 2, Burst: 3}, func() int { return 0 })
	l.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if _, ok := l.allow("10.0.0.1"); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	wait, ok := l.allow("10.0.0.1")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("4th request: ok=%v wait=%v, want refused with 500ms", ok, wait)
	}
	if _, ok := l.allow("10.0.0.2"); !ok {
		t.Fatal("another IP shares the bucket")
	}
	now = now.Add(500 * time.Millisecond)
	if _, ok := l.allow("10.0.0.1"); !ok {
		t.Fatal("no token after 1/rate")
	}
	// Idle buckets are forgotten by the sweep, so the table stays bounded.
	now = now.Add(sweepEvery)
	l.allow("10.0.0.3")
	l.mu.Lock()
	n := len(l.buckets)
	l.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d buckets after the sweep, want 1 (the new one)", n)
	}
}

// Over the per-IP rate, POST, PATCH and DELETE get 429 with Retry-After; GET, OPTIONS and pages
// are not limited (COMMON-30).
func TestRateLimit429(t *testing.T) {
	srv := startServer(t, func(c *config) { c.Limits = limitsConfig{Rate: 0.5, Burst: 2} })
	do := func(method, url string) *http.Response {
		req, _ := http.NewRequest(method, url, strings.NewReader("v=0\r\n"))
		req.Header.Set("Content-Type", "application/sdp")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := 0; i < 2; i++ {
		if r := do(http.MethodPost, srv.whipURL("cam")); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("POST %d within the burst: %d, want 400 (bad offer)", i, r.StatusCode)
		}
	}
	for _, m := range []string{http.MethodPost, http.MethodDelete, http.MethodPatch} {
		r := do(m, srv.whepURL("cam")+"/0123")
		if m == http.MethodPost {
			r = do(m, srv.whepURL("cam"))
		}
		if r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s over the rate: %d, want 429", m, r.StatusCode)
		}
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 2 {
			t.Fatalf("%s: Retry-After %q, want 1-2 s", m, r.Header.Get("Retry-After"))
		}
		if r.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s: content type %q", m, r.Header.Get("Content-Type"))
		}
	}
	for _, u := range []string{srv.whipURL("cam"), srv.base + "/", srv.base + "/watch/cam"} {
		if r := do(http.MethodGet, u); r.StatusCode/100 != 2 {
			t.Fatalf("GET %s while limited: %d", u, r.StatusCode)
		}
	}
	if n := srv.whip.Len() + srv.whep.Len(); n != 0 {
		t.Fatalf("%d sessions after refused requests", n)
	}
}

// With MaxSessions live, a further POST gets 503 + Retry-After and creates nothing; once a
// session ends, POSTs are taken again (COMMON-29).
func TestSessionCap503(t *testing.T) {
	srv := startServer(t, func(c *config) { c.Limits = limitsConfig{MaxSessions: 1} })
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Loop: true})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	r, _ := postSDP(t, srv.whepURL("cam"), "v=0\r\n", nil)
	if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "5" {
		t.Fatalf("POST over the cap: %d Retry-After %q, want 503 and 5", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if n := srv.whep.Len(); n != 0 {
		t.Fatalf("%d viewers after a refused POST", n)
	}
	if err := pub.Close(); err != nil {
		t.Fatalf("close publisher: %v", err)
	}
	waitFor(t, 5*time.Second, "publisher gone", func() bool { return srv.whip.Len() == 0 })
	v, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true})
	if err != nil {
		t.Fatalf("view under the cap: %v", err)
	}
	_ = v.Close()
}

// Past MaxNegotiating POSTs in flight, the next POST gets 503 + Retry-After at once; PATCH and
// DELETE on session URLs do not count (COMMON-29).
func TestNegotiationCap503(t *testing.T) {
	l := newLimits(limitsConfig{MaxNegotiating: 2}, func() int { return 0 })
	e := echo.New()
	release, entered := make(chan struct{}), make(chan struct{}, 3)
	e.POST("/whip/:stream", func(c echo.Context) error {
		entered <- struct{}{}
		<-release // a negotiation in progress
		return c.NoContent(http.StatusCreated)
	}, l.middleware)
	e.DELETE("/whip/:stream/:id", func(c echo.Context) error { return c.NoContent(http.StatusOK) }, l.middleware)
	post := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/whip/cam", nil))
		return w
	}
	codes := make(chan int, 2)
	for i := 0; i < 2; i++ {
		go func() { codes <- post().Code }()
	}
	<-entered
	<-entered
	if w := post(); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("third POST: %d Retry-After %q, want 503 and 1", w.Code, w.Header().Get("Retry-After"))
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodDelete, "/whip/cam/abc", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("DELETE while negotiations are capped: %d", w.Code)
	}
	close(release)
	for i := 0; i < 2; i++ {
		if c := <-codes; c != http.StatusCreated {
			t.Fatalf("held POST: %d", c)
		}
	}
	if w := post(); w.Code != http.StatusCreated {
		t.Fatalf("POST after the others finished: %d", w.Code)
	}
}

// postSDP POSTs body as application/sdp and returns the response with its body read and closed.
// The guards' settings: defaults on, env fallback, flags win, bad values refused.
func TestLimitsConfig(t *testing.T) {
	c, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil || c.Limits != (limitsConfig{Rate: 5, Burst: 20, MaxNegotiating: 32, MaxSessions: 2000}) {
		t.Fatalf("defaults %+v, %v", c.Limits, err)
	}
	c, err = parseConfig([]string{"-max-sessions", "0"}, env(map[string]string{"WISP_RATE_LIMIT": "0.5", "WISP_MAX_SESSIONS": "9"}), io.Discard)
	if err != nil || c.Limits.Rate != 0.5 || c.Limits.MaxSessions != 0 {
		t.Fatalf("env and flags: %+v, %v", c.Limits, err)
	}
	for _, args := range [][]string{{"-rate-limit", "-1"}, {"-rate-limit", "NaN"}, {"-rate-burst", "x"}, {"-max-negotiating", "-2"}} {
		if _, err := parseConfig(args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: err %v, want one naming %s", args, err, args[0])
		}
	}
}
