package pull

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
	"github.com/wisp-media/wisp/cluster"
	"github.com/wisp-media/wisp/datarelay"
	"github.com/wisp-media/wisp/layers"
	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/whep"
)

// tokenTTL is how long a pull token is valid: it is checked once, at the pull's POST.
const tokenTTL = time.Minute

// maxReadFailures is how many reads of a track in a row may fail before its reader gives up.
const maxReadFailures = 100

// layerWindow is how often a layered pull re-chooses the layer its stream's viewers follow by
// default (viewers with a layer of their own follow theirs).
const layerWindow = 500 * time.Millisecond

// session is one pull: a WHEP session with the stream's owner whose tracks and messages it writes
// into the local Stream, as its publisher. Close is idempotent and waits for everything.
//
// The pull offers whep.MaxPullSections video sections. For a simulcast stream the owner answers
// one layer on each (whep/pull.go; its a=msid track id names the rid): each is written into a
// Feed of its own with the owner's rid, so the Feeds measure resolution and bitrate themselves
// and local viewers choose among them (pins, caps, -auto-layers) as on the owner; by default they
// follow the highest active layer. Otherwise one section carries the owner's stream-wide layer.
type session struct {
	// set at construction
	edge    *Edge
	st      *stream.Stream
	owner   cluster.Owner
	view    *client.Viewer // set before any callback can run (View returns first), read-only after
	started time.Time      // when the pull was negotiated
	// how many sections the owner answered a layer each on (0: one section, the stream-wide
	// layer); set before ready is closed
	layers int

	videoSSRC  atomic.Uint32 // the owner's SSRC of the video viewers follow, for PLIs upstream
	ready      chan struct{} // closed once view is set: callbacks wait for it
	done       chan struct{} // closed by Close: stops the keyframe loop
	in         chan struct{} // closed once every layer section has its Feed (at once without layers)
	inOnce     sync.Once
	wake       chan struct{} // capacity 1: a layer's first packet wakes the layer choice
	leading    atomic.Bool   // a layer section has been followed first
	wg         sync.WaitGroup
	closeOnce  sync.Once
	detachOnce sync.Once

	// guarded by mu: the live layer Feeds (a layered pull)
	mu    sync.Mutex
	feeds []*stream.Feed
}

var _ stream.Publisher = (*session)(nil)

// open makes s st's publisher (a local publisher keeps the stream: errLocal) and negotiates the
// pull with owner.
func open(ctx context.Context, e *Edge, st *stream.Stream, owner cluster.Owner) (*session, error) {
	s := &session{edge: e, st: st, owner: owner, ready: make(chan struct{}), done: make(chan struct{}),
		in: make(chan struct{}), wake: make(chan struct{}, 1)}
	if _, err := st.SetPublisher(s, false); err != nil {
		return nil, err
	}
	endpoint := owner.URL + "/whep/" + url.PathEscape(st.Name())
	v, err := client.View(ctx, endpoint, client.ViewOptions{
		Video: true, VideoSections: whep.MaxPullSections, Audio: true, DataChannel: whep.PullLabel,
		Token: e.cfg.Signer.Sign(st.Name(), e.cfg.Node, tokenTTL), API: e.cfg.API, HTTPClient: e.hc,
		OnTrack: s.track, OnMessage: s.message,
	})
	if err != nil {
		close(s.ready)
		st.ClearPublisher(s)
		return nil, err
	}
	s.view, s.started = v, time.Now()
	s.layers = layerSections(v.Answer())
	if s.layers == 0 {
		s.inOnce.Do(func() { close(s.in) })
	}
	close(s.ready)
	s.wg.Add(1)
	go s.keyframes()
	if s.layers > 0 {
		s.wg.Add(1)
		go s.chooseLayers()
	}
	return s, nil
}

// layerSections counts the sections of an answer whose a=msid names a layer (whep.PullLayerPrefix).
func layerSections(answer string) int {
	n := 0
	for _, line := range strings.Split(answer, "\n") {
		msid, ok := strings.CutPrefix(strings.TrimSpace(line), "a=msid:")
		if !ok {
			continue
		}
		if _, track, ok := strings.Cut(msid, " "); ok && strings.HasPrefix(track, whep.PullLayerPrefix) {
			n++
		}
	}
	return n
}

// videoIn is closed once the pull's video is known: every layer section has its Feed (at once
// for a pull without layers).
func (s *session) videoIn() <-chan struct{} { return s.in }

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
// A layer section's Feed carries the owner's rid.
func (s *session) track(t *webrtc.TrackRemote) {
	<-s.ready
	video := t.Kind() == webrtc.RTPCodecTypeVideo
	rid, layer := "", false
	if video && s.layers > 0 {
		rid, layer = strings.CutPrefix(t.ID(), whep.PullLayerPrefix)
	}
	feed, err := s.st.NewFeed(stream.FeedConfig{Kind: t.Kind(), RID: rid, SSRC: uint32(t.SSRC()), Codec: t.Codec()})
	if err != nil {
		s.edge.log.Debug("pulled track not forwarded", "stream", s.st.Name(), "kind", t.Kind().String(), "err", err)
	} else {
		defer feed.Close()
		if layer {
			s.addLayer(feed)
			defer s.dropLayer(feed)
		}
	}
	if video && !layer {
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
		wake := false
		switch {
		case followed:
		case layer:
			// The first layer to arrive is followed at once, so viewers start at its first
			// keyframe; the layer choice (chooseLayers) takes over once it has packets.
			followed, wake = true, true
			if s.leading.CompareAndSwap(false, true) && s.st.Follow(s, feed) {
				s.videoSSRC.Store(uint32(t.SSRC()))
			}
		default:
			// Viewers move to this Feed at its first keyframe (the owner starts a new viewer,
			// the pull, with its cached one); a replaced pull's late packets never take the
			// Track back.
			if followed = s.st.Follow(s, feed); followed && video {
				s.st.RequestKeyframe()
			}
		}
		_ = feed.WriteRTP(p)
		if wake {
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}
}

// addLayer records a layer section's Feed; the pull's video is in once every section has one.
func (s *session) addLayer(f *stream.Feed) {
	s.mu.Lock()
	s.feeds = append(s.feeds, f)
	all := len(s.feeds) >= s.layers
	s.mu.Unlock()
	if all {
		s.inOnce.Do(func() { close(s.in) })
	}
}

// dropLayer forgets a layer whose section ended.
func (s *session) dropLayer(f *stream.Feed) {
	s.mu.Lock()
	s.feeds = slices.DeleteFunc(s.feeds, func(x *stream.Feed) bool { return x == f })
	s.mu.Unlock()
}

// chooseLayers makes the stream's viewers follow the pull's highest active layer by default
// (layers.Rank: measured resolution, then bitrate), checked when a layer's first packet comes and
// every layerWindow; viewers switch at its next keyframe, which is asked for upstream. Viewers
// with a layer of their own (the layer extension, -auto-layers) follow theirs.
func (s *session) chooseLayers() {
	defer s.wg.Done()
	tick := time.NewTicker(layerWindow)
	defer tick.Stop()
	var cur *stream.Feed
	for {
		select {
		case <-s.done:
			return
		case <-s.wake:
		case <-tick.C:
		}
		best := s.bestLayer(time.Now())
		if best == nil || (best == cur && !cur.Closed()) || !s.st.Follow(s, best) {
			continue
		}
		cur = best
		s.videoSSRC.Store(best.SSRC())
		s.st.RequestKeyframeOf(best)
		s.edge.log.Debug("pulled layer followed", "stream", s.st.Name(), "rid", best.RID())
	}
}

// bestLayer returns the highest active layer Feed of the pull, nil if none is active.
func (s *session) bestLayer(now time.Time) *stream.Feed {
	s.mu.Lock()
	feeds := slices.Clone(s.feeds)
	s.mu.Unlock()
	ls := make([]layers.Layer, 0, len(feeds))
	for _, f := range feeds {
		i := f.Info(now)
		if i.Active {
			ls = append(ls, layers.Layer{ID: i.RID, Width: i.Width, Height: i.Height,
				Bitrate: float64(i.Bitrate), Peak: float64(i.PeakBitrate), Active: true})
		}
	}
	if len(ls) == 0 {
		return nil
	}
	top := layers.Rank(ls)[len(ls)-1].ID
	for _, f := range feeds {
		if f.RID() == top {
			return f
		}
	}
	return nil
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
// round per KeyframeInterval, while the pull is the stream's publisher: each on the section of
// the layer asked for (stream.RequestKeyframeOf: a layer section's Feed has the SSRC of the
// owner's Output for that layer, which asks the publisher for that layer's keyframe).
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
		if !s.st.IsPublisher(s) {
			continue
		}
		ssrcs := s.st.KeyframeSSRCs(s.videoSSRC.Load())
		if len(ssrcs) == 0 {
			continue
		}
		last = time.Now()
		pkts := make([]rtcp.Packet, len(ssrcs))
		for i, ssrc := range ssrcs {
			pkts[i] = &rtcp.PictureLossIndication{MediaSSRC: ssrc}
		}
		_ = s.view.WriteRTCP(pkts)
	}
}
