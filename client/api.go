package client

import (
	"fmt"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/transport/v4"
	"github.com/pion/webrtc/v4"
)

// APIOptions tunes NewAPI. The zero value gathers IPv4 UDP host candidates on every interface,
// loopback included.
type APIOptions struct {
	// Net replaces the operating system's socket layer (fault injection, network namespaces).
	Net transport.Net
	// NoLoopback stops gathering loopback candidates (when the path under test is another link).
	NoLoopback bool
	// LoopbackOnly gathers loopback candidates only: a server on 127.0.0.1 needs no other, and an
	// address that comes and goes on another interface (a test's veth pair) can then never be
	// the path a session depends on.
	LoopbackOnly bool
	// Disconnected, Failed and KeepAlive are the ICE timeouts, applied when any is set (set all
	// three then); all zero keeps pion's.
	Disconnected, Failed, KeepAlive time.Duration
}

// NewLoopbackAPI returns a pion API with the default codecs and interceptors whose ICE agent
// gathers IPv4 UDP host candidates on loopback only, with mDNS off. That lets a client reach a
// server on 127.0.0.1, keeps gathering instant, and keeps addresses that come and go on other
// interfaces out of its sessions. Publish and View build one like it (on a socket layer Kill can
// cut) when their options carry no API and the endpoint is on loopback; for any other endpoint
// they gather on every interface.
func NewLoopbackAPI() (*webrtc.API, error) { return NewAPI(APIOptions{LoopbackOnly: true}) }

// NewAPI returns a pion API with the default codecs and interceptors, IPv4 UDP host candidates
// and mDNS off, changed by o.
func NewAPI(o APIOptions) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("register codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("register interceptors: %w", err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(!o.NoLoopback)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if o.LoopbackOnly {
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	if o.Net != nil {
		se.SetNet(o.Net)
	}
	if o.Disconnected > 0 || o.Failed > 0 || o.KeepAlive > 0 {
		se.SetICETimeouts(o.Disconnected, o.Failed, o.KeepAlive)
	}
	return webrtc.NewAPI(
		webrtc.WithMediaEngine(m),
		webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se),
	), nil
}
