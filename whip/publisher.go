package whip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/datarelay"
	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/wish"
)

// Publisher is one WHIP session: a PeerConnection receiving a publisher's media and data into a
// stream.Stream. Its run goroutine owns its lifetime; every way it ends (DELETE, ICE failure, a
// replacing publisher, shutdown, never connecting) goes through the same teardown.
type Publisher struct {
	// set at construction
	id     string
	stream *stream.Stream
	pc     *webrtc.PeerConnection
	ice    *stream.ICE // trickle and ICE restart (ice.go)
	log    *slog.Logger
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run has torn everything down

	// signals from pion callbacks (closed once)
	connected, failed  chan struct{}
	connOnce, failOnce sync.Once
	videoSSRC          atomic.Uint32 // SSRC of the forwarded video track, for PLIs
	videoClaimed       atomic.Bool   // the first video track (of a simulcast set) is forwarded
	onEnd              func(*Publisher)
	mu                 sync.Mutex // guards closing, wg.Add and etag
	closing            bool
	etag               string         // of the current ICE session; replaced by an ICE restart
	wg                 sync.WaitGroup // read loops and the keyframe loop
}

// ID is the session id, the last segment of the session URL.
func (p *Publisher) ID() string { return p.id }

// StreamName is the name of the stream the session publishes to.
func (p *Publisher) StreamName() string { return p.stream.Name() }

// Stream is the stream the session publishes to.
func (p *Publisher) Stream() *stream.Stream { return p.stream }

// Connected is closed once the PeerConnection is connected.
func (p *Publisher) Connected() <-chan struct{} { return p.connected }

// Done is closed once the session has ended and released everything.
func (p *Publisher) Done() <-chan struct{} { return p.done }

// Close ends the session and waits until it has released everything. Safe to call many times and
// from any goroutine except the session's own callbacks.
func (p *Publisher) Close() error {
	p.cancel()
	<-p.done
	return nil
}

// publish negotiates offer on a new PeerConnection for st, makes the session st's publisher
// (closing the one it replaces) and starts it. onEnd runs once when the session ends, after it
// released the stream. serverCtx bounds the session's life; ctx bounds negotiation only.
func publish(ctx, serverCtx context.Context, cfg Config, st *stream.Stream, offer string, onEnd func(*Publisher)) (*Publisher, string, error) {
	pc, err := cfg.API.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", fmt.Errorf("new peer connection: %w", err)
	}
	id := wish.NewID()
	p := &Publisher{
		id: id, etag: wish.NewETag(), stream: st, pc: pc, ice: stream.NewICE(pc), cfg: cfg,
		log:       cfg.Logger.With("stream", st.Name(), "session", id, "side", "whip"),
		done:      make(chan struct{}),
		connected: make(chan struct{}), failed: make(chan struct{}),
		onEnd: onEnd,
	}
	p.ctx, p.cancel = context.WithCancel(serverCtx)
	pc.OnTrack(p.onTrack)
	pc.OnDataChannel(p.onDataChannel)
	pc.OnConnectionStateChange(p.onState)

	answer, err := p.negotiate(ctx, offer)
	if err != nil {
		p.cancel()
		_ = pc.Close()
		return nil, "", err
	}
	old, err := st.SetPublisher(p, !cfg.NoReplace)
	if err != nil {
		p.cancel()
		_ = pc.Close()
		return nil, "", err
	}
	if old != nil {
		p.log.Info("replacing publisher")
		_ = old.Close()
	}
	p.goWork(p.keyframes)
	go p.run()
	return p, answer, nil
}

func (p *Publisher) negotiate(ctx context.Context, offer string) (string, error) {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %w", stream.ErrBadOffer, err)
	}
	for _, tr := range p.pc.GetTransceivers() {
		if tr.Kind() != webrtc.RTPCodecTypeAudio && tr.Kind() != webrtc.RTPCodecTypeVideo {
			continue
		}
		if len(tr.Receiver().GetParameters().Codecs) == 0 {
			// WHIP-02: no partially successful answers.
			return "", fmt.Errorf("%w: no supported %s codec", stream.ErrUnsupportedOffer, tr.Kind())
		}
	}
	answer, err := stream.Answer(ctx, p.pc)
	if err != nil {
		return "", fmt.Errorf("negotiate: %w", err)
	}
	return answer, nil
}

// run waits for the session to end, then tears it down: the one teardown path.
func (p *Publisher) run() {
	defer close(p.done)
	reap := time.NewTimer(p.cfg.ConnectTimeout)
	defer reap.Stop()
	select {
	case <-p.ctx.Done():
	case <-p.failed:
	case <-reap.C:
		p.log.Info("never connected: reaped")
	case <-p.connected:
		p.log.Info("publisher connected")
		select {
		case <-p.ctx.Done():
		case <-p.failed:
		}
	}
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	p.cancel()
	if err := p.pc.Close(); err != nil { // DTLS close_notify; ends the read loops
		p.log.Debug("close peer connection", "err", err)
	}
	p.wg.Wait()
	p.stream.ClearPublisher(p)
	p.log.Info("publisher ended")
	if p.onEnd != nil {
		p.onEnd(p)
	}
}

// goWork starts fn on an owned goroutine unless the session is closing.
func (p *Publisher) goWork(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		fn()
	}()
}

func (p *Publisher) onState(s webrtc.PeerConnectionState) {
	switch s {
	case webrtc.PeerConnectionStateConnected:
		p.connOnce.Do(func() { close(p.connected) })
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		p.failOnce.Do(func() { close(p.failed) })
	}
}

func (p *Publisher) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	p.goWork(func() { drainRTCP(recv) })
	forward := true
	if remote.Kind() == webrtc.RTPCodecTypeVideo {
		// Of several video tracks (simulcast layers) only the first is forwarded for now.
		forward = p.videoClaimed.CompareAndSwap(false, true)
	}
	p.goWork(func() { p.read(remote, forward) })
}

// read forwards one remote track into the stream until the track ends. Header extensions are
// stripped by the Source (ids are negotiated per PeerConnection).
func (p *Publisher) read(remote *webrtc.TrackRemote, forward bool) {
	track := p.stream.Track(remote.Kind())
	var src *stream.Source
	if forward && track != nil {
		src = track.NewSource(remote.Codec())
		defer src.Detach()
		if remote.Kind() == webrtc.RTPCodecTypeVideo {
			p.videoSSRC.Store(uint32(remote.SSRC()))
			p.stream.RequestKeyframe() // pictures resume at once after a publisher restart
		}
		p.log.Info("track", "kind", remote.Kind().String(), "codec", remote.Codec().MimeType, "rid", remote.RID())
	}
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			return
		}
		if src == nil {
			continue
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		if err := src.WriteRTP(&pkt); errors.Is(err, stream.ErrReplaced) {
			src = nil // a newer publisher owns the track; keep draining until we are closed
		}
	}
}

// keyframes turns the stream's coalesced keyframe requests into PLIs, at most one per
// KeyframeInterval: viewers joining together cause one PLI, never a storm.
func (p *Publisher) keyframes() {
	var last time.Time
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-p.stream.KeyframeRequests():
		}
		if wait := p.cfg.KeyframeInterval - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-p.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		ssrc := p.videoSSRC.Load()
		if ssrc == 0 {
			continue
		}
		last = time.Now()
		if err := p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
			p.log.Debug("send PLI", "err", err)
		}
	}
}

func (p *Publisher) onDataChannel(dc *webrtc.DataChannel) {
	relay := p.stream.Relay()
	label := dc.Label()
	p.log.Info("data channel", "label", label)
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		// Publish never blocks: pion's SCTP loop is never held up by a viewer.
		if err := relay.Publish(datarelay.Message{Label: label, Data: m.Data, Text: m.IsString}); err != nil {
			p.log.Debug("relay publish", "err", err)
		}
	})
}

// drainRTCP reads RTCP so the interceptors see it (sender reports feed receiver reports); it ends
// when the receiver is stopped.
func drainRTCP(r *webrtc.RTPReceiver) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := r.Read(buf); err != nil {
			return
		}
	}
}
