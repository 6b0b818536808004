package stream

import (
	"sync"
	"time"
)

// maxPayload bounds a cached payload: RTP over a 1500-byte path never carries more.
const maxPayload = 1500

// nackWindow is how much media a ring keeps for NACK answers, whether or not it belongs to the
// current GOP: a viewer asks within a few round trips, well under a second. It is measured in
// RTP time, not by arrival, so a backlog read at once after a stall does not look like a second
// of packets.
const nackWindow = time.Second

// Ring sizes. A ring starts small, grows when it would have to drop a packet it still needs (the
// current GOP for fast start, the last nackWindow for NACKs) and shrinks when it has held far more
// than it needed for ringCheck, so its memory follows the feed's bitrate and GOP length.
const (
	videoSlots, videoBytes = 256, 256 << 10 // about 0.75 s of 2.7 Mbit/s video
	audioSlots, audioBytes = 64, 8 << 10    // about 1.2 s of 48 kbit/s Opus
	maxSlots, maxBytes     = 1 << 15, 16 << 20
	ringCheck              = 5 * time.Second
)

// slot indexes one cached packet; its payload is n bytes at arena position pos.
type slot struct {
	eseq   uint64 // extended sequence number; 0 means empty
	pos    uint64 // absolute position of the payload in the arena (see ring.wpos)
	at     int64  // arrival, Unix nanoseconds
	ts     uint32
	n      uint16
	marker bool
	key    bool // carries (the start of) a keyframe
}

// meta is what a reader gets of a cached packet besides its payload.
type meta struct {
	at     int64
	ts     uint32
	marker bool
	key    bool
}

// readStatus says why a read found no packet.
type readStatus uint8

const (
	readOK   readStatus = iota
	readHole            // never received (or not yet)
	readGone            // evicted or overwritten: the ring no longer holds it
)

// ring is a Feed's packet cache, indexed by extended sequence number: it answers every viewer's
// NACKs (no per-viewer copies) and holds the current GOP for joining viewers (fast start).
// Payloads live back to back in one byte arena, so a ring costs what its packets weigh, not a
// fixed number of MTU-sized slots. Written by the Feed's producer; read by fan-out workers and
// viewers' RTCP readers; every access holds mu briefly and copies out. Pushing allocates only
// when the ring resizes, never per packet in steady state.
type ring struct {
	mu                 sync.RWMutex
	minSlots, minBytes int
	window             int32  // nackWindow in RTP timestamp units
	slots              []slot // a power of two; nil until the first packet and after close
	data               []byte // the arena; a payload never wraps around its end
	wpos               uint64 // absolute arena position after the newest payload
	closed             bool

	head, tail uint64 // newest and oldest extended seq held; 0 before the first packet
	headTS     uint32
	nackE      uint64 // oldest packet within nackWindow of the newest (or tail)
	// frame bookkeeping for fast start
	frameE  uint64 // first packet of the newest frame
	frameTS uint32
	keyE    uint64 // first packet of the newest keyframe; 0 if none usable
	keyTS   uint32
	// sizing: the most the ring needed since checkAt
	needBytes, needPkts uint64
	checkAt             int64
}

// newRing makes an empty ring that starts at slots packets and bytes of payload, for a feed with
// the given RTP clock rate.
func newRing(slots, bytes int, clock uint32) ring {
	return ring{minSlots: slots, minBytes: bytes, window: int32(int64(clock) * int64(nackWindow) / int64(time.Second))}
}

// extend maps a 16-bit sequence number to the extended line, relative to the newest packet.
// Caller holds mu (either mode).
func (r *ring) extend(seq uint16) uint64 {
	if r.head == 0 {
		return uint64(seq) + 1<<16 // never 0, and room below for late packets
	}
	return uint64(int64(r.head) + int64(int16(seq-uint16(r.head))))
}

// push caches one packet that arrived at at (Unix ns) and returns its extended sequence number;
// ok is false for a packet too old to cache. key marks a packet that carries a keyframe (H.264
// IDR/SPS, VP8 key frame); the keyframe starts at the first packet of its frame (same timestamp).
func (r *ring) push(seq uint16, ts uint32, marker bool, payload []byte, key bool, at int64) (e uint64, ok bool) {
	if len(payload) > maxPayload {
		payload = payload[:maxPayload]
	}
	n := uint64(len(payload))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, false
	}
	if r.slots == nil {
		r.slots, r.data = make([]slot, r.minSlots), make([]byte, r.minBytes)
		r.checkAt = at + int64(ringCheck)
	}
	e = r.extend(seq)
	if r.head != 0 && (e < r.tail || e+uint64(len(r.slots)) <= r.head) {
		return e, false // older than anything held: a late duplicate nobody can use
	}
	r.makeRoom(e, n)
	pos := r.place(n)
	r.slots[e&uint64(len(r.slots)-1)] = slot{eseq: e, pos: pos, at: at, ts: ts, n: uint16(n), marker: marker, key: key}
	off := pos % uint64(len(r.data))
	copy(r.data[off:off+n], payload)
	r.wpos = pos + n
	if r.head == 0 {
		r.tail, r.nackE = e, e
	}
	if e > r.head {
		r.head, r.headTS = e, ts
		if r.frameE == 0 || ts != r.frameTS {
			r.frameE, r.frameTS = e, ts
		}
		if key {
			r.keyE, r.keyTS = r.frameE, ts
		}
	}
	r.account(at)
	return e, true
}

// place returns where a payload of n bytes goes: at wpos, or at the start of the arena if it
// would run past its end (the skipped bytes count as written). Caller holds mu.
func (r *ring) place(n uint64) uint64 {
	size := uint64(len(r.data))
	if off := r.wpos % size; off+n > size {
		return r.wpos + size - off
	}
	return r.wpos
}

// makeRoom evicts, oldest first, the packets that packet e with n payload bytes would overwrite
// (its index slot or its arena bytes). Before evicting a packet still needed it grows the ring;
// at the size limit it evicts anyway, and a GOP that no longer fits is not offered to joiners.
// Caller holds mu.
func (r *ring) makeRoom(e, n uint64) {
	for r.head != 0 && r.tail <= r.head {
		s := &r.slots[r.tail&uint64(len(r.slots)-1)]
		if s.eseq != r.tail {
			r.tail++ // a hole, or already overwritten
			continue
		}
		indexFull := e >= r.tail+uint64(len(r.slots))
		dataFull := r.place(n)+n > s.pos+uint64(len(r.data))
		if !indexFull && !dataFull {
			return
		}
		if r.needed(r.tail) {
			slots, bytes := len(r.slots), len(r.data)
			if indexFull && slots < maxSlots {
				slots *= 2
			}
			if dataFull && bytes < maxBytes {
				bytes = min(bytes+bytes/2, maxBytes) &^ 4095
			}
			if slots != len(r.slots) || bytes != len(r.data) {
				r.resize(slots, bytes)
				continue
			}
			if r.tail >= r.keyE {
				r.keyE = 0 // the GOP no longer fits: joiners wait for the next keyframe
			}
		}
		r.tail++
	}
}

// needed reports whether packet e must stay: it belongs to the current GOP or the NACK window.
func (r *ring) needed(e uint64) bool { return e >= r.nackE || (r.keyE != 0 && e >= r.keyE) }

// account advances the NACK window to the newest packet (arrived at at), records how much the
// ring needs, and every ringCheck shrinks it if it held more than twice that. A packet leaves the
// window when it is nackWindow of media older than the newest, or (a timestamp jump) when its
// timestamp is ahead of the newest or it arrived more than twice nackWindow ago. Caller holds mu.
func (r *ring) account(at int64) {
	r.nackE = max(r.nackE, r.tail)
	mask := uint64(len(r.slots) - 1)
	for r.nackE < r.head {
		s := &r.slots[r.nackE&mask]
		if d := int32(r.headTS - s.ts); s.eseq == r.nackE && d >= 0 && d < r.window && at-s.at < 2*int64(nackWindow) {
			break
		}
		r.nackE++
	}
	oldest := r.nackE
	if r.keyE != 0 && r.keyE < oldest {
		oldest = r.keyE
	}
	if s := &r.slots[oldest&mask]; s.eseq == oldest {
		r.needBytes = max(r.needBytes, r.wpos-s.pos)
	}
	r.needPkts = max(r.needPkts, r.head-oldest+1)
	if at < r.checkAt {
		return
	}
	r.checkAt = at + int64(ringCheck)
	slots, bytes := len(r.slots), len(r.data)
	for slots > r.minSlots && uint64(slots) >= 4*r.needPkts {
		slots /= 2
	}
	if want := r.needBytes + r.needBytes/4; uint64(bytes) > 2*want {
		bytes = max(r.minBytes, int(want+4095)&^4095)
	}
	if slots != len(r.slots) || bytes != len(r.data) {
		r.resize(slots, bytes)
	}
	r.needBytes, r.needPkts = 0, 0
}

// resize moves the ring into an index of nslots and an arena of nbytes, keeping the newest
// packets that fit. Caller holds mu.
func (r *ring) resize(nslots, nbytes int) {
	oldMask, oldSize := uint64(len(r.slots)-1), uint64(len(r.data))
	intact := func(e uint64) (*slot, bool) {
		s := &r.slots[e&oldMask]
		return s, s.eseq == e && s.pos+oldSize >= r.wpos
	}
	// The oldest packet kept: walk back from the newest while the packets fit.
	from, used := r.head+1, uint64(0)
	for e := r.head; e >= r.tail && e+uint64(nslots) > r.head && e > 0; e-- {
		if s, ok := intact(e); ok {
			if used+uint64(s.n) > uint64(nbytes) {
				break
			}
			used += uint64(s.n)
		}
		from = e
	}
	slots, data := make([]slot, nslots), make([]byte, nbytes)
	mask, w := uint64(nslots-1), uint64(0)
	for e := from; e <= r.head && e >= from; e++ {
		s, ok := intact(e)
		if !ok {
			continue
		}
		off := s.pos % oldSize
		copy(data[w:], r.data[off:off+uint64(s.n)])
		ns := *s
		ns.pos = w
		slots[e&mask] = ns
		w += uint64(s.n)
	}
	r.slots, r.data, r.wpos = slots, data, w
	if r.head != 0 {
		r.tail = from
	}
	if r.keyE != 0 && r.keyE < r.tail {
		r.keyE = 0
	}
}

// close frees the ring's memory; reads then find nothing.
func (r *ring) close() {
	r.mu.Lock()
	r.slots, r.data, r.closed, r.keyE = nil, nil, true, 0
	r.mu.Unlock()
}

// size returns the ring's index length and arena bytes.
func (r *ring) size() (slots, bytes int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.slots), len(r.data)
}

// join returns where a joining viewer starts: the newest keyframe's first packet and timestamp,
// and the newest packet's extended seq and timestamp. ok is false when no usable keyframe is held.
func (r *ring) join() (keyE uint64, keyTS uint32, head uint64, headTS uint32, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keyE, r.keyTS, r.head, r.headTS, r.keyE != 0
}

// read copies packet e into buf.
func (r *ring) read(e uint64, buf []byte) (n int, m meta, st readStatus) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.slots == nil {
		return 0, meta{}, readGone
	}
	s := &r.slots[e&uint64(len(r.slots)-1)]
	switch {
	case s.eseq == e && s.pos+uint64(len(r.data)) >= r.wpos:
		off := s.pos % uint64(len(r.data))
		return copy(buf, r.data[off:off+uint64(s.n)]), meta{at: s.at, ts: s.ts, marker: s.marker, key: s.key}, readOK
	case e < r.tail || e+uint64(len(r.slots)) <= r.head || s.eseq == e:
		return 0, meta{}, readGone
	}
	return 0, meta{}, readHole
}
