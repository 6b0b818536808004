package client

import (
	"fmt"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/transport/v4"
	"github.com/pion/webrtc/v4"
)

// NewLoopbackAPI returns a pion API with the default codecs and interceptors whose ICE agent
// gathers IPv4 UDP host candidates only, including loopback, with mDNS off. That lets a client
// reach a server on 127.0.0.1 and keeps gathering instant. Publish and View build one per session
// when their options carry no API.
func NewLoopbackAPI() (*webrtc.API, error) {
	return newAPI(nil)
}

// newAPI builds the loopback API; a non-nil n replaces the socket layer (see cutNet).
func newAPI(n transport.Net) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("register codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("register interceptors: %w", err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if n != nil {
		se.SetNet(n)
	}
	return webrtc.NewAPI(
		webrtc.WithMediaEngine(m),
		webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se),
	), nil
}
