package wish

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// BearerToken returns the token of an "Authorization: Bearer <token>" header (RFC 6750 §2.1; the
// scheme is case-insensitive), or "" if there is none. A bare value with no scheme is taken as the
// token too: Eyevinn's webrtc-player sends the key verbatim (COMMON-16 INTEROP).
func BearerToken(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	const scheme = "bearer "
	if len(h) >= len(scheme) && strings.EqualFold(h[:len(scheme)], scheme) {
		return strings.TrimSpace(h[len(scheme):])
	}
	if h != "" && !strings.ContainsAny(h, " \t") && !strings.EqualFold(h, "bearer") {
		return h
	}
	return ""
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

// Forbidden is the 403 for a valid token that grants nothing here (COMMON-16).
func Forbidden(detail string) *Error {
	return Errorf(http.StatusForbidden, "Forbidden", "%s", detail)
}

// Keys decides who may publish or watch a stream with a bearer token.
type Keys struct {
	// Key returns the key of a stream and whether one is configured. nil, or false for a stream,
	// means the stream is open: any Authorization header is then ignored (Eyevinn sends
	// "Bearer undefined").
	Key func(stream string) (string, bool)
	// Known reports whether a token is the key of some stream (of the same side). A known token
	// presented for another stream is 403 rather than 401. nil: never.
	Known func(token string) bool
}

// Authorize checks r's token for stream: nil when allowed, else 401 + WWW-Authenticate for a
// missing or unknown token, 403 for a valid key of another stream (COMMON-16).
func (k Keys) Authorize(r *http.Request, stream string) error {
	if k.Key == nil {
		return nil
	}
	key, ok := k.Key(stream)
	if !ok {
		return nil
	}
	got := BearerToken(r)
	switch {
	case got != "" && TokenEqual(got, key):
		return nil
	case got != "" && k.Known != nil && k.Known(got):
		return Forbidden("this key is not valid for stream " + stream)
	}
	return Unauthorized("a valid key for stream " + stream + " is required")
}
