package wish

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestBearerToken(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"Bearer abc":       "abc",
		"bearer  abc ":     "abc",
		"BEARER abc":       "abc",
		"abc":              "abc", // Eyevinn webrtc-player sends the key verbatim (COMMON-16 INTEROP)
		"Basic dXNlcjpwdw": "",
		"Bearer":           "",
	} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		if in != "" {
			r.Header.Set("Authorization", in)
		}
		if got := BearerToken(r); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

// COMMON-16: no or unknown token → 401 + WWW-Authenticate: Bearer; a valid key of another stream
// → 403; open streams ignore Authorization ("Bearer undefined").
func TestKeysAuthorize(t *testing.T) {
	keys := map[string]string{"a": "ka", "b": "kb"}
	k := Keys{
		Key: func(s string) (string, bool) { v, ok := keys[s]; return v, ok },
		Known: func(tok string) bool {
			for _, v := range keys {
				if v == tok {
					return true
				}
			}
			return false
		},
	}
	for _, tc := range []struct {
		stream, auth string
		status       int
	}{
		{"a", "Bearer ka", 0},
		{"a", "", 401},
		{"a", "Bearer nope", 401},
		{"a", "Bearer kb", 403},
		{"open", "Bearer undefined", 0},
		{"open", "", 0},
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
		if got == 401 && Problem(err).Header.Get("WWW-Authenticate") == "" {
			t.Errorf("401 without WWW-Authenticate")
		}
	}
	if err := (Keys{}).Authorize(httptest.NewRequest(http.MethodPost, "/", nil), "a"); err != nil {
		t.Fatalf("no keys configured: %v", err)
	}
}
