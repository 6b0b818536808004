package wish

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzBearerToken feeds arbitrary Authorization headers. Checked: no panic; a token is returned
// for the Bearer scheme (any case), or for a bare key with no scheme and no spaces (Eyevinn's
// player sends the key verbatim, COMMON-16); it has no surrounding spaces and is part of the
// header; another scheme (Basic …) yields none; TokenEqual is reflexive and tells a token from any
// other. Seeds:
// testdata/fuzz/FuzzBearerToken plus those below.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"", "Bearer abc", "bearer  abc ", "BEARER", "Bearer ", "Basic dXNlcjpwYXNz", "Bearerabc", "Bearer a b", "Bearer \x00"} {
		f.Add(s, "abc")
	}
	f.Fuzz(func(t *testing.T, header, key string) {
		r := &http.Request{Header: http.Header{"Authorization": {header}}}
		tok := BearerToken(r)
		if tok != "" {
			h := strings.TrimSpace(header)
			bearer := len(h) >= 7 && strings.EqualFold(h[:7], "bearer ")
			if !bearer && tok != h {
				t.Fatalf("token %q from a non-Bearer header %q", tok, header)
			}
			if tok != strings.TrimSpace(tok) || !strings.Contains(header, tok) {
				t.Fatalf("token %q from %q", tok, header)
			}
		}
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(header)), "basic ") && tok != "" {
			t.Fatalf("token %q from a Basic header", tok)
		}
		if !TokenEqual(tok, tok) || !TokenEqual(key, key) {
			t.Fatal("TokenEqual is not reflexive")
		}
		if TokenEqual(tok, key) != (tok == key) {
			t.Fatalf("TokenEqual(%q, %q) disagrees with ==", tok, key)
		}
	})
}
