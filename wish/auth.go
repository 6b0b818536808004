package wish

import (
	"context"
	"crypto/subtle"
	"errors"
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

// The actions a token or an auth hook grants.
const (
	ActionPublish = "publish"
	ActionWatch   = "watch"
)

// ErrNotGranted is what a TokenVerifier returns (wrapped) for a genuine, unexpired token that does
// not grant the action on the stream: 403 rather than 401 (COMMON-16).
var ErrNotGranted = errors.New("the token does not grant this")

// TokenVerifier checks signed tokens (JWT). Verify returns nil when token is genuine, unexpired
// and grants action on stream; an error wrapping ErrNotGranted when it is genuine but grants
// something else; any other error when it is not valid at all. Errors never contain the token.
type TokenVerifier interface {
	Verify(ctx context.Context, token, action, stream string) error
}

// Keys decides who may publish or watch a stream with a bearer token: a static key of the stream
// or, when Tokens is set, a signed token granting Action on it. Either one is enough.
type Keys struct {
	// Key returns the key of a stream and whether one is configured. nil, or false for a stream,
	// means the stream has no static key; with no Tokens either it is open and any Authorization
	// header is ignored (Eyevinn sends "Bearer undefined").
	Key func(stream string) (string, bool)
	// Known reports whether a token is the key of some stream (of the same side). A known token
	// presented for another stream is 403 rather than 401. nil: never.
	Known func(token string) bool
	// Tokens, if set, verifies signed tokens; every stream then needs a key or a token.
	Tokens TokenVerifier
	// Action is what a token must grant on this side: ActionPublish or ActionWatch.
	Action string
}

// Authorize checks r's token for stream: nil when allowed, else 401 + WWW-Authenticate for a
// missing, unknown, wrongly signed or expired token, 403 for a valid key of another stream or a
// valid signed token that does not grant Action on stream (COMMON-16, RFC 6750 §3.1).
func (k Keys) Authorize(r *http.Request, stream string) error {
	key, hasKey := "", false
	if k.Key != nil {
		key, hasKey = k.Key(stream)
	}
	if !hasKey && k.Tokens == nil {
		return nil
	}
	got := BearerToken(r)
	switch {
	case got == "":
		return Unauthorized("a valid key or token for stream " + stream + " is required")
	case hasKey && TokenEqual(got, key):
		return nil
	case k.Tokens != nil && isJWT(got):
		err := k.Tokens.Verify(r.Context(), got, k.Action, stream)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrNotGranted):
			return Forbidden("the token does not grant " + k.Action + " on stream " + stream)
		}
		e := Unauthorized("invalid token: " + err.Error())
		e.Header.Set("WWW-Authenticate", `Bearer realm="wisp", error="invalid_token"`)
		return e
	case k.Known != nil && k.Known(got):
		return Forbidden("this key is not valid for stream " + stream)
	}
	return Unauthorized("a valid key or token for stream " + stream + " is required")
}

// isJWT reports whether a token has the shape of a JWS compact serialisation (three base64url
// parts), so that static keys never reach the token verifier.
func isJWT(t string) bool {
	return strings.Count(t, ".") == 2 && !strings.ContainsAny(t, " +/=")
}
