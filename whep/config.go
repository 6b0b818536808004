package whep

import (
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/rtc"
	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/wish"
)

// Config is what the WHEP side is given by main.
type Config struct {
	// API builds the viewers' PeerConnections; build it with rtc.APIConfig.Viewers, which
	// trims what a send-only session runs (any API works, at a higher cost per viewer).
	API *webrtc.API
	// SimulcastAPI, if set, builds the PeerConnections of viewers of a stream whose video has more
	// than one layer when they arrive: an API with rtc.APIConfig.Estimators, whose per-viewer
	// send-side estimate (Estimators) drives each viewer's automatic layer choice (viewerauto.go).
	// Viewers of single-layer streams keep API and pay nothing per packet for it.
	SimulcastAPI *webrtc.API
	// PullAPI, if set, builds the PeerConnections of pulls by other nodes: an API with short ICE
	// timeouts, so the pull of a node that dies ends within seconds (a viewer's waits out
	// consent expiry); nil uses API.
	PullAPI    *webrtc.API
	Estimators *rtc.Estimators
	Registry   *stream.Registry
	// Endpoint is the HTTP side shared with WHIP; its Keys are the watch keys.
	wish.Endpoint
	// RequirePublisher answers a viewer of a stream with no live publisher 409 + Retry-After
	// (WHEP-04) instead of accepting it to wait for the publisher.
	RequirePublisher bool
	// Cluster, if set, authenticates pulls by other nodes and pulls remote streams for local
	// viewers (cluster.go); nil on a single node.
	Cluster Cluster
}

func (c Config) withDefaults() Config {
	c.Endpoint = c.Endpoint.WithDefaults()
	return c
}
