package stream

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// Track is one media kind of a Stream, bound by pion to every viewer that receives it. It
// implements webrtc.TrackLocal. Packets enter through a Source (one per publisher track), are
// cached once in the Track's ring and written to every binding by fan-out workers, with that
// binding's SSRC and payload type.
//
// A Track outlives publishers: the outgoing sequence-number and timestamp lines continue across
// Sources, so a viewer sees one unbroken RTP stream through publisher restarts.
type Track struct {
	// set at construction
	id, streamID string
	kind         webrtc.RTPCodecType
	onStart      func() // called when a viewer starts without a cached keyframe (keyframe request); never blocks
	workers      []*worker
	ring         ring           // shared packet cache: NACKs of every viewer, fast start
	wg           sync.WaitGroup // worker goroutines

	// guarded by mu (with each worker's binding list)
	mu      sync.Mutex
	bound   int
	pending map[string]*binding // bound by pion, waiting for Start (the viewer's connection)

	// the current Source and the last packet written, read and written by Sources without a lock
	current atomic.Pointer[Source]
	last    atomic.Uint64 // seq<<32 | timestamp of the last packet written
	lastAt  atomic.Int64  // unix nanoseconds of the last packet written; 0 before the first
	written atomic.Uint64 // packets written to bindings, all bindings counted once
	dropped atomic.Uint64 // packets not delivered to a binding because its worker fell behind
	resent  atomic.Uint64 // packets retransmitted in answer to NACKs
}

// newTrack makes a Track of the given kind whose msid stream id is streamID, with one fan-out
// worker per core.
func newTrack(kind webrtc.RTPCodecType, streamID string, onStart func()) *Track {
	t := &Track{id: kind.String(), streamID: streamID, kind: kind, onStart: onStart, pending: make(map[string]*binding)}
	for range runtime.GOMAXPROCS(0) {
		t.workers = append(t.workers, newWorker(t))
	}
	return t
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

// Dropped returns how many packet deliveries were skipped because a fan-out worker fell more
// than its queue behind the publisher (counted once per binding).
func (t *Track) Dropped() uint64 { return t.dropped.Load() }

// Resent returns how many packets were retransmitted in answer to viewers' NACKs.
func (t *Track) Resent() uint64 { return t.resent.Load() }

// Written returns how many packets have been written to viewers (counted once per packet, not
// once per viewer).
func (t *Track) Written() uint64 { return t.written.Load() }

// Bind is called by pion when a viewer's sender starts. For an answerer (every WHEP session) that
// is inside SetLocalDescription, before ICE and DTLS: pion drops what is written before SRTP is
// ready, so the binding only records the negotiated payload types and waits for Start. It returns
// the codec matching the current publisher if the viewer has it, else the first negotiated one.
func (t *Track) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codecs := ctx.CodecParameters()
	b := &binding{id: ctx.ID(), ssrc: uint32(ctx.SSRC()), writer: ctx.WriteStream(), pt: make(map[string]uint8)}
	var chosen *webrtc.RTPCodecParameters
	for i := range codecs {
		key := codecKey(codecs[i].RTPCodecCapability)
		if key == "" {
			continue // RTX, FEC: we send only the primary stream
		}
		if _, ok := b.pt[key]; ok && !prefers(codecs[i].RTPCodecCapability) {
			continue
		}
		b.pt[key] = uint8(codecs[i].PayloadType)
		if chosen == nil {
			chosen = &codecs[i]
		}
	}
	if chosen == nil {
		return webrtc.RTPCodecParameters{}, ErrNoCodec
	}
	if src := t.current.Load(); src != nil {
		for i := range codecs {
			if codecKey(codecs[i].RTPCodecCapability) == src.key {
				chosen = &codecs[i]
				break
			}
		}
	}
	t.mu.Lock()
	t.pending[b.id] = b
	t.mu.Unlock()
	return *chosen, nil
}

// Start begins sending to the viewer bound with this SSRC; its session calls it once the
// PeerConnection is connected (SRTP ready). A video viewer starts from the newest cached keyframe
// (fast start, so it decodes a picture at once even from a publisher that ignores keyframe
// requests); without one, the publisher is asked for a keyframe. It reports whether a binding
// with that SSRC was waiting.
func (t *Track) Start(ssrc uint32) bool {
	t.mu.Lock()
	var b *binding
	for id, p := range t.pending {
		if p.ssrc == ssrc {
			b = p
			delete(t.pending, id)
			break
		}
	}
	t.mu.Unlock()
	if b == nil {
		return false
	}

	b.live = true
	fast := false
	keyE, keyTS, head, headTS, cached := t.ring.join()
	b.from = head
	if t.kind == webrtc.RTPCodecTypeVideo && cached {
		b.live, fast = false, true
		b.catchUpFrom(keyE, keyTS, headTS)
	}

	t.mu.Lock()
	w := t.workers[0]
	if t.bound >= spreadAt {
		for _, x := range t.workers[1:] {
			if x.count.Load() < w.count.Load() {
				w = x
			}
		}
	}
	old := *w.bindings.Load()
	next := make([]*binding, 0, len(old)+1)
	next = append(next, old...)
	w.setBindings(append(next, b))
	t.bound++
	t.mu.Unlock()

	if t.onStart != nil && !fast {
		t.onStart()
	}
	return true
}

func (t *Track) Unbind(ctx webrtc.TrackLocalContext) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pending, ctx.ID())
	for _, w := range t.workers {
		old := *w.bindings.Load()
		for i, b := range old {
			if b.id != ctx.ID() {
				continue
			}
			next := make([]*binding, 0, len(old)-1)
			next = append(next, old[:i]...)
			w.setBindings(append(next, old[i+1:]...))
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

// lastWritten returns the sequence number, timestamp and time of the last packet written, and
// whether there was one.
func (t *Track) lastWritten() (seq uint16, ts uint32, at time.Time, ok bool) {
	ns := t.lastAt.Load()
	if ns == 0 {
		return 0, 0, time.Time{}, false
	}
	v := t.last.Load()
	return uint16(v >> 32), uint32(v), time.Unix(0, ns), true
}
