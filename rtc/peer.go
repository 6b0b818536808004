package rtc

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// Peer is the lifecycle a WHIP publisher and a WHEP viewer share: one PeerConnection, the signals
// pion's callbacks raise, the goroutines the session owns and the one run goroutine that ends it.
// Every way a session ends (DELETE, ICE failure or consent expiry, the peer's DTLS close, a
// replacing publisher, shutdown, never connecting) goes through the same teardown; Close is
// cancel + wait.
type Peer struct {
	// set at construction
	pc     *webrtc.PeerConnection
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run has torn everything down
	start  time.Time     // when the session was made

	// why the session ended: the first reason recorded wins (CloseBecause, onState, run)
	reason atomic.Pointer[string]
	// bytes on the session's ICE transport, kept at teardown so Traffic still answers after it
	endSent, endReceived atomic.Uint64
	final                atomic.Bool // endSent and endReceived hold the final counts

	// signals from pion callbacks (closed once): callbacks only signal, run does the work
	connected, failed  chan struct{}
	connOnce, failOnce sync.Once

	// guarded by mu
	mu      sync.Mutex
	closing bool
	wg      sync.WaitGroup // owned goroutines; Add only under mu while not closing
}

// PeerHooks are what a session does at the turns of its life. Each runs on the run goroutine.
type PeerHooks struct {
	// Log receives "session started", "connected", "never connected" and "session ended" (with
	// duration_seconds, bytes_sent, bytes_received, reason and media_remote) events; its
	// attributes name the session.
	Log *slog.Logger
	// Connected runs once the PeerConnection is connected (SRTP ready).
	Connected func()
	// Closing runs at teardown before the PeerConnection is closed (stop feeding it).
	Closing func()
	// Ended runs last, after the PeerConnection is closed and every owned goroutine returned.
	Ended func()
}

// NewPeer makes a PeerConnection whose session lives until serverCtx ends or it is closed.
func NewPeer(api *webrtc.API, serverCtx context.Context) (*Peer, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	p := &Peer{pc: pc, done: make(chan struct{}), connected: make(chan struct{}), failed: make(chan struct{}), start: time.Now()}
	p.ctx, p.cancel = context.WithCancel(serverCtx)
	pc.OnConnectionStateChange(p.onState)
	return p, nil
}

// PC is the session's PeerConnection.
func (p *Peer) PC() *webrtc.PeerConnection { return p.pc }

// Context ends when the session starts its teardown.
func (p *Peer) Context() context.Context { return p.ctx }

// Connected is closed once the PeerConnection is connected.
func (p *Peer) Connected() <-chan struct{} { return p.connected }

// Done is closed once the session has ended and released everything.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Why a session ended, in its "session ended" log line.
const (
	ReasonClosed         = "closed"          // Close without a reason
	ReasonDeleted        = "deleted"         // the client's DELETE
	ReasonReplaced       = "replaced"        // a new publisher took the stream
	ReasonShutdown       = "shutdown"        // the server stopped
	ReasonFailed         = "ice failed"      // ICE failed or consent expired (COMMON-36)
	ReasonPeerClosed     = "peer closed"     // the peer's DTLS close_notify
	ReasonNeverConnected = "never connected" // reaped (COMMON-19)
)

// CloseBecause is Close with the reason the session ends (one of the Reason constants).
func (p *Peer) CloseBecause(reason string) error {
	p.setReason(reason)
	return p.Close()
}

// setReason records why the session ends unless a reason is already recorded.
func (p *Peer) setReason(reason string) { p.reason.CompareAndSwap(nil, &reason) }

// Reason is why the session ended ("" while it lives).
func (p *Peer) Reason() string {
	if r := p.reason.Load(); r != nil {
		return *r
	}
	return ""
}

// Traffic returns the bytes sent and received on the session's ICE transport (SRTP, SRTCP, DTLS
// and SCTP; not STUN): live while the session runs, the final count after it ended. Cheap: two
// atomic loads behind pion's transport lock.
func (p *Peer) Traffic() (sent, received uint64) {
	if p.final.Load() {
		return p.endSent.Load(), p.endReceived.Load()
	}
	st := p.pc.SCTP().Transport().ICETransport().Stats()
	return st.BytesSent, st.BytesReceived
}

// Started is when the session was made.
func (p *Peer) Started() time.Time { return p.start }

// Close ends the session and waits until it has released everything. Safe to call many times and
// from any goroutine but the session's own; only after Run.
func (p *Peer) Close() error {
	p.setReason(ReasonClosed)
	p.cancel()
	<-p.done
	return nil
}

// Abort ends a session whose negotiation failed, before Run.
func (p *Peer) Abort() {
	p.cancel()
	_ = p.pc.Close()
}

// Go starts fn on a goroutine the session owns and waits for at teardown, unless it is closing.
func (p *Peer) Go(fn func()) {
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

// Run starts the run goroutine: it waits until the session connects (or, after connectTimeout, is
// reaped as never connected: COMMON-19) and then until it ends, and tears it down.
func (p *Peer) Run(connectTimeout time.Duration, h PeerHooks) {
	h.Log.Info("session started")
	go p.run(connectTimeout, h)
}

func (p *Peer) run(connectTimeout time.Duration, h PeerHooks) {
	defer close(p.done)
	reap := time.NewTimer(connectTimeout)
	defer reap.Stop()
	wasConnected := false
	select {
	case <-p.ctx.Done():
	case <-p.failed:
	case <-reap.C:
		p.setReason(ReasonNeverConnected)
		h.Log.Info("never connected: reaped")
	case <-p.connected:
		wasConnected = true
		h.Log.Info("connected")
		if h.Connected != nil {
			h.Connected()
		}
		select {
		case <-p.ctx.Done():
		case <-p.failed:
		}
	}
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	p.setReason(ReasonShutdown) // only the server's context ended it
	p.cancel()
	remote := ""
	if wasConnected { // before, pion may still be starting the transport the pair is read from
		remote = p.mediaRemote()
	}
	sent, received := p.Traffic()
	if h.Closing != nil {
		h.Closing()
	}
	if err := p.pc.Close(); err != nil { // DTLS close_notify; ends read loops, unbinds Tracks
		h.Log.Debug("close peer connection", "err", err)
	}
	p.wg.Wait()
	// The transport's final count: what pion sent while closing (close_notify) counts too.
	if st := p.pc.SCTP().Transport().ICETransport().Stats(); st.BytesSent >= sent {
		sent, received = st.BytesSent, max(received, st.BytesReceived)
	}
	p.endSent.Store(sent)
	p.endReceived.Store(received)
	p.final.Store(true)
	if h.Ended != nil {
		h.Ended()
	}
	h.Log.Info("session ended", "reason", p.Reason(), "duration_seconds", time.Since(p.start).Round(time.Millisecond).Seconds(),
		"bytes_sent", sent, "bytes_received", received, "media_remote", remote)
}

// mediaRemote is the peer's address on the selected ICE candidate pair ("" if none).
func (p *Peer) mediaRemote() string {
	pair, err := p.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Remote == nil {
		return ""
	}
	return net.JoinHostPort(pair.Remote.Address, strconv.Itoa(int(pair.Remote.Port)))
}

func (p *Peer) onState(s webrtc.PeerConnectionState) {
	switch s {
	case webrtc.PeerConnectionStateConnected:
		p.connOnce.Do(func() { close(p.connected) })
	case webrtc.PeerConnectionStateFailed:
		p.setReason(ReasonFailed)
		p.failOnce.Do(func() { close(p.failed) })
	case webrtc.PeerConnectionStateClosed:
		p.setReason(ReasonPeerClosed)
		p.failOnce.Do(func() { close(p.failed) })
	}
}
