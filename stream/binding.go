package stream

import (
	"sync/atomic"

	"github.com/pion/webrtc/v4"
)

// binding is one viewer's end of a Track: its SSRC, its writer, the payload type it negotiated
// for each codec and, for a viewer that joined mid-GOP, how it catches up with live.
type binding struct {
	// set at Bind, immutable
	id     string
	ssrc   uint32
	writer webrtc.TrackLocalWriter
	pt     map[string]uint8 // codec key → negotiated payload type
	tsEnd  uint32           // catch-up: the timestamp from which the original timeline resumes
	keyTS  uint32           // catch-up: the keyframe's timestamp; its packets go in one burst

	from uint64 // the ring head at Start: older packets (stale queued events) are not sent

	// owned by the binding's worker
	live   bool   // receiving live packets (false while replaying the cached GOP)
	cursor uint64 // next cached packet to replay while !live

	compressing atomic.Bool   // timestamps before tsEnd are still being compressed
	failed      atomic.Uint64 // writes that failed
}

// catchUpFrom makes b replay the ring from keyE (a keyframe at keyTS) while live continues
// from head (at headTS). The replay runs at about catchUpBurst× real time, so it reaches live
// when live reaches tsEnd = headTS + (headTS-keyTS)/(catchUpBurst-1). Timestamps before tsEnd are
// compressed by catchUpBurst towards tsEnd: the viewer's jitter buffer sees the GOP arrive at the
// pace its timestamps say, decodes it quickly, and ends at live latency with one continuous,
// monotonic timeline (tsEnd maps to itself).
//
// It is called from Track.Start, once the viewer's connection is up: a keyframe written before
// SRTP is ready would be dropped by pion and lost for good (a viewer does not NACK what precedes
// its first packet).
func (b *binding) catchUpFrom(keyE uint64, keyTS uint32, headTS uint32) {
	b.cursor, b.keyTS = keyE, keyTS
	b.tsEnd = headTS + (headTS-keyTS)/(catchUpBurst-1)
	b.compressing.Store(true)
}

// timestamp maps a Track timestamp to the one this viewer sees.
func (b *binding) timestamp(ts uint32) uint32 {
	if !b.compressing.Load() {
		return ts
	}
	d := int32(ts - b.tsEnd)
	if d >= 0 {
		b.compressing.Store(false)
		return ts
	}
	return b.tsEnd - uint32(-d)/catchUpBurst
}
