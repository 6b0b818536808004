package main

import (
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestStatusCodes checks every error status of the checklist over real HTTP against the real
// server, each with the headers that go with it. Nothing is left behind (COMMON-04: every error
// is problem+json).
func TestStatusCodes(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, func(c *config) {
		c.PublishKeys = keyMap{"cam": "pk-cam", "other": "pk-other"}
		c.WatchKeys = keyMap{"cam": "wk-cam"}
	})
	obs := readOffer(t, "obs-h264.sdp")
	chrome := readOffer(t, "chrome-recvonly.sdp")
	auth := map[string]string{"Content-Type": "application/sdp", "Authorization": "Bearer pk-cam"}
	watch := map[string]string{"Content-Type": "application/sdp", "Authorization": "Bearer wk-cam"}
	twoVideos := strings.Replace(obs, "m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=video 9 UDP/TLS/RTP/SAVPF 96", 1)
	onlyUnknownCodec := strings.NewReplacer("H264/90000", "X-FOO/90000").Replace(obs)
	viewerUnknownCodec := regexp.MustCompile(`(?m)^a=rtpmap:(\d+) (VP8|VP9|H264|AV1|rtx|red|ulpfec)/90000`).ReplaceAllString(chrome, "a=rtpmap:$1 X-FOO/90000")

	for _, tc := range []struct {
		id, name     string
		method, url  string
		headers      map[string]string
		body         string
		status       int
		header, want string // a response header and its required value ("" = just present)
	}{
		{"COMMON-02", "text/plain POST → 415 + Accept-Post", "POST", srv.whipURL("cam"), map[string]string{"Content-Type": "text/plain", "Authorization": "Bearer pk-cam"}, obs, 415, "Accept-Post", "application/sdp"},
		{"COMMON-02", "application/sdp with charset accepted", "POST", srv.whipURL("cs"), map[string]string{"Content-Type": "Application/SDP; charset=utf-8"}, obs, 201, "Location", ""},
		{"COMMON-03", "hello → 400", "POST", srv.whipURL("cam"), auth, "hello", 400, "Content-Type", "application/problem+json"},
		{"COMMON-03", "empty → 400", "POST", srv.whepURL("open"), map[string]string{"Content-Type": "application/sdp"}, "", 400, "Content-Type", "application/problem+json"},
		{"COMMON-30", "1 MB → 413", "POST", srv.whipURL("cam"), auth, "v=0\r\n" + strings.Repeat("a=x\r\n", 200_000), 413, "Content-Type", "application/problem+json"},
		{"COMMON-37", "two video m-lines → 422", "POST", srv.whipURL("cam"), auth, twoVideos, 422, "Content-Type", "application/problem+json"},
		{"WHIP-02", "only an unsupported codec → 422", "POST", srv.whipURL("cam"), auth, onlyUnknownCodec, 422, "", ""},
		{"WHIP-01", "recvonly WHIP offer → 422", "POST", srv.whipURL("cam"), auth, chrome, 422, "", ""},
		{"WHEP-05", "viewer without a common video codec → 422, not 406", "POST", srv.whepURL("cam"), watch, viewerUnknownCodec, 422, "Content-Type", "application/problem+json"},
		{"WHEP-02", "sendonly WHEP offer → 422", "POST", srv.whepURL("cam"), watch, obs, 422, "", ""},
		{"COMMON-16", "no token → 401 + WWW-Authenticate", "POST", srv.whipURL("cam"), map[string]string{"Content-Type": "application/sdp"}, obs, 401, "WWW-Authenticate", `Bearer realm="wisp"`},
		{"COMMON-16", "wrong token → 401", "POST", srv.whipURL("cam"), map[string]string{"Content-Type": "application/sdp", "Authorization": "Bearer nope"}, obs, 401, "WWW-Authenticate", `Bearer realm="wisp"`},
		{"COMMON-16", "another stream's key → 403", "POST", srv.whipURL("cam"), map[string]string{"Content-Type": "application/sdp", "Authorization": "Bearer pk-other"}, obs, 403, "Content-Type", "application/problem+json"},
		{"COMMON-16", "watch: no token → 401", "POST", srv.whepURL("cam"), map[string]string{"Content-Type": "application/sdp"}, chrome, 401, "WWW-Authenticate", `Bearer realm="wisp"`},
		{"COMMON-16", "open stream ignores Bearer undefined", "POST", srv.whepURL("open"), map[string]string{"Content-Type": "application/sdp", "Authorization": "Bearer undefined"}, chrome, 201, "Location", ""},
		{"COMMON-16", "key verbatim without Bearer (Eyevinn player)", "POST", srv.whepURL("cam"), map[string]string{"Content-Type": "application/sdp", "Authorization": "wk-cam"}, chrome, 201, "Location", ""},
		{"COMMON-19", "DELETE unknown session → 404", "DELETE", srv.whipURL("cam") + "/00000000000000000000000000000000", nil, "", 404, "", ""},
		{"COMMON-19", "PATCH unknown session → 404", "PATCH", srv.whepURL("cam") + "/00000000000000000000000000000000", map[string]string{"Content-Type": "application/trickle-ice-sdpfrag", "If-Match": "*"}, "a=end-of-candidates\r\n", 404, "", ""},
		{"COMMON-10", "PUT endpoint → 405 + Allow", "PUT", srv.whipURL("cam"), nil, "", 405, "Allow", "POST, OPTIONS, GET, HEAD"},
		{"COMMON-10", "PATCH endpoint → 405 + Allow", "PATCH", srv.whepURL("cam"), nil, "", 405, "Allow", "POST, OPTIONS, GET, HEAD"},
		{"COMMON-10", "POST session (Medooze mute) → 405 + Allow", "POST", srv.whipURL("cam") + "/abc", map[string]string{"Content-Type": "application/json"}, `{"muted":true}`, 405, "Allow", "PATCH, DELETE, OPTIONS, GET, HEAD"},
		{"COMMON-10", "PUT session → 405 + Allow", "PUT", srv.whepURL("cam") + "/abc", nil, "", 405, "Allow", "PATCH, DELETE, OPTIONS, GET, HEAD"},
		{"COMMON-08", "GET WHIP endpoint → 204", "GET", srv.whipURL("cam"), nil, "", 204, "", ""},
		{"COMMON-09", "HEAD WHIP endpoint → 204", "HEAD", srv.whipURL("cam"), nil, "", 204, "", ""},
		{"COMMON-19", "GET unknown session → 404", "GET", srv.whipURL("cam") + "/abc", nil, "", 404, "", ""},
		{"COMMON-19", "HEAD unknown WHEP session → 404", "HEAD", srv.whepURL("cam") + "/00000000000000000000000000000000", nil, "", 404, "", ""},
		{"WHEP-07", "HEAD WHEP endpoint → 200 application/sdp", "HEAD", srv.whepURL("cam"), nil, "", 200, "Content-Type", "application/sdp"},
		{"WHEP-07", "GET WHEP endpoint → 200 application/sdp", "GET", srv.whepURL("cam"), nil, "", 200, "Content-Type", "application/sdp"},
		{"COMMON-13", "OPTIONS endpoint → 200 + Accept-Post", "OPTIONS", srv.whipURL("cam"), nil, "", 200, "Accept-Post", "application/sdp"},
		{"COMMON-13", "OPTIONS session → 200 + Accept-Patch", "OPTIONS", srv.whepURL("cam") + "/abc", nil, "", 200, "Accept-Patch", "application/trickle-ice-sdpfrag"},
		{"COMMON-14", "OPTIONS lists PATCH for Eyevinn", "OPTIONS", srv.whipURL("cam"), nil, "", 200, "Access-Control-Allow-Methods", "GET, HEAD, POST, PATCH, DELETE, OPTIONS"},
	} {
		t.Run(tc.id+" "+tc.name, func(t *testing.T) {
			r := do(t, tc.method, tc.url, tc.body, tc.headers)
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tc.status, r.bodyText)
			}
			if tc.header != "" {
				got, ok := r.Header[http.CanonicalHeaderKey(tc.header)]
				if !ok || (tc.want != "" && got[0] != tc.want) {
					t.Fatalf("%s = %q, want %q", tc.header, got, tc.want)
				}
			}
			if r.StatusCode >= 400 && r.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("error without problem details: %q", r.Header.Get("Content-Type"))
			}
			// a 2xx answer to GET, HEAD or OPTIONS has no body (COMMON-08); errors carry problem details
			if (tc.method == "GET" || tc.method == "HEAD" || tc.method == "OPTIONS") && r.StatusCode < 400 && r.bodyText != "" {
				t.Fatalf("%s has a body: %q", tc.method, r.bodyText)
			}
			if r.StatusCode == 201 {
				if d := do(t, "DELETE", r.Header.Get("Location"), "", nil); d.StatusCode != 200 {
					t.Fatalf("cleanup DELETE: %d", d.StatusCode)
				}
			}
		})
	}
	if n := srv.registry.Len(); n != 0 {
		t.Errorf("%d streams left after refused requests", n)
	}
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, 5e9, "no sessions", func() bool { return srv.whip.Len()+srv.whep.Len() == 0 })
	checkGoroutines(t, base)
}
