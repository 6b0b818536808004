package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// patchStatuses are the answers the spec allows to a PATCH of a live session: 204 (trickle,
// COMMON-21), 200 (ICE restart, COMMON-25) or a clear error: 400 bad fragment, 412 stale
// If-Match, 413 over the body cap, 415 wrong type (COMMON-20), 422 restart refused, 428 missing
// If-Match in strict mode (COMMON-24), 5xx for a restart that failed with the session kept
// (COMMON-26).
var patchStatuses = map[int]bool{200: true, 204: true, 400: true, 412: true, 413: true, 415: true,
	422: true, 428: true, 500: true, 503: true}

// FuzzPatch sends an arbitrary PATCH (Content-Type, If-Match, body) to a fresh WHEP session of a
// real server: trickle fragments, ICE restarts, garbage. A fresh session per input, because a
// trickled candidate that never answers lets ICE fail and end the session after a while, which
// is right but would blur what each PATCH did. Checked for every input: the status is one the
// spec allows; a 204 has no body and no ETag; a 200 is a trickle-ice-sdpfrag with a new ETag;
// whatever the answer, the session is still there (a failed restart keeps it, COMMON-26) and no
// other session or stream appears; its DELETE then answers 200 and leaves nothing. After the run
// the goroutines are back to baseline. Seeds: the captured client fragments of
// testdata/fragments, a restart, wrong types, stale and weak tags, plus testdata/fuzz/FuzzPatch.
func FuzzPatch(f *testing.F) {
	offer := readOffer(f, "chrome-recvonly.sdp")
	for _, file := range []string{"candidates-only.sdpfrag", "eyevinn.sdpfrag", "mediamtx.sdpfrag", "medooze.sdpfrag", "meetecho.sdpfrag"} {
		f.Add(trickleType, "*", fragment(f, file, offer))
	}
	restart := strings.Replace(fragment(f, "meetecho.sdpfrag", offer), attr(offer, "ice-ufrag"), "fuzzufrag", 1)
	f.Add(trickleType, "*", restart)
	f.Add(trickleType, `"stale"`, fragment(f, "mediamtx.sdpfrag", offer))
	f.Add(trickleType, `W/"weak"`, fragment(f, "mediamtx.sdpfrag", offer))
	f.Add(trickleType, "", "a=end-of-candidates\r\n")
	f.Add("application/sdp", "*", offer)
	f.Add(trickleType+"; charset=utf-8", "*", "{not sdp}")
	f.Add(trickleType, "*", strings.Repeat("a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n", 2000)) // over the cap: 413

	srv := newFuzzServer(f, config{})

	f.Fuzz(func(t *testing.T, ctype, ifMatch, body string) {
		post := httptest.NewRequest(http.MethodPost, "http://wisp.test/whep/cam", strings.NewReader(offer))
		post.Header.Set("Content-Type", "application/sdp")
		pw := httptest.NewRecorder()
		srv.echo.ServeHTTP(pw, post)
		loc := pw.Header().Get("Location")
		if pw.Code != http.StatusCreated || loc == "" {
			t.Fatalf("POST: %d %s", pw.Code, pw.Body)
		}
		req := httptest.NewRequest(http.MethodPatch, loc, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		w := httptest.NewRecorder()
		srv.echo.ServeHTTP(w, req)
		t.Logf("PATCH %q If-Match %q → %d", ctype, ifMatch, w.Code)
		if !patchStatuses[w.Code] {
			t.Fatalf("PATCH: status %d %s", w.Code, w.Body)
		}
		switch w.Code {
		case http.StatusNoContent:
			if w.Body.Len() != 0 || w.Header().Get("ETag") != "" {
				t.Fatalf("204 with body %q or ETag %q", w.Body, w.Header().Get("ETag"))
			}
		case http.StatusOK:
			if ct := w.Header().Get("Content-Type"); ct != trickleType || w.Header().Get("ETag") == "" {
				t.Fatalf("restart 200 with Content-Type %q, ETag %q", ct, w.Header().Get("ETag"))
			}
		}
		if n := srv.whep.Len(); n != 1 || srv.whip.Len() != 0 || len(srv.registry.List()) != 1 {
			t.Fatalf("after PATCH (%d): %d viewers, %d publishers, streams %+v", w.Code, n, srv.whip.Len(), srv.registry.List())
		}
		deleteAndCheckGone(t, srv, loc, "")
	})
}
