package wish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// fakeTokens grants "publish" on "a" to the token "h.a.s" and nothing else to "h.b.s".
type fakeTokens struct{}

func (fakeTokens) Verify(_ context.Context, tok, action, stream string) error {
	switch {
	case tok == "h.a.s" && action == ActionPublish && stream == "a":
		return nil
	case tok == "h.a.s":
		return fmt.Errorf("fake: %w", ErrNotGranted)
	}
	return errors.New("fake: bad signature")
}

// COMMON-16 with signed tokens beside static keys: either one admits; a genuine token for another
// stream or action is 403; an invalid one is 401 with error="invalid_token"; with Tokens every
// stream needs one, and a static key never reaches the verifier.
func TestKeysWithTokens(t *testing.T) {
	k := Keys{Key: func(s string) (string, bool) { return "ka", s == "keyed" }, Tokens: fakeTokens{}, Action: ActionPublish}
	for _, tc := range []struct {
		stream, auth string
		status       int
		invalid      bool
	}{
		{"a", "Bearer h.a.s", 0, false},
		{"keyed", "Bearer ka", 0, false},
		{"b", "Bearer h.a.s", 403, false},
		{"a", "Bearer h.b.s", 401, true},
		{"a", "", 401, false},
		{"open", "Bearer undefined", 401, false},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		err := k.Authorize(r, tc.stream)
		got := 0
		if err != nil {
			got = Problem(err).Status
		}
		if got != tc.status {
			t.Errorf("%s %q: %d, want %d", tc.stream, tc.auth, got, tc.status)
		}
		if tc.invalid && Problem(err).Header.Get("WWW-Authenticate") != `Bearer realm="wisp", error="invalid_token"` {
			t.Errorf("%s %q: WWW-Authenticate %q", tc.stream, tc.auth, Problem(err).Header.Get("WWW-Authenticate"))
		}
	}
}

type fakeAdmitter func(AdmitRequest) error

func (f fakeAdmitter) Admit(_ context.Context, r AdmitRequest) error { return f(r) }

// The auth hook is asked only after the Keys allow; its refusal is 403, its silence 503 +
// Retry-After (fail closed).
func TestAuthorizePost(t *testing.T) {
	var asked []AdmitRequest
	e := Endpoint{Keys: Keys{Key: func(s string) (string, bool) { return "k", true }, Action: ActionWatch},
		Admit: fakeAdmitter(func(r AdmitRequest) error {
			asked = append(asked, r)
			switch r.Stream {
			case "ok":
				return nil
			case "no":
				return fmt.Errorf("hook: %w", ErrDenied)
			}
			return context.DeadlineExceeded
		})}.WithDefaults()
	for _, tc := range []struct {
		stream, auth string
		status       int
	}{{"ok", "Bearer k", 0}, {"no", "Bearer k", 403}, {"slow", "Bearer k", 503}, {"ok", "Bearer x", 401}} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header.Set("Authorization", tc.auth)
		r.Header.Set("User-Agent", "ua")
		err := e.AuthorizePost(r, tc.stream)
		got := 0
		if err != nil {
			got = Problem(err).Status
		}
		if got != tc.status || (got == 503) != (err != nil && Problem(err).Header.Get("Retry-After") != "") {
			t.Errorf("%s %q: %v, want %d", tc.stream, tc.auth, err, tc.status)
		}
	}
	if len(asked) != 3 || asked[0] != (AdmitRequest{Action: ActionWatch, Stream: "ok", Token: "k", RemoteAddr: "192.0.2.1:1234", UserAgent: "ua"}) {
		t.Fatalf("hook asked %+v", asked)
	}
}
