package wish

import (
	"context"
	"errors"
	"net/http"
)

// ErrDenied is what an Admitter returns (wrapped) when the site refuses a POST: 403.
var ErrDenied = errors.New("refused by the auth webhook")

// AdmitRequest is what an Admitter is asked about one POST. Token is the bearer token as sent
// (possibly empty); it goes to the site's own backend and is never logged.
type AdmitRequest struct {
	Action     string `json:"action"` // ActionPublish or ActionWatch
	Stream     string `json:"stream"`
	Token      string `json:"token"`
	RemoteAddr string `json:"remote_addr"`
	UserAgent  string `json:"user_agent"`
}

// Admitter asks the site whether a POST may open a session (the auth webhook). Admit returns nil
// to admit, an error wrapping ErrDenied to refuse (403), and any other error when it could not
// get an answer in time (503 + Retry-After: fail closed).
type Admitter interface {
	Admit(ctx context.Context, req AdmitRequest) error
}

// AuthorizePost decides a POST on the endpoint for stream: the Keys first (static keys and signed
// tokens, COMMON-16), then the Admitter if there is one.
func (e Endpoint) AuthorizePost(r *http.Request, stream string) error {
	if err := e.Keys.Authorize(r, stream); err != nil {
		return err
	}
	if e.Admit == nil {
		return nil
	}
	err := e.Admit.Admit(r.Context(), AdmitRequest{
		Action: e.Keys.Action, Stream: stream, Token: BearerToken(r),
		RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent(),
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrDenied):
		return Forbidden(e.Keys.Action + " on stream " + stream + " refused")
	}
	e.Logger.Warn("auth webhook unavailable: refusing", "stream", stream, "action", e.Keys.Action, "err", err)
	u := Errorf(http.StatusServiceUnavailable, "Service Unavailable", "the authorisation service did not answer")
	u.Header.Set("Retry-After", "5")
	return u
}
