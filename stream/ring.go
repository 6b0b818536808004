package stream

import (
	"sync"
)

// ringSize is how many packets a Track keeps: a whole GOP of a few Mbit/s for fast start (2 s at
// 2.7 Mbit/s is about 500 packets) and the NACK window of every viewer. A power of two.
const ringSize = 4096

// maxPayload bounds a cached payload: RTP over a 1500-byte path never carries more.
const maxPayload = 1500

// smallPayload is the smaller slot size class (see push).
const smallPayload = 512

// slot is one cached outgoing packet. Its payload buffer is reused when the slot is overwritten,
// so caching allocates nothing once the ring has filled.
type slot struct {
	eseq    uint64 // extended sequence number; 0 means empty
	ts      uint32
	marker  bool
	codec   string // codec key of the Source that wrote it (payload-type lookup per binding)
	payload []byte
}

// ring is a Track's shared packet cache, indexed by extended outgoing sequence number. One ring
// answers the NACKs of every viewer (no per-viewer packet copies) and holds the latest GOP for
// joining viewers (fast start). Written by the current Source's goroutine, read by the fan-out
// workers and by viewers' RTCP readers; every access holds mu briefly and copies out.
type ring struct {
	mu     sync.RWMutex
	slots  [ringSize]slot
	head   uint64 // extended seq of the newest packet; 0 before the first
	headTS uint32
	// frame bookkeeping for fast start
	frameE  uint64 // extended seq of the first packet of the newest frame
	frameTS uint32
	keyE    uint64 // extended seq of the first packet of the newest keyframe; 0 if none usable
	keyTS   uint32
}

// extend maps a 16-bit sequence number to the extended line, relative to the newest packet.
// Caller holds mu (either mode).
func (r *ring) extend(seq uint16) uint64 {
	if r.head == 0 {
		return uint64(seq) + 1<<16 // never 0, and room below for late packets
	}
	return uint64(int64(r.head) + int64(int16(seq-uint16(r.head))))
}

// push caches one packet and returns its extended sequence number. key marks a packet that
// belongs to a keyframe (H.264 IDR/SPS, VP8 key frame); the keyframe starts at the first packet of
// its frame (same timestamp).
func (r *ring) push(seq uint16, ts uint32, marker bool, codec string, payload []byte, key bool) uint64 {
	if len(payload) > maxPayload {
		payload = payload[:maxPayload]
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.extend(seq)
	s := &r.slots[e%ringSize]
	s.eseq, s.ts, s.marker, s.codec = e, ts, marker, codec
	if cap(s.payload) < len(payload) {
		// Two size classes: audio packets (Opus is rarely above 512 bytes) keep an audio ring at
		// 2 MiB, video packets get a full-size buffer so a slot is allocated only once.
		size := maxPayload
		if len(payload) <= smallPayload {
			size = smallPayload
		}
		s.payload = make([]byte, 0, size)
	}
	s.payload = append(s.payload[:0], payload...)
	if e <= r.head {
		return e // late (retransmitted or reordered): cached, frames unchanged
	}
	r.head, r.headTS = e, ts
	if r.frameE == 0 || ts != r.frameTS {
		r.frameE, r.frameTS = e, ts
	}
	if key {
		r.keyE, r.keyTS = r.frameE, ts
	}
	if r.keyE != 0 && r.head-r.keyE >= ringSize-64 {
		r.keyE = 0 // the GOP no longer fits: joiners wait for the next keyframe
	}
	return e
}

// forgetKeyframe makes the cached GOP unusable for joiners (a new publisher's frames do not
// follow the old publisher's keyframe).
func (r *ring) forgetKeyframe() {
	r.mu.Lock()
	r.keyE = 0
	r.mu.Unlock()
}

// join returns where a joining viewer starts: the newest keyframe's first packet and timestamp,
// and the newest packet's extended seq and timestamp. ok is false when no usable keyframe is held.
func (r *ring) join() (keyE uint64, keyTS uint32, head uint64, headTS uint32, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keyE, r.keyTS, r.head, r.headTS, r.keyE != 0
}

// read copies packet e into buf. ok is false if the slot holds another packet (never received,
// or overwritten because it is more than ringSize behind).
func (r *ring) read(e uint64, buf []byte) (n int, ts uint32, marker bool, codec string, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := &r.slots[e%ringSize]
	if s.eseq != e {
		return 0, 0, false, "", false
	}
	return copy(buf, s.payload), s.ts, s.marker, s.codec, true
}

// readSeq is read for a 16-bit sequence number (a NACK), resolved against the newest packet.
func (r *ring) readSeq(seq uint16, buf []byte) (n int, ts uint32, marker bool, codec string, ok bool) {
	r.mu.RLock()
	if r.head == 0 {
		r.mu.RUnlock()
		return 0, 0, false, "", false
	}
	e := r.extend(seq)
	r.mu.RUnlock()
	return r.read(e, buf)
}
