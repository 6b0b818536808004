package wish

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeICE is a hand-written ICESession for the PATCH contract: it records what it was asked.
type fakeICE struct {
	etag, ufrag string
	trickled    []Fragment
	restarts    int
	restartErr  error
}

func (f *fakeICE) ETag() string        { return f.etag }
func (f *fakeICE) RemoteUfrag() string { return f.ufrag }
func (f *fakeICE) Trickle(_ context.Context, fr Fragment) error {
	f.trickled = append(f.trickled, fr)
	return nil
}
func (f *fakeICE) Restart(_ context.Context, fr Fragment) (string, string, error) {
	if f.restartErr != nil {
		return "", "", f.restartErr
	}
	f.restarts++
	f.etag, f.ufrag = `"new"`, fr.Ufrag
	return "a=ice-ufrag:s2\r\na=ice-pwd:p2\r\na=end-of-candidates\r\n", f.etag, nil
}

const (
	trickleBody = "a=ice-ufrag:u1\r\na=ice-pwd:p1\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=candidate:1 1 udp 1 127.0.0.1 5 typ host\r\n"
	restartBody = "a=ice-ufrag:u2\r\na=ice-pwd:p2\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n"
)

func doPatch(s ICESession, p PatchPolicy, ctype, ifMatch, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPatch, "/whip/x/y", strings.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if ifMatch != "" {
		r.Header.Set("If-Match", ifMatch)
	}
	w := httptest.NewRecorder()
	ServePatch(w, r, s, p)
	return w
}

func TestServePatch(t *testing.T) {
	for _, tc := range []struct {
		name, id       string
		policy         PatchPolicy
		ctype, ifMatch string
		body           string
		status         int
		trickled       int
		restarts       int
	}{
		{"trickle with etag → 204", "COMMON-21", PatchPolicy{}, ContentTypeTrickle, `"e1"`, trickleBody, 204, 1, 0},
		{"trickle with * → 204", "COMMON-24", PatchPolicy{}, ContentTypeTrickle, "*", trickleBody, 204, 1, 0},
		{"trickle, etag in a list → 204", "COMMON-24", PatchPolicy{}, ContentTypeTrickle, `"zz", "e1"`, trickleBody, 204, 1, 0},
		{"trickle without If-Match → 428", "COMMON-24", PatchPolicy{}, ContentTypeTrickle, "", trickleBody, 428, 0, 0},
		{"trickle without If-Match, lenient → 204", "COMMON-24", PatchPolicy{LenientIfMatch: true}, ContentTypeTrickle, "", trickleBody, 204, 1, 0},
		{"stale etag → 412", "COMMON-24", PatchPolicy{}, ContentTypeTrickle, `"stale"`, trickleBody, 412, 0, 0},
		{"weak etag → 412", "COMMON-24", PatchPolicy{}, ContentTypeTrickle, `W/"e1"`, trickleBody, 412, 0, 0},
		{"text/plain → 415", "COMMON-20", PatchPolicy{}, "text/plain", "*", trickleBody, 415, 0, 0},
		{"no content type → 415", "COMMON-20", PatchPolicy{}, "", "*", trickleBody, 415, 0, 0},
		{"malformed → 400", "COMMON-20", PatchPolicy{}, ContentTypeTrickle, "*", "hello", 400, 0, 0},
		{"empty → 400", "COMMON-20", PatchPolicy{}, ContentTypeTrickle, "*", "", 400, 0, 0},
		{"too large → 413", "COMMON-30", PatchPolicy{MaxBody: 16}, ContentTypeTrickle, "*", trickleBody, 413, 0, 0},
		{"restart with * → 200", "COMMON-25", PatchPolicy{}, ContentTypeTrickle, "*", restartBody, 200, 0, 1},
		{"restart disabled → 422", "COMMON-27", PatchPolicy{NoRestart: true}, ContentTypeTrickle, "*", restartBody, 422, 0, 0},
		{"restart, stale etag → 412", "COMMON-24", PatchPolicy{}, ContentTypeTrickle, `"old"`, restartBody, 412, 0, 0},
	} {
		t.Run(tc.id+" "+tc.name, func(t *testing.T) {
			s := &fakeICE{etag: `"e1"`, ufrag: "u1"}
			w := doPatch(s, tc.policy, tc.ctype, tc.ifMatch, tc.body)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if len(s.trickled) != tc.trickled || s.restarts != tc.restarts {
				t.Fatalf("trickled %d restarts %d", len(s.trickled), s.restarts)
			}
			switch tc.status {
			case 204:
				if w.Body.Len() != 0 || w.Header().Get("ETag") != "" {
					t.Fatalf("204 with body %q or ETag %q", w.Body, w.Header().Get("ETag"))
				}
			case 200:
				if w.Header().Get("Content-Type") != ContentTypeTrickle || w.Header().Get("ETag") != `"new"` ||
					!strings.Contains(w.Body.String(), "a=ice-ufrag:s2\r\n") {
					t.Fatalf("restart answer: %v %q", w.Header(), w.Body)
				}
			case 415:
				if w.Header().Get("Accept-Patch") != ContentTypeTrickle {
					t.Fatalf("415 without Accept-Patch: %v", w.Header())
				}
			default:
				if w.Header().Get("Content-Type") != ContentTypeProblem {
					t.Fatalf("error without problem details: %v", w.Header())
				}
			}
		})
	}
}

// COMMON-26: a failed restart is an error and keeps the old ICE session and entity tag.
func TestServePatchRestartFailureKeepsSession(t *testing.T) {
	s := &fakeICE{etag: `"e1"`, ufrag: "u1", restartErr: errors.New("boom")}
	w := doPatch(s, PatchPolicy{}, ContentTypeTrickle, "*", restartBody)
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "previous ICE session is kept") {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	if s.etag != `"e1"` || s.ufrag != "u1" {
		t.Fatal("session state changed")
	}
	// The old tag still works for trickle.
	if w := doPatch(s, PatchPolicy{}, ContentTypeTrickle, `"e1"`, trickleBody); w.Code != 204 {
		t.Fatalf("trickle after failed restart: %d", w.Code)
	}
}
