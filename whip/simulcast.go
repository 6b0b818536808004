package whip

import (
	"sync"
	"sync/atomic"
	"time"
)

// Simulcast layer choice. A publisher may send several encodings of its video (simulcast, RFC
// 8853: OBS 30+, browsers with sendEncodings); wisp forwards one of them to every viewer. The
// first layer to arrive is forwarded at once, so viewers start without delay; then, every
// layerWindow, the layer carrying the most bits among those still sending becomes the target,
// and it replaces the forwarded one at its next keyframe (asked for with a PLI), so viewers see a
// clean switch with continuous sequence numbers and timestamps (stream.Source). When the
// forwarded layer stops (a browser drops its top layer under congestion), the best remaining one
// takes over the same way.
const (
	layerWindow     = 500 * time.Millisecond // how often rates are compared
	layerIdle       = time.Second            // a layer silent this long is not sending
	layerHysteresis = 1.3                    // a better layer must carry this much more to win
	layerPLIEvery   = time.Second            // PLI interval to a target layer while it has no keyframe
)

// layer is one video encoding of the publisher: one remote track and its read goroutine.
type layer struct {
	rid  string
	ssrc uint32

	bytes atomic.Int64 // payload bytes received, written by the read goroutine
	last  atomic.Int64 // arrival of the latest packet, Unix nanoseconds

	// owned by the chooser (layers.choose)
	seen int64   // bytes at the previous window
	rate float64 // bytes per second over the last window
}

// received records a packet of n payload bytes.
func (l *layer) received(n int, now time.Time) {
	l.bytes.Add(int64(n))
	l.last.Store(now.UnixNano())
}

// layers is a publisher's set of video layers and which of them feeds the stream.
type layers struct {
	mu      sync.Mutex
	all     []*layer
	current *layer // forwarded; nil until the first packet
	target  *layer // to replace current at its next keyframe; nil if none
	asked   time.Time
}

// add registers a layer; it reports whether the set now has several, which starts the chooser.
func (ls *layers) add(l *layer) (several bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.all = append(ls.all, l)
	return len(ls.all) == 2
}

// Roles a packet's layer can have, from layers.forward.
const (
	skip     = iota // not the forwarded layer: drop the packet
	keep            // the forwarded layer: write the packet
	first           // the first layer to arrive: start a Source, write
	switched        // the target layer took over at this keyframe: start a Source, write
)

// forward says what to do with a packet of l. keyStart says the packet starts a keyframe: only
// then may a target layer take over.
func (ls *layers) forward(l *layer, keyStart bool) int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	switch {
	case ls.current == nil:
		ls.current = l
		return first
	case ls.current == l:
		return keep
	case ls.target == l && keyStart:
		ls.current, ls.target = l, nil
		return switched
	}
	return skip
}

// choose compares the layers' rates over the window since the last call and picks a target. It
// returns the SSRC to ask for a keyframe, 0 if none is due. Layers without a RID (a second plain
// video track) never take over from the first.
func (ls *layers) choose(now time.Time, window time.Duration) (pli uint32) {
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
	cur := ls.current
	switch {
	case cur == nil || best == nil || best == cur:
		ls.target = nil
		return 0
	case cur.rid == "":
		return 0
	}
	curIdle := now.Sub(time.Unix(0, cur.last.Load())) > layerIdle
	if !curIdle && best.rate < cur.rate*layerHysteresis {
		ls.target = nil
		return 0
	}
	if ls.target != best {
		ls.target, ls.asked = best, time.Time{}
	}
	if now.Sub(ls.asked) < layerPLIEvery {
		return 0
	}
	ls.asked = now
	return best.ssrc
}
