package whip

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/wisp-media/wisp/stream"
)

// Simulcast layer choice. A publisher may send several encodings of its video (simulcast, RFC
// 8853: OBS 30+, browsers with sendEncodings); each has its own stream.Feed, and viewers follow
// one of them. The first layer to arrive is followed at once, so viewers start without delay;
// then, every layerWindow, the layer carrying the most bits among those still sending becomes the
// one followed. Viewers' outputs switch to it at its next keyframe (asked for with a PLI until it
// comes), so they see a clean switch with continuous sequence numbers and timestamps
// (stream.Output). When the followed layer stops (a browser drops its top layer under
// congestion), the best remaining one takes over the same way.
const (
	layerWindow     = 500 * time.Millisecond // how often rates are compared
	layerIdle       = time.Second            // a layer silent this long is not sending
	layerHysteresis = 1.3                    // a better layer must carry this much more to win
	layerPLIEvery   = time.Second            // PLI interval to a followed layer until its keyframe
)

// keyframeCounter is what the chooser needs of a layer's Feed: how many keyframes it has had.
type keyframeCounter interface{ Keyframes() uint64 }

// layer is one video encoding of the publisher: one remote track, its read goroutine and its Feed.
type layer struct {
	rid  string
	ssrc uint32
	feed *stream.Feed    // nil in tests
	keys keyframeCounter // the Feed, or a test's fake

	bytes atomic.Int64 // payload bytes received, written by the read goroutine
	last  atomic.Int64 // arrival of the latest packet, Unix nanoseconds

	// owned by the read goroutine (newer)
	maxSeq  uint16 // newest sequence number received
	seqSeen bool

	// owned by the chooser (layers.choose)
	seen int64   // bytes at the previous window
	rate float64 // bytes per second over the last window
}

// received records a packet of n payload bytes.
func (l *layer) received(n int, now time.Time) {
	l.bytes.Add(int64(n))
	l.last.Store(now.UnixNano())
}

// newer reports whether seq is past the newest sequence number the layer has had, and records it.
// Browsers send recent packets again on their RTX stream as bandwidth-probe padding (Chromium:
// hundreds of kbit/s on its lowest layer while its estimate ramps up) and pion hands them over
// like repairs: they are not the layer's media and must not make it look the biggest.
func (l *layer) newer(seq uint16) bool {
	if l.seqSeen && int16(seq-l.maxSeq) <= 0 {
		return false
	}
	l.seqSeen, l.maxSeq = true, seq
	return true
}

// keyframes returns how many keyframes the layer's Feed has had.
func (l *layer) keyframes() uint64 {
	switch {
	case l.keys != nil:
		return l.keys.Keyframes()
	case l.feed != nil:
		return l.feed.Keyframes()
	}
	return 0
}

// layers is a publisher's set of video layers and which of them viewers follow.
type layers struct {
	mu       sync.Mutex
	all      []*layer
	followed *layer // nil until the first packet
	waiting  bool   // viewers wait for followed's keyframe to switch to it
	keysAt   uint64 // followed's keyframe count when it was chosen
	asked    time.Time
}

// add registers a layer; it reports whether the set now has several, which starts the chooser.
func (ls *layers) add(l *layer) (several bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.all = append(ls.all, l)
	return len(ls.all) == 2
}

// arrived records l's first packet; it reports whether l is the first layer to arrive, which
// viewers follow at once.
func (ls *layers) arrived(l *layer) (first bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.followed != nil {
		return false
	}
	ls.followed = l
	return true
}

// choose compares the layers' rates over the window since the last call. It returns the layer
// viewers should follow from now on if that changed (nil otherwise), and the SSRC to ask for a
// keyframe (0 if none is due): the followed layer's, at most once per layerPLIEvery, until it has
// sent a keyframe since it was chosen. Layers without a RID (a second plain video track) never
// take over from the first.
func (ls *layers) choose(now time.Time, window time.Duration) (next *layer, pli uint32) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	var best *layer
	for _, l := range ls.all {
		b := l.bytes.Load()
		l.rate = float64(b-l.seen) / window.Seconds()
		l.seen = b
		if l.rid == "" || now.Sub(time.Unix(0, l.last.Load())) > layerIdle {
			continue
		}
		if best == nil || l.rate > best.rate {
			best = l
		}
	}
	cur := ls.followed
	if cur != nil && best != nil && best != cur && cur.rid != "" {
		curIdle := now.Sub(time.Unix(0, cur.last.Load())) > layerIdle
		if curIdle || best.rate >= cur.rate*layerHysteresis {
			ls.followed, ls.waiting, ls.keysAt, ls.asked = best, true, best.keyframes(), time.Time{}
			next = best
		}
	}
	if ls.waiting && ls.followed.keyframes() != ls.keysAt {
		ls.waiting = false // the keyframe came: viewers have switched
	}
	if ls.waiting && now.Sub(ls.asked) >= layerPLIEvery {
		ls.asked = now
		pli = ls.followed.ssrc
	}
	return next, pli
}
