package stream

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/datarelay"
)

// Publisher is what a Stream needs of its publisher: a way to end it when another replaces it.
type Publisher interface {
	// Close ends the publisher's session; it must be safe to call more than once.
	Close() error
}

// Stream is one broadcast: a video and an audio Track that every viewer binds (each with the
// Feeds of the incoming layers and the viewers' Outputs), the data relay that mirrors the
// publisher's data-channel messages, the current publisher (if any) and the keyframe requests of
// its viewers. A Stream lives while a publisher or a viewer holds it (see
// Registry), so viewers stay connected through publisher restarts.
type Stream struct {
	// set at construction
	name      string
	video     *Track
	audio     *Track
	relay     *datarelay.Relay
	keyframes chan struct{} // capacity 1: pending requests coalesce into one
	keyAny    atomic.Bool   // a keyframe of the followed layer is asked for (RequestKeyframe)

	// guarded by mu
	mu          sync.Mutex
	publisher   Publisher
	publishedAt time.Time
	viewers     int
}

func newStream(name string, relay datarelay.Config) *Stream {
	s := &Stream{name: name, keyframes: make(chan struct{}, 1), relay: datarelay.New(relay)}
	msid := "wisp-" + name
	s.video = newTrack(webrtc.RTPCodecTypeVideo, msid, s.RequestKeyframeOf)
	s.audio = newTrack(webrtc.RTPCodecTypeAudio, msid, nil)
	return s
}

// Name is the stream's name (the path segment of its WHIP and WHEP URLs).
func (s *Stream) Name() string { return s.name }

// Track returns the Track of the given kind (nil for other kinds).
func (s *Stream) Track(kind webrtc.RTPCodecType) *Track {
	switch kind {
	case webrtc.RTPCodecTypeVideo:
		return s.video
	case webrtc.RTPCodecTypeAudio:
		return s.audio
	}
	return nil
}

// Relay is the stream's publisher → viewers data-channel mirror.
func (s *Stream) Relay() *datarelay.Relay { return s.relay }

// RequestKeyframe asks the current publisher for a keyframe of the layer viewers follow. It never
// blocks: requests made while one is pending coalesce into it, and the publisher rate-limits what
// it sends upstream.
func (s *Stream) RequestKeyframe() {
	s.keyAny.Store(true)
	s.signalKeyframe()
}

// RequestKeyframeOf asks the publisher for a keyframe of f's layer: what a viewer whose Output
// sends f asks for (a pinned simulcast layer, or one layer of a pull by another node). nil, or a
// Feed of another kind, is RequestKeyframe. It never blocks; requests coalesce as RequestKeyframe's.
func (s *Stream) RequestKeyframeOf(f *Feed) {
	if f == nil || f.track != s.video {
		s.RequestKeyframe()
		return
	}
	f.keyWanted.Store(true)
	s.signalKeyframe()
}

func (s *Stream) signalKeyframe() {
	select {
	case s.keyframes <- struct{}{}:
	default:
	}
}

// KeyframeRequests delivers coalesced keyframe requests to the publisher, which then asks
// KeyframeSSRCs which layers they are for.
func (s *Stream) KeyframeRequests() <-chan struct{} { return s.keyframes }

// KeyframeSSRCs returns the publisher's SSRCs to ask for a keyframe now and forgets the requests:
// followed (the SSRC of the layer viewers follow as the publisher knows it; 0 for none) after a
// RequestKeyframe, and the SSRC of each video layer asked for with RequestKeyframeOf, each once.
func (s *Stream) KeyframeSSRCs(followed uint32) []uint32 {
	var out []uint32
	if s.keyAny.Swap(false) && followed != 0 {
		out = append(out, followed)
	}
	for _, f := range s.video.Feeds() {
		if f.keyWanted.Swap(false) && f.cfg.SSRC != 0 && !slices.Contains(out, f.cfg.SSRC) {
			out = append(out, f.cfg.SSRC)
		}
	}
	return out
}

// SetPublisher makes p the stream's publisher and returns the one it replaces (nil if none). The
// caller closes the replaced one, outside any lock. With replace false and a publisher present, it
// returns ErrPublisherLive and changes nothing.
func (s *Stream) SetPublisher(p Publisher, replace bool) (Publisher, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.publisher
	if old != nil && !replace {
		return nil, ErrPublisherLive
	}
	s.publisher, s.publishedAt = p, time.Now()
	return old, nil
}

// ClearPublisher removes p if it is still the publisher; it reports whether it was.
func (s *Stream) ClearPublisher(p Publisher) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.publisher != p {
		return false
	}
	s.publisher, s.publishedAt = nil, time.Time{}
	return true
}

// Publisher returns the stream's publisher now, nil if none.
func (s *Stream) Publisher() Publisher {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.publisher
}

// IsPublisher reports whether p is the stream's publisher now; one that another replaced is not.
func (s *Stream) IsPublisher(p Publisher) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.publisher == p
}

// Follow makes every viewer's Output of f's Track follow f, switching at f's next keyframe (at
// once where the Feed they follow has ended): the stream-wide choice, which an Output's own
// (Output.Follow) overrides. It does nothing and returns false unless p is the stream's
// publisher now, so a replaced publisher's late readers never take the Track back.
func (s *Stream) Follow(p Publisher, f *Feed) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.publisher != p || f.Closed() {
		return false
	}
	f.track.current.Store(f)
	return true
}

// AddViewer and RemoveViewer keep the viewer count shown by Info.
func (s *Stream) AddViewer() {
	s.mu.Lock()
	s.viewers++
	s.mu.Unlock()
}

// RemoveViewer undoes AddViewer.
func (s *Stream) RemoveViewer() {
	s.mu.Lock()
	s.viewers--
	s.mu.Unlock()
}

// Info is a snapshot of a Stream for the status API.
type Info struct {
	Name        string    `json:"name"`
	Live        bool      `json:"live"`
	Viewers     int       `json:"viewers"`
	PublishedAt time.Time `json:"publishedAt,omitzero"`
	Video       string    `json:"video,omitempty"` // codec of the followed video Feed
	Audio       string    `json:"audio,omitempty"`
	// Fan-out counters of the video Track: packets sent (once per packet, not per viewer),
	// deliveries lost (a viewer's worker fell behind, or the packet left the ring first), and
	// NACKed packets resent.
	VideoPackets uint64 `json:"videoPackets"`
	Dropped      uint64 `json:"dropped"`
	Resent       uint64 `json:"resent"`
	// Feeds are the incoming layers (video first). Layers, the video layers with the number of
	// viewers on each (see Stream.Layers), and Outputs, the viewers' outputs (video first), are
	// filled by Registry.List only (see Stream.Outputs): Info stays cheap for callers that poll it.
	Feeds   []FeedInfo   `json:"feeds"`
	Layers  []LayerInfo  `json:"layers,omitempty"`
	Outputs []OutputInfo `json:"outputs,omitempty"`
}

// Info returns a snapshot of the stream's state.
func (s *Stream) Info() Info {
	s.mu.Lock()
	info := Info{Name: s.name, Live: s.publisher != nil, Viewers: s.viewers, PublishedAt: s.publishedAt}
	s.mu.Unlock()
	if f := s.video.current.Load(); f != nil {
		info.Video = f.key
	}
	if f := s.audio.current.Load(); f != nil {
		info.Audio = f.key
	}
	info.VideoPackets, info.Dropped, info.Resent = s.video.Written(), s.video.Dropped(), s.video.Resent()
	now := time.Now()
	info.Feeds = []FeedInfo{}
	for _, t := range []*Track{s.video, s.audio} {
		for _, f := range t.Feeds() {
			info.Feeds = append(info.Feeds, f.Info(now))
		}
	}
	return info
}

// Outputs returns a snapshot of every started viewer's outputs (video first): the Feed each
// follows and its counters.
func (s *Stream) Outputs() []OutputInfo {
	outs := []OutputInfo{}
	for _, t := range []*Track{s.video, s.audio} {
		for _, o := range t.Outputs() {
			outs = append(outs, o.Info())
		}
	}
	return outs
}
