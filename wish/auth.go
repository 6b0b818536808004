package wish

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// BearerToken returns the token of an "Authorization: Bearer <token>" header (RFC 6750 §2.1; the
// scheme is case-insensitive), or "" if there is none.
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	const scheme = "bearer "
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return ""
	}
	return strings.TrimSpace(h[len(scheme):])
}

// TokenEqual compares a presented token with the expected one in constant time.
func TokenEqual(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// Unauthorized is the 401 for a missing or wrong token, with WWW-Authenticate (COMMON-16).
func Unauthorized(detail string) *Error {
	e := Errorf(http.StatusUnauthorized, "Unauthorized", "%s", detail)
	e.Header.Set("WWW-Authenticate", `Bearer realm="wisp"`)
	return e
}
