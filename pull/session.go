package pull

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
	"github.com/wisp-media/wisp/cluster"
	"github.com/wisp-media/wisp/datarelay"
	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/whep"
)

// tokenTTL is how long a pull token is valid: it is checked once, at the pull's POST.
const tokenTTL = time.Minute

// maxReadFailures is how many reads of a track in a row may fail before its reader gives up.
const maxReadFailures = 100

// session is one pull: a WHEP session with the stream's owner whose tracks and messages it writes
// into the local Stream, as its publisher. Close is idempotent and waits for everything.
type session struct {
	// set at construction
	edge  *Edge
	st    *stream.Stream
	owner cluster.Owner
	view  *client.Viewer // set before any callback can run (View returns first), read-only after

	videoSSRC  atomic.Uint32 // the owner's video SSRC, for PLIs upstream
	ready      chan struct{} // closed once view is set: callbacks wait for it
	done       chan struct{} // closed by Close: stops the keyframe loop
	wg         sync.WaitGroup
	closeOnce  sync.Once
	detachOnce sync.Once
}

var _ stream.Publisher = (*session)(nil)

// open makes s st's publisher (a local publisher keeps the stream: errLocal) and negotiates the
// pull with owner.
func open(ctx context.Context, e *Edge, st *stream.Stream, owner cluster.Owner) (*session, error) {
	s := &session{edge: e, st: st, owner: owner, ready: make(chan struct{}), done: make(chan struct{})}
	if _, err := st.SetPublisher(s, false); err != nil {
		return nil, err
	}
	endpoint := owner.URL + "/whep/" + url.PathEscape(st.Name())
	v, err := client.View(ctx, endpoint, client.ViewOptions{
		Video: true, Audio: true, DataChannel: whep.PullLabel,
		Token: e.cfg.Signer.Sign(st.Name(), e.cfg.Node, tokenTTL), API: e.cfg.API, HTTPClient: e.hc,
		OnTrack: s.track, OnMessage: s.message,
	})
	if err != nil {
		close(s.ready)
		st.ClearPublisher(s)
		return nil, err
	}
	s.view = v
	close(s.ready)
	s.wg.Add(1)
	go s.keyframes()
	return s, nil
}

// Yields marks a pull as giving way to a local WHIP publisher (whip.Yielder).
func (s *session) Yields() {}

// ended reports whether the pull's connection is gone.
func (s *session) ended() bool {
	select {
	case <-s.view.Ended():
		return true
	case <-s.done:
		return true
	default:
		return false
	}
}

// Close ends the pull (DELETE to the owner, bounded by the client's timeout) and stops being
// the stream's publisher. Safe on nil and more than once; called by the Edge's loop and by a
// local WHIP publisher replacing the pull.
func (s *session) Close() error {
	if s == nil {
		return nil
	}
	s.detach()
	s.closeOnce.Do(func() {
		_ = s.view.Close()
		s.wg.Wait()
	})
	return nil
}

// detach stops the pull being the stream's publisher at once (a next pull may take its place),
// leaving the session itself to Close.
func (s *session) detach() {
	s.detachOnce.Do(func() {
		close(s.done)
		s.st.ClearPublisher(s)
	})
}

// track writes one remote track into a new Feed until the pull ends (a client-owned goroutine).
func (s *session) track(t *webrtc.TrackRemote) {
	<-s.ready
	feed, err := s.st.NewFeed(stream.FeedConfig{Kind: t.Kind(), RID: t.RID(), SSRC: uint32(t.SSRC()), Codec: t.Codec()})
	if err != nil {
		s.edge.log.Debug("pulled track not forwarded", "stream", s.st.Name(), "kind", t.Kind().String(), "err", err)
	} else {
		defer feed.Close()
	}
	video := t.Kind() == webrtc.RTPCodecTypeVideo
	if video {
		s.videoSSRC.Store(uint32(t.SSRC()))
	}
	followed := false
	for failed := 0; ; {
		p, _, err := t.ReadRTP()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed) ||
				s.ended() || failed >= maxReadFailures {
				return
			}
			failed++
			continue
		}
		failed = 0
		if feed == nil {
			continue
		}
		if !followed {
			// Viewers move to this Feed at its first keyframe (the owner starts a new viewer, the
			// pull, with its cached one); a replaced pull's late packets never take the Track back.
			if followed = s.st.Follow(s, feed); followed && video {
				s.st.RequestKeyframe()
			}
		}
		_ = feed.WriteRTP(p)
	}
}

// message publishes one framed message of the owner's relay into the local relay, in order (it
// runs on pion's read loop and never blocks).
func (s *session) message(m client.Message) {
	if m.Label != whep.PullLabel || !s.st.IsPublisher(s) {
		return
	}
	msg, err := datarelay.Unframe(m.Data)
	if err != nil {
		s.edge.log.Debug("pulled message", "stream", s.st.Name(), "err", err)
		return
	}
	if err := s.st.Relay().Publish(msg); err != nil {
		s.edge.log.Debug("relay publish", "stream", s.st.Name(), "err", err)
	}
}

// keyframes sends the local viewers' coalesced keyframe requests upstream as PLIs, at most one
// per KeyframeInterval, while the pull is the stream's publisher.
func (s *session) keyframes() {
	defer s.wg.Done()
	var last time.Time
	for {
		select {
		case <-s.done:
			return
		case <-s.st.KeyframeRequests():
		}
		if wait := s.edge.cfg.KeyframeInterval - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-s.done:
				t.Stop()
				return
			case <-t.C:
			}
		}
		ssrc := s.videoSSRC.Load()
		if ssrc == 0 || !s.st.IsPublisher(s) {
			continue
		}
		last = time.Now()
		_ = s.view.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
	}
}
