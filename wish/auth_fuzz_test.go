package wish

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzBearerToken feeds arbitrary Authorization headers. Checked: no panic; a token is returned
// only for the Bearer scheme (any case), has no surrounding spaces, and is what follows the
// scheme; TokenEqual is reflexive and tells a token from any other. Seeds:
// testdata/fuzz/FuzzBearerToken plus those below.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"", "Bearer abc", "bearer  abc ", "BEARER", "Bearer ", "Basic dXNlcjpwYXNz", "Bearerabc", "Bearer a b", "Bearer \x00"} {
		f.Add(s, "abc")
	}
	f.Fuzz(func(t *testing.T, header, key string) {
		r := &http.Request{Header: http.Header{"Authorization": {header}}}
		tok := BearerToken(r)
		if tok != "" {
			if len(header) < 7 || !strings.EqualFold(header[:7], "bearer ") {
				t.Fatalf("token %q from a non-Bearer header %q", tok, header)
			}
			if tok != strings.TrimSpace(tok) || !strings.Contains(header, tok) {
				t.Fatalf("token %q from %q", tok, header)
			}
		}
		if !TokenEqual(tok, tok) || !TokenEqual(key, key) {
			t.Fatal("TokenEqual is not reflexive")
		}
		if TokenEqual(tok, key) != (tok == key) {
			t.Fatalf("TokenEqual(%q, %q) disagrees with ==", tok, key)
		}
	})
}
