package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// capturedOffer is an offer in the exact shape a real client sends (testdata/offers, built from
// the quirks of spec §2) and what its answer must look like.
type capturedOffer struct {
	file  string
	side  string // "whip" or "whep"
	setup string // the DTLS role the answer must take (COMMON-35)
	// simulcast is the a=simulcast line the answer must carry (WHIP-03), "" for none.
	simulcast string
	// trickle is a captured fragment (testdata/fragments) the client PATCHes afterwards.
	trickle string
}

var capturedOffers = []capturedOffer{
	{file: "obs-h264.sdp", side: "whip", setup: "active"},
	{file: "obs-hevc.sdp", side: "whip", setup: "active"},
	{file: "obs-av1.sdp", side: "whip", setup: "active"},
	{file: "obs-simulcast.sdp", side: "whip", setup: "active", simulcast: "a=simulcast:recv 0;1;2"},
	{file: "ffmpeg8-passive.sdp", side: "whip", setup: "active"},
	{file: "gstreamer-whipclientsink.sdp", side: "whip", setup: "active"},
	{file: "simple-whip-client.sdp", side: "whip", setup: "active", trickle: "meetecho.sdpfrag"},
	{file: "medooze-publish.sdp", side: "whip", setup: "active", trickle: "medooze.sdpfrag"},
	{file: "chrome-publish.sdp", side: "whip", setup: "active", trickle: "mediamtx.sdpfrag"},
	{file: "chrome-publish-setup-active.sdp", side: "whip", setup: "passive"},
	{file: "firefox-publish.sdp", side: "whip", setup: "active", trickle: "candidates-only.sdpfrag"},
	{file: "safari-publish.sdp", side: "whip", setup: "active", trickle: "eyevinn.sdpfrag"},
	{file: "chrome-recvonly.sdp", side: "whep", setup: "active", trickle: "mediamtx.sdpfrag"},
	{file: "firefox-recvonly.sdp", side: "whep", setup: "active"},
	{file: "safari-recvonly.sdp", side: "whep", setup: "active"},
	{file: "gstreamer-whepsrc.sdp", side: "whep", setup: "active"},
	{file: "eyevinn-player-recvonly.sdp", side: "whep", setup: "active"},
}

func readOffer(t testing.TB, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/offers", file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sections splits an SDP into its session part and its media sections.
func sections(sdp string) (string, []string) {
	parts := strings.Split(strings.ReplaceAll(sdp, "\r\n", "\n"), "\nm=")
	media := make([]string, 0, len(parts)-1)
	for _, p := range parts[1:] {
		media = append(media, "m="+p)
	}
	return parts[0], media
}

// attr returns the value of the first "a=name:" line of text, or "".
func attr(text, name string) string {
	m := regexp.MustCompile(`(?m)^a=` + regexp.QuoteMeta(name) + `:(.*)$`).FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

func hasLine(text, line string) bool {
	return slices.Contains(strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n"), line)
}

// TestCapturedOffers drives every captured client offer through the real server over real HTTP
// and checks the answer against what that client needs: COMMON-01, 05, 06, 07, 23, 33, 34, 35,
// 37, WHIP-01, WHIP-03, WHIP-07, WHEP-01, WHEP-02, WHEP-03, WHEP-05, LEGACY-02; then trickles the
// client's fragment (COMMON-21, COMMON-22) and deletes the session twice (COMMON-18, COMMON-19).
func TestCapturedOffers(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, nil)
	for i, tc := range capturedOffers {
		t.Run(tc.file, func(t *testing.T) {
			offer := readOffer(t, tc.file)
			endpoint := srv.base + "/" + tc.side + "/captured" + string(rune('a'+i))
			resp, answer := postSDP(t, endpoint, offer, nil)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("POST: %d %s", resp.StatusCode, answer)
			}
			checkCreated(t, resp, answer, endpoint)
			checkAnswer(t, tc, offer, answer)

			loc := resp.Header.Get("Location")
			if tc.trickle != "" {
				frag := fragment(t, tc.trickle, offer)
				r := do(t, http.MethodPatch, loc, frag, map[string]string{
					"Content-Type": "application/trickle-ice-sdpfrag", "If-Match": resp.Header.Get("ETag")})
				if r.StatusCode != http.StatusNoContent || r.Header.Get("ETag") != "" || r.ContentLength > 0 {
					t.Fatalf("trickle PATCH: %d ETag %q length %d", r.StatusCode, r.Header.Get("ETag"), r.ContentLength)
				}
			}
			// Simple-whip-client sends If-Match on DELETE too: it is ignored (COMMON-18).
			if r := do(t, http.MethodDelete, loc, "", map[string]string{"If-Match": `"bogus"`}); r.StatusCode != http.StatusOK {
				t.Fatalf("DELETE: %d", r.StatusCode)
			}
			if r := do(t, http.MethodDelete, loc, "", nil); r.StatusCode != http.StatusNotFound {
				t.Fatalf("second DELETE: %d, want 404", r.StatusCode)
			}
		})
	}
	waitFor(t, 5e9, "no sessions left", func() bool { return srv.whip.Len() == 0 && srv.whep.Len() == 0 })
	http.DefaultClient.CloseIdleConnections()
	checkGoroutines(t, base)
}

// checkCreated checks the 201's headers (COMMON-01, COMMON-07, COMMON-23, LEGACY-02).
func checkCreated(t *testing.T, resp response, answer, endpoint string) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/sdp" {
		t.Errorf("Content-Type %q, want exactly application/sdp", ct)
	}
	if !strings.HasPrefix(answer, "v=0\r\n") {
		t.Errorf("answer does not start with v=0 CRLF: %q", answer[:min(len(answer), 20)])
	}
	loc := resp.Header.Get("Location")
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(endpoint) + `/[0-9a-f]{32}$`).MatchString(loc) {
		t.Errorf("Location %q is not an absolute %s/<128-bit id>", loc, endpoint)
	}
	if etag := resp.Header.Get("ETag"); !regexp.MustCompile(`^"[^"*]+"$`).MatchString(etag) {
		t.Errorf("ETag %q is not a strong quoted tag", etag)
	}
	if ap := resp.Header.Get("Accept-Patch"); ap != "application/trickle-ice-sdpfrag" {
		t.Errorf("Accept-Patch %q", ap)
	}
}

// checkAnswer checks the answer's SDP against the offer and the client's needs.
func checkAnswer(t *testing.T, tc capturedOffer, offer, answer string) {
	t.Helper()
	_, om := sections(offer)
	session, am := sections(answer)
	if len(am) != len(om) {
		t.Fatalf("answer has %d m-lines, offer %d", len(am), len(om))
	}
	var mids []string
	for i := range am {
		if attr(am[i], "mid") != attr(om[i], "mid") { // COMMON-05: same order, mids mirrored
			t.Errorf("m-line %d: answer mid %q, offer mid %q", i, attr(am[i], "mid"), attr(om[i], "mid"))
		}
		mids = append(mids, attr(am[i], "mid"))
		if strings.HasPrefix(am[i], "m=audio 0") || strings.HasPrefix(am[i], "m=video 0") {
			t.Errorf("m-line %d rejected (WHIP-02: no partial answers)", i)
		}
		for _, l := range []string{"a=rtcp-mux", "a=rtcp-mux-only", "a=end-of-candidates"} { // COMMON-33, COMMON-06
			if !hasLine(am[i], l) {
				t.Errorf("m-line %d lacks %s", i, l)
			}
		}
		want := map[string]string{"whip": "a=recvonly", "whep": "a=sendonly"}[tc.side] // WHIP-01, WHEP-02
		if !hasLine(am[i], want) {
			t.Errorf("m-line %d is not %s", i, want)
		}
		if got := attr(am[i], "setup"); got != tc.setup { // COMMON-35
			t.Errorf("m-line %d: setup %q, want %q", i, got, tc.setup)
		}
	}
	if got := attr(session, "group"); got != "BUNDLE "+strings.Join(mids, " ") {
		t.Errorf("group %q, want BUNDLE of every mid %v", got, mids)
	}
	// COMMON-06 and ffmpeg: candidates present, the first one a UDP host candidate.
	cand := attr(am[0], "candidate")
	if f := strings.Fields(cand); len(f) < 8 || !strings.EqualFold(f[2], "udp") || f[7] != "host" {
		t.Errorf("first candidate %q is not a UDP host candidate", cand)
	}
	if tc.simulcast != "" {
		if !hasLine(answer, tc.simulcast) {
			t.Errorf("answer lacks %q", tc.simulcast)
		}
		for _, ext := range []string{"urn:ietf:params:rtp-hdrext:sdes:mid", "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"} {
			if !strings.Contains(answer, " "+ext+"\r\n") {
				t.Errorf("simulcast answer does not negotiate %s", ext)
			}
		}
		for _, rid := range []string{"0", "1", "2"} {
			if !hasLine(answer, "a=rid:"+rid+" recv") {
				t.Errorf("answer lacks a=rid:%s recv", rid)
			}
		}
	}
	if tc.side == "whep" { // WHEP-03: one MediaStream
		var streams []string
		for _, m := range am {
			if f := strings.Fields(attr(m, "msid")); len(f) > 0 {
				streams = append(streams, f[0])
			}
		}
		if len(streams) != len(am) || len(slices.Compact(slices.Clone(streams))) != 1 {
			t.Errorf("answer msid stream ids %v: want one per m-line, all equal", streams)
		}
	}
}

// fragment loads a captured trickle fragment, filled with the offer's credentials and first mid.
func fragment(t testing.TB, file, offer string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/fragments", file))
	if err != nil {
		t.Fatal(err)
	}
	_, media := sections(offer)
	return strings.NewReplacer("UFRAG", attr(offer, "ice-ufrag"), "PWD", attr(offer, "ice-pwd"),
		"MID", attr(media[0], "mid")).Replace(string(b))
}

// postSDP POSTs an offer; headers default to application/sdp.
func postSDP(t *testing.T, url, body string, headers map[string]string) (response, string) {
	t.Helper()
	h := map[string]string{"Content-Type": "application/sdp"}
	for k, v := range headers {
		h[k] = v
	}
	resp := do(t, http.MethodPost, url, body, h)
	return resp, resp.bodyText
}

// response is an http.Response whose body was read.
type response struct {
	*http.Response
	bodyText string
}

// do sends one request and reads the whole response.
func do(t *testing.T, method, url, body string, headers map[string]string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp, string(b)}
}
