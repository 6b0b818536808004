package whep

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/datarelay"
	"github.com/wisp-media/wisp/layers"
	"github.com/wisp-media/wisp/rtc"
	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/wish"
)

// resendCeiling bounds every video output's NACK answers from its start
// (stream.Output.SetResendLimit): each packet at most three times, 250 ms apart, all within
// resendCeiling bits per second; a viewer's automatic layer choice then lowers the rate to its
// share of the viewer's budget. Unbounded, a player behind a full path multiplies what crosses it:
// pion's and Chromium's players NACK every missing packet again every 100 ms (seen: 24 resent
// packets a media packet to a capped Chromium viewer pinned to a layer, which decoded nothing).
const resendCeiling = 8_000_000

// Viewer is one WHEP session: a PeerConnection sending a stream.Stream's Tracks to one player and
// mirroring the publisher's data-channel messages to it. Its lifetime is a rtc.Peer's: one
// run goroutine, one teardown, Close = cancel + wait.
type Viewer struct {
	*rtc.Peer
	*wish.ICEState // ETag, trickle and ICE restart (COMMON-21..26)

	// set at construction
	id     string
	stream *stream.Stream
	pc     *webrtc.PeerConnection
	ice    *rtc.ICE
	log    *slog.Logger
	cfg    Config
	pull   bool    // a pull by another node: its PullLabel channel carries every label
	starts []start // the Tracks this viewer receives, started once it is connected
	// a pull's video sections offered, and the layer each carries when layered (pull.go); the
	// keeper's once the session is connected
	pullSections int
	pullLayers   []pullLayer

	// RTCP from the player, counted for the metrics (per RTCP packet, not per media packet)
	nacks, keyframeRequests atomic.Uint64

	// guarded by mu
	mu      sync.Mutex
	closing bool
	outputs []*stream.Output        // started; their counters stay readable after the session ends
	events  map[string]*eventStream // server-sent event streams (events.go), destroyed with the session
	subs    []*datarelay.Subscription
	// the player's layer choice (viewerlayer.go); its keeper starts with the first choice
	layerChoice layers.Choice
	layerKeeper bool
	layerWake   chan struct{} // capacity 1: wakes the keeper for a new choice

	// automatic layer choice (viewerauto.go), for viewers of simulcast streams
	auto     bool          // the stream had more than one video layer when the viewer came
	est      *rtc.Estimate // transport-cc evidence; nil without transport-cc estimation
	fbMu     sync.Mutex    // guards fb (one lock, never held across pion calls)
	fb       *layers.Feedback
	sentRate atomic.Uint64 // bits per second sent to the viewer over the last second (auto loop)
	// set by firstLayer on the run goroutine before the auto loop starts, then the loop's
	chooser *layers.Chooser
	first   *stream.Feed
}

// ID is the session id, the last segment of the session URL.
func (v *Viewer) ID() string { return v.id }

// StreamName is the name of the stream watched.
func (v *Viewer) StreamName() string { return v.stream.Name() }

// Outputs returns the viewer's started outputs (video first when both); their counters stay
// readable after the session ended.
func (v *Viewer) Outputs() []*stream.Output {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]*stream.Output(nil), v.outputs...)
}

// RTCPCounts returns how many NACK packets and keyframe requests (PLI, FIR) the player sent.
func (v *Viewer) RTCPCounts() (nacks, keyframeRequests uint64) {
	return v.nacks.Load(), v.keyframeRequests.Load()
}

// Stream is the stream watched.
func (v *Viewer) Stream() *stream.Stream { return v.stream }

// watch negotiates offer on a new PeerConnection bound to st's Tracks and starts the session.
// onEnd runs once when the session ends, after it released everything; serverCtx bounds the
// session's life, ctx bounds negotiation only.
// remote is the client's HTTP address, for the session's log lines.
func watch(ctx, serverCtx context.Context, cfg Config, st *stream.Stream, offer rtc.Offer, remote string, pull bool, onEnd func(*Viewer)) (*Viewer, string, error) {
	// A pull takes every layer itself (pull.go): no automatic choice for it.
	api, simulcast := cfg.API, !pull && cfg.SimulcastAPI != nil && len(st.Track(webrtc.RTPCodecTypeVideo).Feeds()) > 1
	switch {
	case simulcast:
		api = cfg.SimulcastAPI
	case pull && cfg.PullAPI != nil:
		api = cfg.PullAPI
	}
	peer, err := rtc.NewPeer(api, serverCtx)
	if err != nil {
		return nil, "", err
	}
	var est *rtc.Estimate
	if simulcast {
		est, _ = cfg.Estimators.Take(peer.PC())
	}
	id := wish.NewID()
	log := cfg.Logger.With("stream", st.Name(), "session", id, "kind", "whep", "remote", remote)
	ice := rtc.NewICE(peer.PC())
	v := &Viewer{Peer: peer, ICEState: wish.NewICEState(ice, log),
		id: id, stream: st, pc: peer.PC(), ice: ice, cfg: cfg, log: log, layerWake: make(chan struct{}, 1), pull: pull,
		auto: simulcast, est: est}
	if pull {
		v.log = log.With("pull", true)
	}
	v.pc.OnDataChannel(v.onDataChannel)

	answer, err := v.negotiate(ctx, offer)
	if err != nil {
		peer.Abort()
		return nil, "", err
	}
	st.AddViewer()
	peer.Run(cfg.ConnectTimeout, rtc.PeerHooks{
		Log: log,
		// Only now is SRTP ready: pion drops what a Track writes before (see stream.Track.Start).
		Connected: func() {
			for _, st := range v.starts {
				var first *stream.Feed // a simulcast viewer's first layer is its own (viewerauto.go)
				switch {
				case st.only != nil:
					first = st.only // a layered pull's section (pull.go)
				case st.track.Kind() == webrtc.RTPCodecTypeVideo:
					first = v.firstLayer()
				}
				if st.track.StartOn(st.ssrc, first) {
					if o := st.track.Output(st.ssrc); o != nil {
						if st.only != nil {
							o.FollowOnly(st.only)
						}
						if st.track.Kind() == webrtc.RTPCodecTypeVideo {
							o.SetResendLimit(resendCeiling)
						}
						v.mu.Lock()
						v.outputs = append(v.outputs, o)
						v.mu.Unlock()
					}
				}
			}
			v.startAuto()
			v.startPullKeeper()
		},
		Closing: v.closeFeeds,
		Ended: func() {
			v.stream.RemoveViewer()
			if onEnd != nil {
				onEnd(v)
			}
		},
	})
	return v, answer, nil
}

// start names one of the viewer's Outputs: the Track and the SSRC pion bound it with, and for a
// layered pull's section the one Feed it carries.
type start struct {
	track *stream.Track
	ssrc  uint32
	only  *stream.Feed
}

// closeFeeds stops what feeds the viewer besides its Tracks: relay subscriptions and event streams.
func (v *Viewer) closeFeeds() {
	v.mu.Lock()
	v.closing = true
	subs, events := v.subs, v.events
	v.subs, v.events = nil, nil
	v.mu.Unlock()
	for _, es := range events {
		close(es.deleted) // WHEPX-04: event streams end with the session
	}
	for _, s := range subs {
		s.Close()
	}
}

func (v *Viewer) negotiate(ctx context.Context, offer rtc.Offer) (string, error) {
	if err := v.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		return "", fmt.Errorf("%w: %w", rtc.ErrBadOffer, err)
	}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if (kind == webrtc.RTPCodecTypeVideo && !offer.Video) || (kind == webrtc.RTPCodecTypeAudio && !offer.Audio) {
			continue
		}
		if kind == webrtc.RTPCodecTypeVideo && v.pull && offer.VideoSections > 1 {
			if layered, err := v.addPullLayers(offer.VideoSections); err != nil {
				return "", err
			} else if layered {
				continue
			}
		}
		sender, err := v.pc.AddTrack(v.stream.Track(kind))
		if err != nil {
			return "", fmt.Errorf("add %s track: %w", kind, err)
		}
		if len(sender.GetParameters().Codecs) == 0 {
			return "", fmt.Errorf("%w: no supported %s codec offered", rtc.ErrUnsupportedOffer, kind)
		}
		if enc := sender.GetParameters().Encodings; len(enc) > 0 {
			v.starts = append(v.starts, start{track: v.stream.Track(kind), ssrc: uint32(enc[0].SSRC)})
			if kind == webrtc.RTPCodecTypeVideo && v.auto {
				v.fb = layers.NewFeedback(uint32(enc[0].SSRC), layers.LossParams{})
			}
		}
		v.Go(func() { v.readRTCP(sender) })
	}
	answer, err := rtc.Answer(ctx, v.pc)
	if err != nil {
		return "", fmt.Errorf("negotiate: %w", err)
	}
	return answer, nil
}

// readRTCP drains a sender's RTCP, which the interceptors need (reports), answers NACKs from the
// Track's shared packet cache and turns PLI and FIR into keyframe requests (Chromium sends PLI,
// GStreamer FIR) for the layer the sender's Output sends.
func (v *Viewer) readRTCP(sender *webrtc.RTPSender) {
	track := trackOf(sender.Track())
	var ssrc uint32
	if enc := sender.GetParameters().Encodings; len(enc) > 0 {
		ssrc = uint32(enc[0].SSRC)
	}
	buf := make([]byte, 1500)
	for {
		n, _, err := sender.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		v.feedback(pkts)
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				v.keyframeRequests.Add(1)
				var sending *stream.Feed
				if track != nil {
					if o := track.Output(ssrc); o != nil {
						sending = o.Feed()
					}
				}
				v.stream.RequestKeyframeOf(sending)
			case *rtcp.TransportLayerNack:
				v.nacks.Add(1)
				if track != nil {
					track.HandleNACK(p)
				}
			}
		}
	}
}

// onDataChannel subscribes a viewer's data channel to the relay once it is open; messages the
// publisher sends on a channel of the same label then arrive on it in order. The API detaches
// viewers' channels (rtc.APIConfig.Viewers): the viewer drains what the player sends itself.
func (v *Viewer) onDataChannel(dc *webrtc.DataChannel) {
	dc.OnOpen(func() {
		// Without rtc.APIConfig.Viewers, Detach fails and pion's read loop drains instead.
		raw, err := dc.Detach()
		if err != nil {
			raw = nil
		}
		v.mu.Lock()
		if v.closing {
			v.mu.Unlock()
			return
		}
		// Subscribe only starts the subscription's goroutine: bookkeeping, safe under the lock.
		label := dc.Label()
		if v.pull && label == PullLabel {
			label = datarelay.AllLabels
		}
		sub := v.stream.Relay().Subscribe(label, dc)
		v.subs = append(v.subs, sub)
		v.mu.Unlock()
		// Not started once the session is closing; closeFeeds then closes sub, and closing the
		// PeerConnection ends the channel.
		if raw != nil {
			v.Go(func() { drain(raw, sub) })
		}
		v.log.Info("data channel", "label", dc.Label())
	})
}

// addEvents records an event stream; false once the session is ending.
func (v *Viewer) addEvents(es *eventStream) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closing {
		return false
	}
	if v.events == nil {
		v.events = make(map[string]*eventStream)
	}
	v.events[es.id] = es
	return true
}

// eventStream returns a live event stream of the session.
func (v *Viewer) eventStream(id string) (*eventStream, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	es, ok := v.events[id]
	return es, ok
}

// removeEvents deletes an event stream, ending its GET; false if there is none.
func (v *Viewer) removeEvents(id string) bool {
	v.mu.Lock()
	es, ok := v.events[id]
	delete(v.events, id)
	v.mu.Unlock()
	if ok {
		close(es.deleted)
	}
	return ok
}

// videoMLine is the index of the video m-line in the session's offer, -1 if it has none: the key
// of the "layers" event (WHEPX-05).
func (v *Viewer) videoMLine() int {
	d := v.pc.RemoteDescription()
	if d == nil {
		return -1
	}
	i := 0
	for _, line := range strings.Split(d.SDP, "\n") {
		if strings.HasPrefix(line, "m=") {
			if strings.HasPrefix(line, "m=video ") {
				return i
			}
			i++
		}
	}
	return -1
}
