package whip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/datarelay"
	"github.com/wisp-media/wisp/rtc"
	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/wish"
)

// Publisher is one WHIP session: a PeerConnection receiving a publisher's media and data into a
// stream.Stream. Its lifetime is a rtc.Peer's: one run goroutine, one teardown (DELETE, ICE
// failure, a replacing publisher, shutdown, never connecting), Close = cancel + wait.
type Publisher struct {
	*rtc.Peer
	*wish.ICEState // ETag, trickle and ICE restart (COMMON-21..26)

	// set at construction
	id     string
	stream *stream.Stream
	pc     *webrtc.PeerConnection
	log    *slog.Logger
	cfg    Config
	lease  Lease // the stream's cluster lease; nil on a single node

	// written by the video readers and the chooser, read by the keyframe loop
	videoSSRC atomic.Uint32 // SSRC of the video layer viewers follow, for PLIs
	layers    layers        // the video layers and which one viewers follow (simulcast.go)
}

// ID is the session id, the last segment of the session URL.
func (p *Publisher) ID() string { return p.id }

// StreamName is the name of the stream the session publishes to.
func (p *Publisher) StreamName() string { return p.stream.Name() }

// Stream is the stream the session publishes to.
func (p *Publisher) Stream() *stream.Stream { return p.stream }

// publish negotiates offer on a new PeerConnection for st, makes the session st's publisher
// (closing the one it replaces) and starts it. onEnd runs once when the session ends, after it
// released the stream. serverCtx bounds the session's life; ctx bounds negotiation only.
// remote is the client's HTTP address, for the session's log lines.
func publish(ctx, serverCtx context.Context, cfg Config, st *stream.Stream, offer, remote string, onEnd func(*Publisher)) (*Publisher, string, error) {
	peer, err := rtc.NewPeer(cfg.API, serverCtx)
	if err != nil {
		return nil, "", err
	}
	id := wish.NewID()
	log := cfg.Logger.With("stream", st.Name(), "session", id, "kind", "whip", "remote", remote)
	p := &Publisher{Peer: peer, ICEState: wish.NewICEState(rtc.NewICE(peer.PC()), log),
		id: id, stream: st, pc: peer.PC(), cfg: cfg, log: log}
	p.pc.OnTrack(p.onTrack)
	p.pc.OnDataChannel(p.onDataChannel)

	answer, err := p.negotiate(ctx, offer)
	if err != nil {
		peer.Abort()
		return nil, "", err
	}
	if cfg.Leases != nil {
		if err := p.takeLease(ctx); err != nil {
			peer.Abort()
			return nil, "", err
		}
	}
	old, err := st.SetPublisher(p, !cfg.NoReplace || p.yielding(st))
	if err != nil {
		p.stopLease()
		peer.Abort()
		return nil, "", err
	}
	if old != nil {
		p.log.Info("replacing publisher")
		_ = wish.CloseBecause(old, rtc.ReasonReplaced)
	}
	p.Go(p.keyframes)
	if p.lease != nil {
		go p.watchLease() // not the session's own: it closes the session, which waits for those
	}
	peer.Run(cfg.ConnectTimeout, rtc.PeerHooks{
		Log: log,
		Ended: func() {
			p.stream.ClearPublisher(p)
			p.stopLease()
			if onEnd != nil {
				onEnd(p)
			}
		},
	})
	return p, answer, nil
}

func (p *Publisher) negotiate(ctx context.Context, offer string) (string, error) {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %w", rtc.ErrBadOffer, err)
	}
	for _, tr := range p.pc.GetTransceivers() {
		if tr.Kind() != webrtc.RTPCodecTypeAudio && tr.Kind() != webrtc.RTPCodecTypeVideo {
			continue
		}
		if len(tr.Receiver().GetParameters().Codecs) == 0 {
			// WHIP-02: no partially successful answers.
			return "", fmt.Errorf("%w: no supported %s codec", rtc.ErrUnsupportedOffer, tr.Kind())
		}
	}
	answer, err := rtc.Answer(ctx, p.pc)
	if err != nil {
		return "", fmt.Errorf("negotiate: %w", err)
	}
	return answer, nil
}

func (p *Publisher) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	p.Go(func() { drainRTCP(recv, remote.RID()) })
	feed, err := p.stream.NewFeed(stream.FeedConfig{Kind: remote.Kind(), RID: remote.RID(),
		SSRC: uint32(remote.SSRC()), Codec: remote.Codec()})
	if err != nil {
		p.log.Debug("track not forwarded", "kind", remote.Kind().String(), "err", err)
		p.Go(func() { p.read(remote, nil, nil) })
		return
	}
	var l *layer
	if remote.Kind() == webrtc.RTPCodecTypeVideo {
		l = &layer{rid: remote.RID(), ssrc: uint32(remote.SSRC()), feed: feed}
		if p.layers.add(l) {
			p.Go(p.chooseLayers) // a simulcast set: see simulcast.go
		}
	}
	p.Go(func() { p.read(remote, feed, l) })
}

// maxReadFailures is how many reads of a track in a row may fail before its reader gives up.
const maxReadFailures = 100

// read writes one remote track into its Feed until the track ends (every layer of a simulcast
// set has its own; which one viewers follow is the chooser's business, simulcast.go). feed is
// nil for a track the stream does not carry: it is drained. The Feed strips header extensions
// (ids are negotiated per PeerConnection).
func (p *Publisher) read(remote *webrtc.TrackRemote, feed *stream.Feed, l *layer) {
	var in stream.Input = feed
	if feed != nil {
		defer in.Close()
		if l == nil {
			p.follow(feed) // audio: viewers follow it at once
		}
	}
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	arrived := false
	for failed := 0; ; {
		n, _, err := remote.Read(buf)
		if err != nil {
			// A packet pion cannot match to a codec or parse must not end the stream for every
			// viewer: only the end of the track does, or a run of failures that says it is gone.
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed) ||
				p.Context().Err() != nil || failed >= maxReadFailures {
				return
			}
			failed++
			p.log.Debug("track read", "kind", remote.Kind().String(), "err", err)
			continue
		}
		failed = 0
		if feed == nil {
			continue
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		if l != nil {
			n := len(pkt.Payload)
			if !l.newer(pkt.SequenceNumber) {
				n = 0 // a copy (RTX padding) or a late repair: not counted in the layer's rate
			}
			l.received(n, time.Now())
			if !arrived {
				arrived = true
				p.arrived(l)
			}
		}
		if p.lease != nil && !p.lease.Valid() {
			continue // fenced: the stream may be another node's now (lease.go)
		}
		_ = in.WriteRTP(&pkt) // fails only once the Feed is closed, as the read loop ends
	}
}

// arrived handles the first packet of a video layer: the first layer to arrive is followed at
// once, so viewers start without delay, and its publisher is asked for a keyframe (pictures
// resume at once after a publisher restart).
func (p *Publisher) arrived(l *layer) {
	if !p.layers.arrived(l) {
		return
	}
	p.videoSSRC.Store(l.ssrc)
	if p.follow(l.feed) {
		p.stream.RequestKeyframe()
	}
	p.log.Info("track", "kind", "video", "codec", l.feed.Codec(), "rid", l.rid)
}

// follow makes viewers follow f unless another publisher has replaced this one.
func (p *Publisher) follow(f *stream.Feed) bool {
	if !p.stream.Follow(p, f) {
		return false
	}
	if f.Kind() == webrtc.RTPCodecTypeAudio {
		p.log.Info("track", "kind", "audio", "codec", f.Codec())
	}
	return true
}

// chooseLayers runs while the session has several video layers: every layerWindow it re-chooses
// the layer viewers follow (they switch at its next keyframe) and asks that layer for the
// keyframe while they wait.
func (p *Publisher) chooseLayers() {
	tick := time.NewTicker(layerWindow)
	defer tick.Stop()
	for {
		select {
		case <-p.Context().Done():
			return
		case now := <-tick.C:
			next, pli := p.layers.choose(now, layerWindow)
			if next != nil && p.follow(next.feed) {
				p.videoSSRC.Store(next.ssrc)
				p.log.Info("simulcast layer", "rid", next.rid)
			}
			if pli != 0 {
				if err := p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: pli}}); err != nil {
					p.log.Debug("send PLI", "err", err)
				}
			}
		}
	}
}

// keyframes turns the stream's coalesced keyframe requests into PLIs, at most one round per
// KeyframeInterval (one PLI per layer asked for): viewers joining together cause one PLI, never a
// storm.
func (p *Publisher) keyframes() {
	var last time.Time
	for {
		select {
		case <-p.Context().Done():
			return
		case <-p.stream.KeyframeRequests():
		}
		if wait := p.cfg.KeyframeInterval - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-p.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		// The followed layer's, and each layer a viewer following it asked for (a pinned layer,
		// a pull's layer section).
		ssrcs := p.stream.KeyframeSSRCs(p.videoSSRC.Load())
		if len(ssrcs) == 0 {
			continue
		}
		last = time.Now()
		if err := p.pc.WriteRTCP(pliFor(ssrcs)); err != nil {
			p.log.Debug("send PLI", "err", err)
		}
	}
}

// pliFor makes one PLI for each SSRC.
func pliFor(ssrcs []uint32) []rtcp.Packet {
	pkts := make([]rtcp.Packet, len(ssrcs))
	for i, ssrc := range ssrcs {
		pkts[i] = &rtcp.PictureLossIndication{MediaSSRC: ssrc}
	}
	return pkts
}

func (p *Publisher) onDataChannel(dc *webrtc.DataChannel) {
	relay := p.stream.Relay()
	label := dc.Label()
	p.log.Info("data channel", "label", label)
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		if p.lease != nil && !p.lease.Valid() {
			return // fenced, as the media
		}
		// Publish never blocks: pion's SCTP loop is never held up by a viewer.
		if err := relay.Publish(datarelay.Message{Label: label, Data: m.Data, Text: m.IsString}); err != nil {
			p.log.Debug("relay publish", "err", err)
		}
	})
}

// drainRTCP reads one remote track's RTCP so the interceptors see it (sender reports feed
// receiver reports); it ends when the receiver is stopped. A simulcast layer's RTCP is read by
// its RID.
func drainRTCP(r *webrtc.RTPReceiver, rid string) {
	buf := make([]byte, 1500)
	for {
		var err error
		if rid == "" {
			_, _, err = r.Read(buf)
		} else {
			_, _, err = r.ReadSimulcast(buf, rid)
		}
		if err != nil {
			return
		}
	}
}
