package rtc

import (
	"fmt"
	"sync"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/webrtc/v4"
)

// InitialEstimate is where a viewer's send-side estimate starts, in bits per second: pion's GCC
// starts at 10 kbit/s otherwise, which would put every viewer on the lowest layer for seconds
// (research/simulcast.md §4.1).
const InitialEstimate = 1_000_000

// Estimate is one viewer's send-side bandwidth estimate, fed by the transport-cc feedback the
// viewer sends (pion's GCC): GetTargetBitrate in bits per second. Safe for concurrent use.
type Estimate = cc.BandwidthEstimator

// Estimators hands each viewer PeerConnection built by an API with APIConfig.Estimators its own
// send-side estimator. pion creates the estimator inside NewPeerConnection and names it only by
// the PeerConnection's id (a timestamp), so two PeerConnections created in the same nanosecond
// would be ambiguous: such a pair gets no estimator (the viewer then falls back to REMB and
// receiver reports) rather than possibly the other's. Memory: one entry per PeerConnection
// between its creation and Take.
type Estimators struct {
	mu sync.Mutex
	m  map[string]*Estimate // nil value: ambiguous id
}

// NewEstimators returns an empty set.
func NewEstimators() *Estimators { return &Estimators{m: make(map[string]*Estimate)} }

func (e *Estimators) add(id string, est cc.BandwidthEstimator) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.m[id]; dup {
		e.m[id] = nil
		return
	}
	e.m[id] = &est
}

// Take returns pc's estimator and forgets it; false if pc was not built with estimation (or its id
// was ambiguous). Call it once, right after the PeerConnection is made.
func (e *Estimators) Take(pc *webrtc.PeerConnection) (Estimate, bool) {
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
	return *p, true
}

// Forget drops pc's entry if Take was not called (a failed negotiation).
func (e *Estimators) Forget(pc *webrtc.PeerConnection) { _, _ = e.Take(pc) }

// addEstimation registers send-side bandwidth estimation on a viewer API: the transport-cc header
// extension (every packet stamped with a transport-wide sequence number) and its RTCP feedback,
// and pion's cc interceptor with GCC. GCC gets a pacer that sends at once (pion's default pacer
// queues without bound) and an initial estimate of InitialEstimate; each estimator also accounts
// the stream's RTX SSRC, on which probe padding goes (stream.Output.Pad). The cc interceptor is
// added before the header-extension one, so packets are stamped before GCC records them.
func addEstimation(media *webrtc.MediaEngine, registry *interceptor.Registry, ests *Estimators) error {
	factory, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		bwe, err := gcc.NewSendSideBWE(gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
			gcc.SendSideBWEInitialBitrate(InitialEstimate))
		if err != nil {
			return nil, err
		}
		return withRTX{bwe}, nil
	})
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

// withRTX registers a stream's RTX SSRC with the estimator too: GCC's pacer forwards only the
// SSRCs it was given, and probe padding is sent on the RTX SSRC.
type withRTX struct{ cc.BandwidthEstimator }

func (w withRTX) AddStream(info *interceptor.StreamInfo, writer interceptor.RTPWriter) interceptor.RTPWriter {
	out := w.BandwidthEstimator.AddStream(info, writer)
	if info.SSRCRetransmission != 0 {
		rtx := *info
		rtx.SSRC = info.SSRCRetransmission
		w.BandwidthEstimator.AddStream(&rtx, writer)
	}
	return out
}
