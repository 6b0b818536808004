package client

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/pion/webrtc/v4"
)

// streamID is the msid stream of every published track: WHIP allows one MediaStream
// (RFC 9725 §4.4.2), so audio and video share it.
const streamID = "wisp-client"

// PublishOptions configures Publish.
type PublishOptions struct {
	Video *Source // sent on a sendonly video transceiver; nil for none
	Audio *Source // sent on a sendonly audio transceiver; nil for none
	// DataChannel, if not empty, creates a data channel with this label before the offer.
	DataChannel string
	Token       string // sent as "Authorization: Bearer <Token>" when not empty (RFC 9725 §4.7.1)
	Loop        bool   // repeat the media until Close; otherwise send it once
	// HonorPLI makes a PLI or FIR from the server skip the video ahead to the next keyframe
	// sample, as a live encoder would produce one. Requests are always counted.
	HonorPLI   bool
	API        *webrtc.API  // nil: a private API whose sockets Kill can cut (loopback-only for a loopback endpoint)
	HTTPClient *http.Client // nil: http.DefaultClient
}

// Publisher is one WHIP session (RFC 9725): a send-only PeerConnection pacing Sources in real
// time, plus an optional data channel.
type Publisher struct {
	// set at construction
	s        *session
	opt      PublishOptions
	dc       *outbox       // nil without PublishOptions.DataChannel
	keyframe chan struct{} // cap 1: coalesced keyframe requests, RTCP reader → video pacer
	finished chan struct{} // closed when every source was sent once (never with Loop)
	pending  atomic.Int32  // pacers that have not finished their pass

	// counters, written by the pacers and RTCP readers
	videoSamples, audioSamples, writeErrors atomic.Int64
	pli, fir, nack, rr                      atomic.Int64
}

// Publish negotiates a WHIP session with endpoint (RFC 9725 §4.2): it adds a sendonly
// transceiver per Source (one TrackLocalStaticSample each, one stream id), creates the data
// channel, waits for ICE gathering to complete, POSTs the offer, requires 201 with a Location and
// applies the answer. Pacing starts once the PeerConnection is connected. ctx bounds the
// negotiation only; the session lives until Close or Kill.
func Publish(ctx context.Context, endpoint string, opt PublishOptions) (*Publisher, error) {
	if opt.Video == nil && opt.Audio == nil && opt.DataChannel == "" {
		return nil, fmt.Errorf("publish: %w", ErrNoMedia)
	}
	s, err := newSession(opt.API, webrtc.Configuration{}, opt.HTTPClient, opt.Token, endpoint)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	p := &Publisher{s: s, opt: opt, keyframe: make(chan struct{}, 1), finished: make(chan struct{})}
	tracks, err := p.setup()
	if err != nil {
		_ = s.teardown(false)
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := s.negotiate(ctx, endpoint); err != nil {
		_ = s.teardown(true)
		return nil, fmt.Errorf("publish %s: %w", endpoint, err)
	}
	p.start(tracks)
	return p, nil
}

// feed pairs a Source with the track it is written to.
type feed struct {
	src   *Source
	track *webrtc.TrackLocalStaticSample
}

func (p *Publisher) setup() ([]feed, error) {
	var out []feed
	for _, m := range []struct {
		src  *Source
		kind webrtc.RTPCodecType
	}{{p.opt.Video, webrtc.RTPCodecTypeVideo}, {p.opt.Audio, webrtc.RTPCodecTypeAudio}} {
		if m.src == nil {
			continue
		}
		if m.src.Kind() != m.kind {
			return nil, fmt.Errorf("%s source holds %s: %w", m.kind, m.src.Codec().MimeType, ErrMedia)
		}
		track, err := webrtc.NewTrackLocalStaticSample(m.src.Codec(), m.kind.String(), streamID)
		if err != nil {
			return nil, fmt.Errorf("new %s track: %w", m.kind, err)
		}
		send := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}
		tr, err := p.s.pc.AddTransceiverFromTrack(track, send)
		if err != nil {
			return nil, fmt.Errorf("add %s transceiver: %w", m.kind, err)
		}
		video := m.kind == webrtc.RTPCodecTypeVideo
		p.s.spawn(func() { p.readRTCP(tr.Sender(), video) })
		out = append(out, feed{src: m.src, track: track})
	}
	if p.opt.DataChannel != "" {
		o, err := newOutbox(p.s.pc, p.opt.DataChannel)
		if err != nil {
			return nil, err
		}
		p.dc = o
	}
	return out, nil
}

// Send sends a binary message on the data channel. It does not wait: before DataOpen is closed
// it returns ErrNotOpen, and ErrNoDataChannel when the Publisher has none.
func (p *Publisher) Send(data []byte) error { return p.dc.send(data, false) }

// SendText sends a text message on the data channel, like Send.
func (p *Publisher) SendText(s string) error { return p.dc.send([]byte(s), true) }

// DataOpen is closed when the data channel is open; nil without one.
func (p *Publisher) DataOpen() <-chan struct{} {
	if p.dc == nil {
		return nil
	}
	return p.dc.open
}

// Finished is closed when every Source has been sent through once (at once when there is none).
// With Loop and a Source it never closes.
func (p *Publisher) Finished() <-chan struct{} { return p.finished }

// KeyframeRequests returns how many PLI and FIR the server has sent.
func (p *Publisher) KeyframeRequests() int64 { return p.pli.Load() + p.fir.Load() }

// Stats returns a snapshot of the counters.
func (p *Publisher) Stats() PublisherStats {
	return PublisherStats{
		VideoSamples:    p.videoSamples.Load(),
		AudioSamples:    p.audioSamples.Load(),
		WriteErrors:     p.writeErrors.Load(),
		PLI:             p.pli.Load(),
		FIR:             p.fir.Load(),
		NACK:            p.nack.Load(),
		ReceiverReports: p.rr.Load(),
	}
}

// Location returns the absolute session URL from the 201.
func (p *Publisher) Location() string { return p.s.res.location }

// ETag returns the ETag of the 201, quotes included, or "".
func (p *Publisher) ETag() string { return p.s.res.etag }

// Connected is closed when the PeerConnection first reaches the connected state.
func (p *Publisher) Connected() <-chan struct{} { return p.s.connected }

// Ended is closed when the PeerConnection fails or closes, including after Close or Kill.
func (p *Publisher) Ended() <-chan struct{} { return p.s.ended }

// State returns the PeerConnection's current state.
func (p *Publisher) State() webrtc.PeerConnectionState { return p.s.pc.ConnectionState() }

// Close sends DELETE to the Location (RFC 9725 §4.2), closes the PeerConnection and waits for
// every goroutine of the Publisher. It is idempotent; later calls return the first result. The
// DELETE error, if any, is returned but does not stop the teardown.
func (p *Publisher) Close() error { return p.s.teardown(true) }

// Kill ends the session without DELETE, as kill -9 or a network loss would. When the Publisher
// owns its API (PublishOptions.API nil), its sockets go silent first, so the server gets no
// DTLS close_notify either and must notice through ICE consent expiry (RFC 7675). With a caller's
// API pion's close still sends close_notify. Kill after Close, or Close after Kill, does nothing.
func (p *Publisher) Kill() { _ = p.s.teardown(false) }
