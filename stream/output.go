package stream

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// Output is one viewer's end of a Track: the Feed it follows, the rewriting that makes what it
// sends one continuous RTP stream (one SSRC, sequence numbers without a gap, timestamps that go on
// at wall-clock pace) across changes of Feed and publisher restarts, the translation of the
// viewer's NACKs back to Feed packets, and its own counters.
//
// A change of Feed happens at the target Feed's keyframe: the output keeps sending the Feed it
// follows until then (audio, which has no keyframes, changes at the next packet; so does an
// output whose Feed has ended, as after a publisher restart).
type Output struct {
	// Hot fields first, read or written for every packet, so they share few cache lines.

	// set at Bind, immutable
	ssrc   uint32
	kind   webrtc.RTPCodecType
	writer webrtc.TrackLocalWriter

	choice atomic.Pointer[Feed] // the viewer's own choice; nil follows the Track's (Follow)
	only   atomic.Bool          // the choice holds after its Feed ends: nothing else is sent (FollowOnly)
	feed   atomic.Pointer[Feed] // the Feed followed now; written by the worker (and Start)
	live   atomic.Bool          // receiving live packets (false while replaying the cached GOP)

	// owned by the output's worker (and Start, before the worker has it)
	from    uint64 // the Feed packet from which the output follows (older queued events are stale)
	seqOff  uint64 // out extended seq = Feed extended seq + seqOff
	tsOff   uint32 // out timestamp = Feed timestamp + tsOff (before catch-up compression)
	lastTS  uint32 // timestamp of the newest packet sent
	lastAt  int64  // its arrival at the Feed, Unix ns; 0 before the first packet
	ptFeed  *Feed  // the Feed whose payload type curPT is
	curPT   uint8
	curPTOK bool

	compressing atomic.Bool   // timestamps before tsEnd are still being compressed
	compressEnd atomic.Uint64 // 1 + the out extended seq from which nothing is compressed; 0 before
	lastOut     atomic.Uint64 // newest extended sequence number sent; 0 before the first
	firstSent   atomic.Int64  // Unix ns of the first packet sent (a keyframe's, for video); 0 before
	stats       outputCounters

	// Cold fields.

	// set at Bind, immutable
	id     string
	pt     map[string]uint8 // codec key → negotiated payload type
	tsEnd  uint32           // catch-up: the timestamp from which the original timeline resumes
	caught bool             // catch-up: the output started with a replay (its first packets compressed)
	keyTS  uint32           // catch-up: the keyframe's timestamp; its packets go in one burst

	cursor uint64 // owned by the worker: next cached packet to replay while !live

	// owned by the worker: the Feed whose keyframe the output last asked for while waiting to
	// switch to it, and when (askKeyframe)
	keyFor *Feed
	keyAt  int64

	// probe padding (pad.go): the viewer's RTX SSRC and payload type, 0/false without RTX (set at
	// Bind); padSeq and padTS are owned by the one caller of Pad
	rtxSSRC uint32
	rtxPT   uint8
	rtxPTOK bool
	padSeq  uint16
	padTS   uint32

	resend atomic.Pointer[resendLimiter] // nil: NACKs answered without a bound (resend.go)

	// guarded by mu: the segments of the output's sequence line, for NACK translation
	mu   sync.Mutex
	segs [maxSegments]segment
	nseg int
}

// maxSegments is how many Feed changes back an output answers NACKs for: the packets sent before
// the last few switches (a NACK comes within a round trip; switches are seconds apart).
const maxSegments = 4

// segment is a stretch of an output's sequence line that came from one Feed with one mapping.
type segment struct {
	out    uint64 // first extended sequence number of the stretch
	feed   *Feed
	seqOff uint64
	tsOff  uint32
}

// Follow makes the output follow f, switching at f's next keyframe; nil (or f's end) returns it
// to the stream-wide choice (Stream.Follow). Safe for concurrent use.
func (o *Output) Follow(f *Feed) {
	o.only.Store(false)
	o.choice.Store(f)
}

// FollowOnly makes the output follow f and nothing else: it switches to f at f's next keyframe
// (even after the Feed it sent has ended) and, once f ends, sends nothing until it is told
// another Feed. A node pulling each simulcast layer on its own section uses it: another layer's
// packets must never arrive as this one's, nor a new encoder's from the middle of a picture
// group. Safe for concurrent use.
func (o *Output) FollowOnly(f *Feed) {
	o.only.Store(true)
	o.choice.Store(f)
}

// Feed returns the Feed the output sends now (nil before any).
func (o *Output) Feed() *Feed { return o.feed.Load() }

// SSRC is the viewer's SSRC for this output.
func (o *Output) SSRC() uint32 { return o.ssrc }

// want returns the Feed the output should follow: its own choice while that Feed lives, else
// the Track's.
func (o *Output) want(current *Feed) *Feed {
	if f := o.choice.Load(); f != nil && (!f.closed.Load() || o.only.Load()) {
		return f
	}
	return current
}

// canSwitch reports whether packet m of f, the Feed the output wants, is a point to switch at:
// a keyframe, any packet of audio, or any packet once the Feed it sent has ended, but for an
// output following only f (FollowOnly), which waits for f's keyframe then too.
func (o *Output) canSwitch(f *Feed, m meta) bool {
	cur := o.feed.Load()
	return cur == nil || (cur.closed.Load() && !o.only.Load()) || !f.video || m.key
}

// switchTo makes f, at its packet e, the Feed the output follows: the new Feed's numbers are
// mapped so that e is sent with the next sequence number and a timestamp advanced by the
// wall-clock time since the last packet sent (at least one frame). The first Feed an output ever
// sends passes its numbers through.
func (o *Output) switchTo(f *Feed, e uint64, m meta) {
	if o.lastAt != 0 {
		o.seqOff = o.lastOut.Load() + 1 - e
		gap := time.Duration(m.at - o.lastAt)
		gap = max(gap, f.minGap())
		step := uint32((int64(gap)*int64(f.clock) + int64(time.Second) - 1) / int64(time.Second)) // rounded up
		o.tsOff = o.lastTS + step - m.ts
		if o.compressing.Load() { // the catch-up mapping ends here; the new one starts at lastTS
			o.endCompression(e + o.seqOff)
		}
	}
	o.from = e
	o.feed.Store(f)
	o.mu.Lock()
	if o.nseg == maxSegments {
		copy(o.segs[:], o.segs[1:])
		o.nseg--
	}
	o.segs[o.nseg] = segment{out: e + o.seqOff, feed: f, seqOff: o.seqOff, tsOff: o.tsOff}
	o.nseg++
	o.mu.Unlock()
	o.stats.switches.Add(1)
}

// keyframeRetry is how often an output waiting to switch to a Feed asks again for its keyframe.
const keyframeRetry = time.Second

// askKeyframe asks the publisher, through the Track's keyframe requester (Stream.RequestKeyframeOf,
// coalesced per layer and rate-limited by the publisher), for a keyframe of f, the Feed the output
// waits to switch to: when it begins waiting and every keyframeRetry (at packet arrival now, Unix
// ns) while it still waits. Browsers send keyframes only when asked: without it a viewer moved to
// another layer (its own choice or the automatic one) waited for good. A publisher that ignores
// the request (OBS) is switched at its next keyframe, as before. Called by the output's worker.
func (o *Output) askKeyframe(t *Track, f *Feed, now int64) {
	if t.onStart == nil || (o.keyFor == f && now-o.keyAt < int64(keyframeRetry)) {
		return
	}
	o.keyFor, o.keyAt = f, now
	t.onStart(f)
}

// start makes f (nil if the stream has none yet) the output's Feed without a switch.
func (o *Output) start(f *Feed) {
	o.feed.Store(f)
	if f == nil {
		return
	}
	o.mu.Lock()
	o.segs[0], o.nseg = segment{feed: f}, 1
	o.mu.Unlock()
}

// segmentOf returns the segment that sent extended sequence number out.
func (o *Output) segmentOf(out uint64) (segment, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := o.nseg - 1; i >= 0; i-- {
		if o.segs[i].out <= out {
			return o.segs[i], true
		}
	}
	return segment{}, false
}

// payloadType returns the payload type the viewer negotiated for f's codec.
func (o *Output) payloadType(f *Feed) (uint8, bool) {
	if o.ptFeed != f {
		o.ptFeed = f
		o.curPT, o.curPTOK = o.pt[f.key]
	}
	return o.curPT, o.curPTOK
}

// catchUpFrom makes o replay its Feed's ring from keyE (a keyframe at keyTS) while live continues
// from head (at headTS). The replay runs at about catchUpBurst× real time, so it reaches live
// when live reaches tsEnd = headTS + (headTS-keyTS)/(catchUpBurst-1). Timestamps before tsEnd are
// compressed by catchUpBurst towards tsEnd: the viewer's jitter buffer sees the GOP arrive at the
// pace its timestamps say, decodes it quickly, and ends at live latency with one continuous,
// monotonic timeline (tsEnd maps to itself).
//
// It is called from Track.Start, once the viewer's connection is up: a keyframe written before
// SRTP is ready would be dropped by pion and lost for good (a viewer does not NACK what precedes
// its first packet).
func (o *Output) catchUpFrom(keyE uint64, keyTS uint32, headTS uint32) {
	o.cursor, o.keyTS = keyE, keyTS
	o.tsEnd = headTS + (headTS-keyTS)/(catchUpBurst-1)
	o.caught = true
	o.compressing.Store(true)
	o.live.Store(false)
}

// timestamp applies the catch-up compression to the output timestamp ts of the packet sent as
// out (extended sequence number). Only the worker calls it: the first packet at or after tsEnd
// ends the compression.
func (o *Output) timestamp(out uint64, ts uint32) uint32 {
	if !o.compressing.Load() {
		return ts
	}
	d := int32(ts - o.tsEnd)
	if d >= 0 {
		o.endCompression(out)
		return ts
	}
	return o.compress(ts)
}

// endCompression records that packets from out on are not compressed. Worker only.
func (o *Output) endCompression(out uint64) {
	o.compressEnd.Store(out + 1)
	o.compressing.Store(false)
}

// compress maps a timestamp before tsEnd onto the catch-up timeline.
func (o *Output) compress(ts uint32) uint32 {
	return o.tsEnd - uint32(-int32(ts-o.tsEnd))/catchUpBurst
}

// sentTimestamp is the timestamp packet out (output timestamp ts before compression) was sent
// with: a retransmission must carry it, or the viewer could not put the packet into its frame.
// Safe for concurrent use with the worker (NACK answers); it changes nothing.
func (o *Output) sentTimestamp(out uint64, ts uint32) uint32 {
	if !o.caught || int32(ts-o.tsEnd) >= 0 {
		return ts
	}
	if end := o.compressEnd.Load(); end != 0 && out+1 >= end {
		return ts
	}
	return o.compress(ts)
}
