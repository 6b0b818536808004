package rtc

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/layers"
)

// InitialEstimate is the send-side estimate, in bits per second, a viewer's first layer is chosen
// with, before any feedback: above the middle layer of a usual simulcast ladder (0.2/0.8/2.5 Mbit/s), so a viewer starts on it
// (research/simulcast.md §4.1).
const InitialEstimate = 1_500_000

// transportCCURI names the transport-wide sequence number header extension.
const transportCCURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

// Estimate is one viewer's send-side evidence from the transport-cc feedback it sends
// (layers.Delivery): what its path delivers, loses and queues. It takes pion's GCC's place in
// pion's cc interceptor (cc.BandwidthEstimator): GCC without a pacer reads every keyframe burst as
// overuse and then cuts its estimate below the layer the viewer receives, and its history of 250
// packets is too short for a probe's padding. Per packet it records the transport-wide sequence
// number, time and size under a lock (as GCC did); it starts no goroutine. Safe for concurrent use.
type Estimate struct {
	mu sync.Mutex
	d  layers.Delivery
}

// Signals returns what the viewer's feedback says at now (layers.DeliverySignals).
func (e *Estimate) Signals(now time.Time) layers.DeliverySignals {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.d.Signals(now)
}

// AddStream records each packet written on the stream (cc.BandwidthEstimator): its transport-wide
// sequence number, stamped by the header-extension interceptor that runs before this one, the
// time and its size. RTX packets (probe padding) pass the same writer. A packet whose sequence
// number is not above the highest its SSRC sent is a retransmission (a NACK answer) and is
// recorded as one (layers.Delivery.Resent).
func (e *Estimate) AddStream(info *interceptor.StreamInfo, writer interceptor.RTPWriter) interceptor.RTPWriter {
	var id uint8
	for _, x := range info.RTPHeaderExtensions {
		if x.URI == transportCCURI {
			id = uint8(x.ID) //nolint:gosec // extension ids are 1..255
		}
	}
	if id == 0 {
		return writer // transport-cc not negotiated: nothing to record
	}
	var top uint16 // the highest sequence number the stream sent; guarded by e.mu
	started := false
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if ext := h.GetExtension(id); len(ext) >= 2 {
			seq, size := binary.BigEndian.Uint16(ext), h.MarshalSize()+len(payload)
			now := time.Now()
			e.mu.Lock()
			if started && int16(h.SequenceNumber-top) <= 0 {
				e.d.Resent(now, seq, size)
			} else {
				e.d.Sent(now, seq, size)
				top, started = h.SequenceNumber, true
			}
			e.mu.Unlock()
		}
		return writer.Write(h, payload, a)
	})
}

// WriteRTCP reads the viewer's transport-cc feedback (cc.BandwidthEstimator); other RTCP is
// ignored. It runs on the goroutine that reads the viewer's RTCP.
func (e *Estimate) WriteRTCP(pkts []rtcp.Packet, _ interceptor.Attributes) error {
	var acks []layers.Ack
	for _, p := range pkts {
		if fb, ok := p.(*rtcp.TransportLayerCC); ok {
			acks = appendAcks(acks, fb)
		}
	}
	if len(acks) == 0 {
		return nil
	}
	now := time.Now()
	e.mu.Lock()
	e.d.Feedback(now, acks)
	e.mu.Unlock()
	return nil
}

// appendAcks unpacks one transport-cc feedback packet: a status per packet from the base
// sequence number on, and for each received one an arrival delta (draft-holmer-rmcat-
// transport-wide-cc-extensions-01 §3.1). A malformed packet ends where its deltas run out.
func appendAcks(acks []layers.Ack, fb *rtcp.TransportLayerCC) []layers.Ack {
	seq := fb.BaseSequenceNumber
	at := time.Duration(fb.ReferenceTime) * 64 * time.Millisecond
	deltas := fb.RecvDeltas
	left := int(fb.PacketStatusCount)
	status := func(sym uint16) bool {
		if left <= 0 {
			return false
		}
		left--
		a := layers.Ack{Seq: seq}
		seq++
		if sym != rtcp.TypeTCCPacketNotReceived {
			if len(deltas) == 0 {
				left = 0
				return false
			}
			at += time.Duration(deltas[0].Delta) * time.Microsecond
			deltas = deltas[1:]
			a.Arrived, a.Arrival = true, at
		}
		acks = append(acks, a)
		return true
	}
	for _, c := range fb.PacketChunks {
		switch c := c.(type) {
		case *rtcp.RunLengthChunk:
			for range c.RunLength {
				if !status(c.PacketStatusSymbol) {
					break
				}
			}
		case *rtcp.StatusVectorChunk:
			for _, sym := range c.SymbolList {
				if !status(sym) {
					break
				}
			}
		}
	}
	return acks
}

// GetTargetBitrate returns the estimate in bits per second (cc.BandwidthEstimator): the capacity
// measured while the path is congested, InitialEstimate before any feedback, else 0 (no limit
// shown; the layer chooser caps what it trusts by what was sent).
func (e *Estimate) GetTargetBitrate() int {
	s := e.Signals(time.Now())
	switch {
	case !s.Feedback:
		return InitialEstimate
	case s.Congested:
		return int(s.Delivered)
	}
	return 0
}

// OnTargetBitrateChange is not supported: the layer chooser polls Signals.
func (e *Estimate) OnTargetBitrateChange(func(int)) {}

// GetStats returns the latest signals, for logs.
func (e *Estimate) GetStats() map[string]any {
	s := e.Signals(time.Now())
	return map[string]any{"feedback": s.Feedback, "delivered": s.Delivered, "loss": s.Loss,
		"queue": s.Queue.String(), "congested": s.Congested, "overuse": s.Overuse}
}

// Close releases nothing: the estimate starts no goroutine.
func (e *Estimate) Close() error { return nil }

// Estimators hands each viewer PeerConnection built by an API with APIConfig.Estimators its own
// send-side estimate. pion creates the estimator inside NewPeerConnection and names it only by
// the PeerConnection's id (a timestamp), so two PeerConnections created in the same nanosecond
// would be ambiguous: such a pair gets no estimate (the viewer then falls back to REMB and
// receiver reports) rather than possibly the other's. Memory: one entry per PeerConnection
// between its creation and Take.
type Estimators struct {
	mu sync.Mutex
	m  map[string]*Estimate // nil value: ambiguous id
}

// NewEstimators returns an empty set.
func NewEstimators() *Estimators { return &Estimators{m: make(map[string]*Estimate)} }

func (e *Estimators) add(id string, est cc.BandwidthEstimator) {
	own, _ := est.(*Estimate)
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.m[id]; dup {
		e.m[id] = nil
		return
	}
	e.m[id] = own
}

// Take returns pc's estimate and forgets it; false if pc was not built with estimation (or its id
// was ambiguous). Call it once, right after the PeerConnection is made.
func (e *Estimators) Take(pc *webrtc.PeerConnection) (*Estimate, bool) {
	if e == nil {
		return nil, false
	}
	id := pc.ID()
	e.mu.Lock()
	p, ok := e.m[id]
	delete(e.m, id)
	e.mu.Unlock()
	if !ok || p == nil {
		return nil, false
	}
	return p, true
}

// Forget drops pc's entry if Take was not called (a failed negotiation).
func (e *Estimators) Forget(pc *webrtc.PeerConnection) { _, _ = e.Take(pc) }

// addEstimation registers send-side bandwidth estimation on a viewer API: the transport-cc header
// extension (every packet stamped with a transport-wide sequence number) and its RTCP feedback,
// and pion's cc interceptor with an Estimate per PeerConnection. The cc interceptor is added
// before the header-extension one, so packets are stamped before the Estimate records them.
func addEstimation(media *webrtc.MediaEngine, registry *interceptor.Registry, ests *Estimators) error {
	factory, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) { return &Estimate{}, nil })
	if err != nil {
		return fmt.Errorf("congestion control: %w", err)
	}
	factory.OnNewPeerConnection(ests.add)
	registry.Add(factory)
	media.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, webrtc.RTPCodecTypeVideo)
	media.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, webrtc.RTPCodecTypeAudio)
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(media, registry); err != nil {
		return fmt.Errorf("transport-cc: %w", err)
	}
	return nil
}
