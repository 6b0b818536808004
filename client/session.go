package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"

	"github.com/pion/webrtc/v4"
)

// session is what Publisher and Viewer share: one PeerConnection negotiated over WHIP or WHEP,
// its state signals, the goroutines it owns and its single teardown.
type session struct {
	// set at construction
	pc     *webrtc.PeerConnection
	hc     *http.Client
	token  string
	net    *cutNet            // nil when the caller supplied the API; Kill cuts it
	ctx    context.Context    // session lifetime, independent of the negotiation context
	cancel context.CancelFunc // first step of teardown

	// set by negotiate, read-only once the session is handed out
	res resource

	// signals, closed once each; pion callbacks only close them
	connected     chan struct{}
	ended         chan struct{}
	connectedOnce sync.Once
	endedOnce     sync.Once

	// guarded by mu
	mu      sync.Mutex
	closing bool           // no goroutine may start once set
	wg      sync.WaitGroup // owned goroutines; Add only under mu while !closing

	// owned by teardown
	once sync.Once
	err  error
}

// newSession prepares a session with endpoint and the PeerConnection configuration pcc. Without
// api it builds its own on a socket layer that Kill can cut, gathering loopback candidates only
// when the endpoint is on loopback.
func newSession(api *webrtc.API, pcc webrtc.Configuration, hc *http.Client, token, endpoint string) (*session, error) {
	s := &session{hc: hc, token: token, connected: make(chan struct{}), ended: make(chan struct{})}
	if s.hc == nil {
		s.hc = http.DefaultClient
	}
	if api == nil {
		n, err := newCutNet()
		if err != nil {
			return nil, fmt.Errorf("network: %w", err)
		}
		if api, err = NewAPI(APIOptions{Net: n, LoopbackOnly: loopbackURL(endpoint)}); err != nil {
			return nil, err
		}
		s.net = n
	}
	pc, err := api.NewPeerConnection(pcc)
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	s.pc = pc
	s.ctx, s.cancel = context.WithCancel(context.Background())
	pc.OnConnectionStateChange(s.onState)
	return s, nil
}

// onState runs on a pion goroutine: it only closes signal channels.
func (s *session) onState(st webrtc.PeerConnectionState) {
	switch st {
	case webrtc.PeerConnectionStateConnected:
		s.connectedOnce.Do(func() { close(s.connected) })
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		s.endedOnce.Do(func() { close(s.ended) })
	default:
	}
}

// spawn runs f on a goroutine that teardown waits for. It reports false, and does not run f,
// once teardown has begun.
func (s *session) spawn(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// negotiate makes the offer, waits for ICE gathering to complete (bounded by ctx; the offer then
// carries every candidate, RFC 9725 §4.3.2), POSTs it and applies the answer.
func (s *session) negotiate(ctx context.Context, endpoint string) error {
	offer, err := s.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(s.pc)
	if err := s.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fmt.Errorf("ice gathering: %w", ctx.Err())
	}
	res, err := post(ctx, s.hc, endpoint, s.token, s.pc.LocalDescription().SDP)
	if err != nil {
		return err
	}
	s.res = res
	answer := webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: res.answer}
	if err := s.pc.SetRemoteDescription(answer); err != nil {
		return fmt.Errorf("set answer: %w", err)
	}
	return nil
}

// teardown is the one exit path. graceful sends DELETE to the session URL (RFC 9725 §4.2)
// before closing the PeerConnection; otherwise the sockets are cut first (when the session owns
// them) so the server learns nothing. It waits for every owned goroutine. Later calls return the
// first call's error.
func (s *session) teardown(graceful bool) error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.cancel()
		var errs []error
		switch {
		case graceful && s.res.location != "":
			errs = append(errs, remove(s.hc, s.res.location, s.token))
		case !graceful && s.net != nil:
			s.net.Cut()
		}
		if err := s.pc.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close peer connection: %w", err))
		}
		s.wg.Wait()
		s.endedOnce.Do(func() { close(s.ended) })
		s.err = errors.Join(errs...)
	})
	return s.err
}

// loopbackURL reports whether a URL's host is localhost or a loopback IP address.
func loopbackURL(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	if h := u.Hostname(); h == "localhost" {
		return true
	} else if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback()
	}
	return false
}
