package rtc

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/webrtc/v4"
)

// APIConfig is what NewAPI needs to build the pion API. main builds the muxes from the configured
// ports; tests build them on 127.0.0.1 sockets.
type APIConfig struct {
	// UDPMux carries every PeerConnection's ICE/DTLS/SRTP over one UDP port. Required.
	UDPMux ice.UDPMux
	// TCPMux, if set, adds ICE-TCP passive candidates on one TCP port as a fallback.
	TCPMux ice.TCPMux
	// NAT1To1IPs are public addresses announced as host candidates (cloud VMs behind 1:1 NAT).
	// ffmpeg uses only the first UDP host candidate, so these replace the private ones.
	NAT1To1IPs []string
	// IncludeLoopback announces 127.0.0.1 candidates, so a browser on the same machine connects.
	IncludeLoopback bool
	// DisconnectedTimeout and FailedTimeout bound how long a silent peer is kept (consent
	// freshness, RFC 7675). Zero means 5 s and 15 s.
	DisconnectedTimeout, FailedTimeout time.Duration
	// Viewers builds the API for WHEP sessions, which only send media: they get only the
	// interceptor a sender needs (RTCP sender reports), and their data channels are detached,
	// so the viewer reads them itself with a small buffer (pion's own read loop holds 64 KiB per
	// channel). See viewerInterceptors.
	Viewers bool
	// Estimators, with Viewers, adds send-side bandwidth estimation: transport-cc stamping and
	// feedback, and pion's GCC per PeerConnection, whose estimator Estimators.Take returns. It
	// costs per-packet work (stamping, GCC's record of each packet sent), so wisp builds a second
	// viewer API with it for viewers of simulcast streams only (whep.Config.SimulcastAPI).
	Estimators *Estimators
	// Logger receives pion's logs: errors at Warn (they are mostly a peer's fault), everything
	// else at Debug. Nil keeps pion's default (errors to stderr).
	Logger *slog.Logger
}

// NewAPI builds the pion API shared by all sessions: pion's default codecs (Opus, VP8, VP9, H.264
// in several profiles, H.265, AV1), the interceptors of interceptors(), one UDP
// (and optionally TCP) port for all media, and mDNS off (".local" candidates are discarded, as
// RFC 9725 §4.3.2 allows).
func NewAPI(cfg APIConfig) (*webrtc.API, error) {
	if cfg.UDPMux == nil {
		return nil, fmt.Errorf("new api: a UDP mux is required")
	}
	media := &webrtc.MediaEngine{}
	if err := media.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("new api: register codecs: %w", err)
	}
	build := interceptors
	if cfg.Viewers {
		build = viewerInterceptors
	}
	registry, err := build(media)
	if err != nil {
		return nil, fmt.Errorf("new api: %w", err)
	}
	if cfg.Viewers && cfg.Estimators != nil {
		if err := addEstimation(media, registry, cfg.Estimators); err != nil {
			return nil, fmt.Errorf("new api: %w", err)
		}
	}

	var se webrtc.SettingEngine
	se.SetICEUDPMux(cfg.UDPMux)
	networks := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if cfg.TCPMux != nil {
		se.SetICETCPMux(cfg.TCPMux)
		networks = append(networks, webrtc.NetworkTypeTCP4)
	}
	se.SetNetworkTypes(networks)
	if len(cfg.NAT1To1IPs) > 0 {
		se.SetNAT1To1IPs(cfg.NAT1To1IPs, webrtc.ICECandidateTypeHost)
	}
	se.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	disconnected, failed := cfg.DisconnectedTimeout, cfg.FailedTimeout
	if disconnected <= 0 {
		disconnected = 5 * time.Second
	}
	if failed <= 0 {
		failed = 15 * time.Second
	}
	se.SetICETimeouts(disconnected, failed, 2*time.Second)
	if cfg.Viewers {
		se.DetachDataChannels()
	}
	if cfg.Logger != nil {
		se.LoggerFactory = newPionLogs(cfg.Logger)
	}

	return webrtc.NewAPI(
		webrtc.WithMediaEngine(media),
		webrtc.WithInterceptorRegistry(registry),
		webrtc.WithSettingEngine(se),
	), nil
}

// interceptors registers what each publisher's PeerConnection (one that only receives media)
// runs on its packets:
//   - the NACK generator, so packets a publisher's path loses are asked for again;
//   - RTCP receiver reports;
//   - TWCC feedback (browsers adapt their bitrate to it) and the simulcast header extensions.
//
// Deliberately absent: RTCP sender reports, which describe media sent and so would only idle, with
// a goroutine and a ticker per publisher (viewers get them: viewerInterceptors). pion's NACK
// responder, which keeps a private copy of every packet sent to every viewer (about 1.5 MB per
// viewer); viewers' NACKs are answered from each Track's shared ring instead (Track.HandleNACK).
// And the stats interceptor, which costs per-packet work for getStats, which wisp never calls.
func interceptors(media *webrtc.MediaEngine) (*interceptor.Registry, error) {
	registry := &interceptor.Registry{}
	generator, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return nil, fmt.Errorf("nack generator: %w", err)
	}
	media.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
	media.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	registry.Add(generator)
	receiver, err := report.NewReceiverInterceptor()
	if err != nil {
		return nil, fmt.Errorf("receiver reports: %w", err)
	}
	registry.Add(receiver)
	if err := webrtc.ConfigureSimulcastExtensionHeaders(media); err != nil {
		return nil, fmt.Errorf("simulcast extensions: %w", err)
	}
	if err := webrtc.ConfigureTWCCSender(media, registry); err != nil {
		return nil, fmt.Errorf("twcc: %w", err)
	}
	return registry, nil
}

// viewerInterceptors registers what a WHEP session needs: RTCP sender reports (players use them
// to synchronise audio and video), and the NACK and PLI feedback a player may send (answered by
// the Track's ring and the keyframe requester). A viewer sends no media to wisp, so the NACK
// generator, receiver reports and TWCC feedback of interceptors() would only idle, each with a
// goroutine per session.
func viewerInterceptors(media *webrtc.MediaEngine) (*interceptor.Registry, error) {
	registry := &interceptor.Registry{}
	media.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
	media.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	sender, err := report.NewSenderInterceptor()
	if err != nil {
		return nil, fmt.Errorf("sender reports: %w", err)
	}
	registry.Add(sender)
	if err := webrtc.ConfigureSimulcastExtensionHeaders(media); err != nil {
		return nil, fmt.Errorf("simulcast extensions: %w", err)
	}
	return registry, nil
}
