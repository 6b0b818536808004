package stream

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v4"
)

// Track is one media kind of a Stream, bound by pion to every viewer that receives it. It
// implements webrtc.TrackLocal. Packets enter through the Track's Feeds (one per incoming layer),
// are cached once in the Feed's ring and written to every viewer's Output by fan-out workers,
// with that Output's SSRC, payload type and sequence and timestamp mapping.
//
// A Track outlives publishers: each Output's sequence-number and timestamp lines continue across
// Feeds, so a viewer sees one unbroken RTP stream through layer switches and publisher restarts.
type Track struct {
	// set at construction
	id, streamID string
	kind         webrtc.RTPCodecType
	onStart      func(*Feed)              // keyframe request: a viewer starts on a Feed (nil: none yet) without a cached keyframe, or waits to switch to it (Output.askKeyframe); never blocks
	egress       Egress                   // brackets each fan-out pass (noEgress unless the Registry has one)
	workers      []atomic.Pointer[worker] // one per core, made at the first Start
	wg           sync.WaitGroup           // worker goroutines

	// guarded by mu (with each worker's output list)
	mu      sync.Mutex
	bound   int
	pending map[string]*Output // bound by pion, waiting for Start (the viewer's connection)
	feeds   []*Feed

	current atomic.Pointer[Feed] // the Feed outputs follow unless they chose their own (Follow)
	written atomic.Uint64        // packets of the followed Feed, counted once however many viewers
	dropped atomic.Uint64        // deliveries lost to a full worker queue or an overwritten ring slot
	resent  atomic.Uint64        // packets retransmitted in answer to NACKs
}

// newTrack makes a Track of the given kind whose msid stream id is streamID.
func newTrack(kind webrtc.RTPCodecType, streamID string, onStart func(*Feed)) *Track {
	return &Track{id: kind.String(), streamID: streamID, kind: kind, onStart: onStart, egress: noEgress{},
		pending: make(map[string]*Output), workers: make([]atomic.Pointer[worker], runtime.GOMAXPROCS(0))}
}

// ID is the track id announced in a=msid ("video" or "audio").
func (t *Track) ID() string { return t.id }

// RID is empty: a Track is a single encoding towards viewers.
func (t *Track) RID() string { return "" }

// StreamID is the msid stream id, the same for the audio and video of one Stream (WHEP-03).
func (t *Track) StreamID() string { return t.streamID }

// Kind is audio or video.
func (t *Track) Kind() webrtc.RTPCodecType { return t.kind }

// Bindings returns how many viewers this Track is bound to.
func (t *Track) Bindings() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.bound
}

// Dropped returns how many packet deliveries were lost because a fan-out worker fell more than
// its queue behind, or a packet left the ring before the worker copied it (counted once per
// viewer); each viewer's Output counts its own by reason.
func (t *Track) Dropped() uint64 { return t.dropped.Load() }

// Resent returns how many packets were retransmitted in answer to viewers' NACKs.
func (t *Track) Resent() uint64 { return t.resent.Load() }

// Written returns how many packets the followed Feed has carried (counted once per packet, not
// once per viewer).
func (t *Track) Written() uint64 { return t.written.Load() }

// Current returns the Feed outputs follow by default (nil if none).
func (t *Track) Current() *Feed { return t.current.Load() }

// Feeds returns the Track's live Feeds, oldest first.
func (t *Track) Feeds() []*Feed {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]*Feed(nil), t.feeds...)
}

func (t *Track) addFeed(f *Feed) {
	t.mu.Lock()
	t.feeds = append(t.feeds, f)
	t.mu.Unlock()
}

// removeFeed forgets an ended Feed; the Track follows no Feed if it was the followed one.
func (t *Track) removeFeed(f *Feed) {
	t.mu.Lock()
	t.feeds = slices.DeleteFunc(t.feeds, func(x *Feed) bool { return x == f })
	t.mu.Unlock()
	t.current.CompareAndSwap(f, nil)
}

// deliver hands packet e of f to every worker with outputs; a worker a whole queue behind misses
// it (counted per output). It never waits.
func (t *Track) deliver(f *Feed, e uint64) {
	if t.current.Load() == f {
		t.written.Add(1)
	}
	for i := range t.workers {
		w := t.workers[i].Load()
		if w == nil || w.count.Load() == 0 {
			continue
		}
		select {
		case w.events <- event{f, e}:
		default:
			w.missed(f)
		}
	}
}

// Outputs returns the started viewers' Outputs.
func (t *Track) Outputs() []*Output {
	var outs []*Output
	for i := range t.workers {
		if w := t.workers[i].Load(); w != nil {
			outs = append(outs, *w.outputs.Load()...)
		}
	}
	return outs
}

// Output returns the started viewer's Output with the given SSRC, or nil.
func (t *Track) Output(ssrc uint32) *Output {
	for i := range t.workers {
		w := t.workers[i].Load()
		if w == nil {
			continue
		}
		for _, o := range *w.outputs.Load() {
			if o.ssrc == ssrc {
				return o
			}
		}
	}
	return nil
}

// Bind is called by pion when a viewer's sender starts. For an answerer (every WHEP session) that
// is inside SetLocalDescription, before ICE and DTLS: pion drops what is written before SRTP is
// ready, so the Output only records the negotiated payload types and waits for Start. It returns
// the codec matching the followed Feed if the viewer has it, else the first negotiated one.
func (t *Track) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codecs := ctx.CodecParameters()
	o := &Output{id: ctx.ID(), ssrc: uint32(ctx.SSRC()), kind: t.kind, writer: ctx.WriteStream(), pt: make(map[string]uint8)}
	var chosen *webrtc.RTPCodecParameters
	for i := range codecs {
		key := codecKey(codecs[i].RTPCodecCapability)
		if key == "" {
			continue // RTX, FEC: we send only the primary stream
		}
		if _, ok := o.pt[key]; ok && !prefers(codecs[i].RTPCodecCapability) {
			continue
		}
		o.pt[key] = uint8(codecs[i].PayloadType)
		if chosen == nil {
			chosen = &codecs[i]
		}
	}
	if chosen == nil {
		return webrtc.RTPCodecParameters{}, ErrNoCodec
	}
	if o.rtxSSRC = uint32(ctx.SSRCRetransmission()); o.rtxSSRC != 0 {
		o.rtxPT, o.rtxPTOK = rtxFor(codecs, chosen.PayloadType)
	}
	if f := t.current.Load(); f != nil {
		for i := range codecs {
			if codecKey(codecs[i].RTPCodecCapability) == f.key {
				chosen = &codecs[i]
				break
			}
		}
	}
	t.mu.Lock()
	t.pending[o.id] = o
	t.mu.Unlock()
	return *chosen, nil
}

// Start begins sending to the viewer bound with this SSRC; its session calls it once the
// PeerConnection is connected (SRTP ready). A video viewer starts from the newest keyframe cached
// by the followed Feed (fast start, so it decodes a picture at once even from a publisher that
// ignores keyframe requests); without one, the publisher is asked for a keyframe. It reports
// whether an Output with that SSRC was waiting.
func (t *Track) Start(ssrc uint32) bool { return t.StartOn(ssrc, nil) }

// StartOn is Start with the Output following f (a Feed of this Track) from its first packet, as
// if Output.Follow(f) had been called before: the fast start replays f's cached GOP. nil is Start.
func (t *Track) StartOn(ssrc uint32, f *Feed) bool {
	t.mu.Lock()
	var o *Output
	for id, p := range t.pending {
		if p.ssrc == ssrc {
			o = p
			delete(t.pending, id)
			break
		}
	}
	t.mu.Unlock()
	if o == nil {
		return false
	}

	if f != nil {
		o.Follow(f)
	}
	f = o.want(t.current.Load())
	o.live.Store(true)
	o.start(f)
	fast := false
	if f != nil {
		keyE, keyTS, head, headTS, cached := f.ring.join()
		o.from = head
		if t.kind == webrtc.RTPCodecTypeVideo && cached {
			fast = true
			o.catchUpFrom(keyE, keyTS, headTS)
		}
	}

	t.mu.Lock()
	w := t.worker(0)
	if t.bound >= spreadAt {
		for i := 1; i < len(t.workers); i++ {
			if x := t.worker(i); x.count.Load() < w.count.Load() {
				w = x
			}
		}
	}
	old := *w.outputs.Load()
	next := make([]*Output, 0, len(old)+1)
	next = append(next, old...)
	w.setOutputs(append(next, o))
	t.bound++
	t.mu.Unlock()

	if t.onStart != nil && !fast {
		t.onStart(f)
	}
	return true
}

// worker returns worker i, making it on first use. Caller holds t.mu.
func (t *Track) worker(i int) *worker {
	w := t.workers[i].Load()
	if w == nil {
		w = newWorker(t)
		t.workers[i].Store(w)
	}
	return w
}

// Unbind is called by pion when the viewer's sender stops: its Output is removed.
func (t *Track) Unbind(ctx webrtc.TrackLocalContext) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pending, ctx.ID())
	for i := range t.workers {
		w := t.workers[i].Load()
		if w == nil {
			continue
		}
		old := *w.outputs.Load()
		for j, o := range old {
			if o.id != ctx.ID() {
				continue
			}
			next := make([]*Output, 0, len(old)-1)
			next = append(next, old[:j]...)
			w.setOutputs(append(next, old[j+1:]...))
			t.bound--
			return nil
		}
	}
	return nil
}

// codecKey names a codec for payload-type lookup: the lower-case MIME type, "" for RTX/FEC.
// H.264 profiles are not told apart: decoders take any profile regardless of the negotiated
// profile-level-id, and publishers (OBS) often signal a profile that is not the one they send.
func codecKey(c webrtc.RTPCodecCapability) string {
	mime := strings.ToLower(c.MimeType)
	switch mime {
	case "video/rtx", "video/ulpfec", "video/red", "video/flexfec-03", "audio/red":
		return ""
	}
	return mime
}

// prefers reports whether c should replace an earlier codec with the same key: for H.264 the
// packetization-mode=1 variant, which every publisher we accept produces (FU-A, STAP-A).
func prefers(c webrtc.RTPCodecCapability) bool {
	return strings.EqualFold(c.MimeType, webrtc.MimeTypeH264) && strings.Contains(c.SDPFmtpLine, "packetization-mode=1")
}
