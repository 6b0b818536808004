package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// postStatuses are the answers the spec allows to a POST on an endpoint: 201 or a clear error
// (COMMON-04, COMMON-16, COMMON-37; WHIP-01, WHEP-02). 404/405 come from the router for names
// that are not one path segment.
var postStatuses = map[int]bool{201: true, 400: true, 401: true, 404: true, 405: true, 409: true,
	413: true, 415: true, 422: true, 503: true}

// FuzzPost drives the whole POST path of a real server (echo router, auth, body cap, SDP checks,
// pion negotiation) with arbitrary endpoint, stream name, Content-Type, Authorization and body.
// Checked: the status is one the spec allows; a refusal leaves no session and no stream; a 201
// carries a session Location whose DELETE answers 200 and leaves nothing behind; after the run
// the goroutines are back to baseline. Stream "locked" needs the key "k3y" on both sides. Seeds:
// testdata/fuzz/FuzzPost (pion WHIP and WHEP offers, wrong direction, bad types, bad keys,
// traversal names) plus those below.
func FuzzPost(f *testing.F) {
	f.Add(false, "cam", "application/sdp", "", "v=0\r\n")
	f.Add(true, "locked", "application/sdp", "Bearer nope", "v=0\r\n")
	f.Add(false, "cam", "text/plain", "", "x")
	f.Add(false, "cam", "application/sdp", "", strings.Repeat("a=x\r\n", 14000)) // over the 64 KiB cap: 413
	f.Add(true, "../../etc", "application/sdp", "", "v=0\r\n")

	srv := newFuzzServer(f, config{PublishKeys: keyMap{"locked": "k3y"}, WatchKeys: keyMap{"locked": "k3y"}})

	f.Fuzz(func(t *testing.T, whep bool, name, ctype, auth, body string) {
		endpoint := "/whip/"
		if whep {
			endpoint = "/whep/"
		}
		req := httptest.NewRequest(http.MethodPost, "http://wisp.test"+endpoint+url.PathEscape(name), strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		srv.echo.ServeHTTP(w, req)
		t.Logf("POST %s%q → %d", endpoint, name, w.Code)
		if !postStatuses[w.Code] {
			t.Fatalf("POST %s%q: status %d %s", endpoint, name, w.Code, w.Body)
		}
		if w.Code != http.StatusCreated {
			if n := srv.whip.Len() + srv.whep.Len(); n != 0 || len(srv.registry.List()) != 0 {
				t.Fatalf("refused POST (%d) left %d sessions, streams %+v", w.Code, n, srv.registry.List())
			}
			return
		}
		loc, err := url.Parse(w.Header().Get("Location"))
		if err != nil || !strings.HasPrefix(loc.Path, endpoint) {
			t.Fatalf("201 with Location %q", w.Header().Get("Location"))
		}
		deleteAndCheckGone(t, srv, loc.String(), auth)
	})
}

// newFuzzServer builds a real server for a fuzz target, whose requests go straight to its echo
// router: media on 127.0.0.1, quiet logs, any CORS origin, over cfg's other settings. Its
// shutdown and a goroutine check against the count before it run at the end of the target.
func newFuzzServer(f *testing.F, cfg config) *server {
	base := runtime.NumGoroutine()
	cfg.HTTP, cfg.ICEHost, cfg.LogLevel, cfg.CORSOrigins = "127.0.0.1:0", "127.0.0.1", slog.LevelError, []string{"*"}
	srv, err := newServer(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatalf("new server: %v", err)
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.shutdown(ctx); err != nil {
			f.Errorf("shutdown: %v", err)
		}
		checkGoroutines(f, base)
	})
	return srv
}

// deleteAndCheckGone DELETEs a session URL through the router, requires 200, and waits until the
// server holds no session and no stream.
func deleteAndCheckGone(t *testing.T, srv *server, loc, auth string) {
	t.Helper()
	del := httptest.NewRequest(http.MethodDelete, loc, nil)
	if auth != "" {
		del.Header.Set("Authorization", auth)
	}
	dw := httptest.NewRecorder()
	srv.echo.ServeHTTP(dw, del)
	if dw.Code != http.StatusOK {
		t.Fatalf("DELETE %s: %d", loc, dw.Code)
	}
	waitFor(t, 5*time.Second, "session and stream gone", func() bool {
		return srv.whip.Len()+srv.whep.Len() == 0 && len(srv.registry.List()) == 0
	})
}
