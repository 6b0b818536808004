package rtc

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
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
	// Log receives "connected", "never connected" and "ended" events.
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
	p := &Peer{pc: pc, done: make(chan struct{}), connected: make(chan struct{}), failed: make(chan struct{})}
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

// Close ends the session and waits until it has released everything. Safe to call many times and
// from any goroutine but the session's own; only after Run.
func (p *Peer) Close() error {
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
	go p.run(connectTimeout, h)
}

func (p *Peer) run(connectTimeout time.Duration, h PeerHooks) {
	defer close(p.done)
	reap := time.NewTimer(connectTimeout)
	defer reap.Stop()
	select {
	case <-p.ctx.Done():
	case <-p.failed:
	case <-reap.C:
		h.Log.Info("never connected: reaped")
	case <-p.connected:
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
	p.cancel()
	if h.Closing != nil {
		h.Closing()
	}
	if err := p.pc.Close(); err != nil { // DTLS close_notify; ends read loops, unbinds Tracks
		h.Log.Debug("close peer connection", "err", err)
	}
	p.wg.Wait()
	if h.Ended != nil {
		h.Ended()
	}
	h.Log.Info("ended")
}

func (p *Peer) onState(s webrtc.PeerConnectionState) {
	switch s {
	case webrtc.PeerConnectionStateConnected:
		p.connOnce.Do(func() { close(p.connected) })
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		p.failOnce.Do(func() { close(p.failed) })
	}
}
