package whip

import (
	"log/slog"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/wish"
)

// Config is what the WHIP side is given by main. Zero durations take the defaults noted.
type Config struct {
	API      *webrtc.API
	Registry *stream.Registry
	Logger   *slog.Logger
	// Key returns the publish key of a stream and whether one is configured. nil, or false for a
	// stream, means publishing to it is open.
	Key func(stream string) (string, bool)
	// Known reports whether a token is a key of some stream, so that a key for another stream is
	// 403 rather than 401 (COMMON-16). nil: never.
	Known func(token string) bool
	// ICEServers are announced in Link headers on the 201 and on an authorised non-preflight
	// OPTIONS (COMMON-14, COMMON-15).
	ICEServers wish.ICEServers
	// Patch is the trickle / ICE-restart policy on session URLs (COMMON-20 to COMMON-27).
	Patch wish.PatchPolicy
	// BaseURL, if set, is the public scheme://host used in Location headers.
	BaseURL string
	// NegotiateTimeout bounds a POST's offer/answer exchange, gathering included (default 5 s,
	// under OBS's 8 s request timeout).
	NegotiateTimeout time.Duration
	// ConnectTimeout reaps a session whose connection does not come up (default 15 s; COMMON-19).
	ConnectTimeout time.Duration
	// KeyframeInterval is the least time between two PLIs sent to a publisher (default 500 ms).
	KeyframeInterval time.Duration
	// NoReplace makes a second publisher get 409 instead of replacing the live one.
	NoReplace bool
	// MaxBody caps an SDP body (default wish.DefaultMaxBody).
	MaxBody int64
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.NegotiateTimeout <= 0 {
		c.NegotiateTimeout = 5 * time.Second
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 15 * time.Second
	}
	if c.KeyframeInterval <= 0 {
		c.KeyframeInterval = 500 * time.Millisecond
	}
	if c.MaxBody <= 0 {
		c.MaxBody = wish.DefaultMaxBody
	}
	if c.Patch.MaxBody <= 0 {
		c.Patch.MaxBody = c.MaxBody
	}
	return c
}
