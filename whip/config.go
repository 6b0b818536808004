package whip

import (
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/wish"
)

// Config is what the WHIP side is given by main.
type Config struct {
	API      *webrtc.API
	Registry *stream.Registry
	// Endpoint is the HTTP side shared with WHEP; its Keys are the publish keys.
	wish.Endpoint
	// KeyframeInterval is the least time between two PLIs sent to a publisher (default 500 ms).
	KeyframeInterval time.Duration
	// NoReplace makes a second publisher get 409 instead of replacing the live one (WHIP-06).
	NoReplace bool
	// Leases, if set, makes every publisher take its stream's cluster lease (lease.go); nil on a
	// single node.
	Leases Leaser
}

func (c Config) withDefaults() Config {
	c.Endpoint = c.Endpoint.WithDefaults()
	if c.KeyframeInterval <= 0 {
		c.KeyframeInterval = 500 * time.Millisecond
	}
	return c
}
