package main

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
)

const trickleType = "application/trickle-ice-sdpfrag"

// TestPatchContract checks trickle PATCH over real HTTP on live WHIP and WHEP sessions:
// COMMON-17, COMMON-20, COMMON-21, COMMON-24, COMMON-27.
func TestPatchContract(t *testing.T) {
	base := runtime.NumGoroutine()
	for _, mode := range []struct {
		name    string
		lenient bool
	}{{"strict", false}, {"lenient", true}} {
		t.Run(mode.name, func(t *testing.T) {
			srv := startServer(t, func(c *config) {
				c.PublishKeys = keyMap{"*": "pk"}
				c.LenientIfMatch = mode.lenient
				c.NoICERestart = true
			})
			for _, side := range []struct{ url, offer, token string }{
				{srv.whipURL("cam"), "medooze-publish.sdp", "pk"},
				{srv.whepURL("cam"), "chrome-recvonly.sdp", ""},
			} {
				offer := readOffer(t, side.offer)
				resp, _ := postSDP(t, side.url, offer, map[string]string{"Authorization": "Bearer " + side.token})
				if resp.StatusCode != 201 {
					t.Fatalf("POST %s: %d", side.url, resp.StatusCode)
				}
				loc, etag := resp.Header.Get("Location"), resp.Header.Get("ETag")
				// COMMON-21: a host, a .local and a TCP-active candidate → 204, no body, no ETag.
				frag := fragment(t, "meetecho.sdpfrag", offer)
				patch := func(ifMatch, ctype, body string) response {
					h := map[string]string{"Content-Type": ctype}
					if ifMatch != "" {
						h["If-Match"] = ifMatch
					}
					return do(t, http.MethodPatch, loc, body, h) // no Authorization: the URL is the capability (COMMON-17)
				}
				noIfMatch := 428
				if mode.lenient {
					noIfMatch = 204
				}
				for _, c := range []struct {
					id, ifMatch, ctype, body string
					status                   int
				}{
					{"COMMON-21 etag", etag, trickleType, frag, 204},
					{"COMMON-24 star (MediaMTX)", "*", trickleType, frag, 204},
					{"COMMON-24 missing If-Match", "", trickleType, frag, noIfMatch},
					{"COMMON-24 stale", `"stale"`, trickleType, frag, 412},
					{"COMMON-20 text/plain", etag, "text/plain", frag, 415},
					{"COMMON-20 malformed", etag, trickleType, "{not sdp}", 400},
					{"COMMON-22 eyevinn LF, component 0", etag, trickleType, fragment(t, "eyevinn.sdpfrag", offer), 204},
					{"COMMON-22 medooze", etag, trickleType, fragment(t, "medooze.sdpfrag", offer), 204},
					{"COMMON-27 restart disabled → 422", "*", trickleType, strings.Replace(frag, attr(offer, "ice-ufrag"), "newufrag", 1), 422},
				} {
					r := patch(c.ifMatch, c.ctype, c.body)
					if r.StatusCode != c.status {
						t.Errorf("%s %s: %d, want %d: %s", side.offer, c.id, r.StatusCode, c.status, r.bodyText)
					}
					if r.StatusCode == 204 && (r.bodyText != "" || r.Header.Get("ETag") != "") {
						t.Errorf("%s %s: 204 with body %q or ETag %q", side.offer, c.id, r.bodyText, r.Header.Get("ETag"))
					}
					if r.StatusCode == 415 && r.Header.Get("Accept-Patch") != trickleType {
						t.Errorf("%s: 415 without Accept-Patch", c.id)
					}
				}
				// COMMON-08/09: GET and HEAD on the live session → 204, no body.
				for _, m := range []string{http.MethodGet, http.MethodHead} {
					if r := do(t, m, loc, "", nil); r.StatusCode != 204 || r.bodyText != "" {
						t.Fatalf("%s live session: %d %q, want 204 without body", m, r.StatusCode, r.bodyText)
					}
				}
				// COMMON-17: DELETE without Authorization, by holding the session URL.
				if r := do(t, http.MethodDelete, loc, "", nil); r.StatusCode != 200 {
					t.Fatalf("DELETE without token: %d", r.StatusCode)
				}
				if r := patch("*", trickleType, frag); r.StatusCode != 404 {
					t.Fatalf("PATCH after DELETE: %d, want 404", r.StatusCode)
				}
				if r := do(t, http.MethodGet, loc, "", nil); r.StatusCode != 404 {
					t.Fatalf("GET after DELETE: %d, want 404 (COMMON-19)", r.StatusCode)
				}
			}
		})
	}
	http.DefaultClient.CloseIdleConnections()
	checkGoroutines(t, base)
}
