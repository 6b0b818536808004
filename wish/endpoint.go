package wish

import (
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Endpoint is the HTTP side of a WHIP or WHEP endpoint, the same for both: who may use it, what
// its responses announce, and how long and how much it takes. Zero durations and sizes take the
// defaults noted.
type Endpoint struct {
	Logger *slog.Logger
	// Keys decide who may POST (COMMON-16); the zero value leaves the endpoint open.
	Keys Keys
	// Admit, if set, is asked about every POST the Keys allow (the auth webhook).
	Admit Admitter
	// Events, if set, hears of sessions starting and ending (the event webhook).
	Events Notifier
	// ICEServers are announced in Link headers on the 201 and on an authorised non-preflight
	// OPTIONS (COMMON-14, COMMON-15).
	ICEServers ICEServers
	// Patch is the trickle / ICE-restart policy on session URLs (COMMON-20 to COMMON-27).
	Patch PatchPolicy
	// BaseURL, if set, is the public scheme://host used in Location headers.
	BaseURL string
	// NegotiateTimeout bounds a POST's offer/answer exchange, gathering included (default 5 s,
	// under OBS's 8 s request timeout).
	NegotiateTimeout time.Duration
	// ConnectTimeout reaps a session whose connection does not come up (default 15 s; COMMON-19).
	ConnectTimeout time.Duration
	// Observer, if set, is told when each session starts and ends (metrics).
	Observer Observer
	// MaxBody caps an SDP body (default DefaultMaxBody; PATCH bodies too unless Patch sets one).
	MaxBody int64
}

// WithDefaults returns e with every unset field filled in.
func (e Endpoint) WithDefaults() Endpoint {
	if e.Logger == nil {
		e.Logger = slog.New(slog.DiscardHandler)
	}
	if e.NegotiateTimeout <= 0 {
		e.NegotiateTimeout = 5 * time.Second
	}
	if e.ConnectTimeout <= 0 {
		e.ConnectTimeout = 15 * time.Second
	}
	if e.MaxBody <= 0 {
		e.MaxBody = DefaultMaxBody
	}
	if e.Patch.MaxBody <= 0 {
		e.Patch.MaxBody = e.MaxBody
	}
	return e
}

// ServeOptions answers a non-preflight OPTIONS (preflights are answered by the CORS layer): 200
// with Accept-Post (COMMON-13), Accept-Patch and allow; on the endpoint, to a caller authorised
// for stream, also the ice-server Links (COMMON-14).
func (e Endpoint) ServeOptions(w http.ResponseWriter, r *http.Request, stream, allow string) {
	h := w.Header()
	OptionsHeaders(h, allow)
	if allow == AllowEndpoint && e.Keys.Authorize(r, stream) == nil {
		e.ICEFor(r).AddLinks(h)
	}
	w.WriteHeader(http.StatusOK)
}

// ICEFor is the ICE servers to announce to r's client: the configured ones and the built-in TURN
// server at the host the client reached wisp by (the public base URL's, if one is set).
func (e Endpoint) ICEFor(r *http.Request) ICEServers {
	if e.ICEServers.Builtin == nil {
		return e.ICEServers
	}
	u, err := url.Parse(BaseURL(r, e.BaseURL))
	if err != nil {
		return e.ICEServers
	}
	return e.ICEServers.ForHost(u.Hostname())
}
