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

// Ring sizes. The packet index starts small, doubles when it would have to drop a packet still
// needed (the current GOP for fast start, the last nackWindow for NACKs) and halves when half of
// it would still have held what it needed over ringCheck, with a quarter to spare. Payload bytes live in chunks from the shared pool
// (ring_chunks.go), taken as packets arrive and returned as soon as no needed packet is in them,
// so a ring's bytes follow the feed's bitrate and GOP packet by packet.
// A ring also keeps at least its newest videoBytes or audioBytes whatever it needs, so a
// low-bitrate feed's ring keeps more than a second, as the first fixed-size rings did, for
// fan-out workers that fall behind a burst.
const (
	videoSlots, videoBytes = 256, 256 << 10 // about 0.75 s of 2.7 Mbit/s video
	audioSlots, audioBytes = 64, 8 << 10    // about 1.2 s of 48 kbit/s Opus
	maxSlots, maxChunks    = 1 << 15, 2048  // maxChunks: 16 MiB of payload
	ringCheck              = 5 * time.Second
)

// slot indexes one cached packet; its payload is n bytes at absolute position pos (see ring.wpos).
type slot struct {
	eseq   uint64 // extended sequence number; 0 means empty
	pos    uint64
	at     int64 // arrival, Unix nanoseconds
	ts     uint32
	n      uint16
	marker bool
	key    bool // carries (the start of) a keyframe
}

// held is one chunk of a ring and the newest packet written into it.
type held struct {
	c    *chunk
	maxE uint64
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
// Payloads are written back to back into a queue of pool chunks that covers the absolute byte
// positions [base, wpos); the oldest chunk goes back to the pool once every packet in it is
// older than what the ring must keep, so a ring costs what its needed packets weigh (plus the
// chunk being filled), not a fixed number of MTU-sized slots, and nothing is reallocated when a
// GOP ends. Written by the Feed's producer; read by fan-out workers and viewers' RTCP readers;
// every access holds mu briefly and copies out. Pushing allocates nothing in steady state (the
// index resizes rarely; chunks come from the pool).
type ring struct {
	mu       sync.RWMutex
	minSlots int
	minKeep  int    // chunks kept whatever the ring needs
	window   int32  // nackWindow in RTP timestamp units
	slots    []slot // a power of two; nil until the first packet and after close
	chunks   []held // oldest first; the last is being written
	base     uint64 // absolute position of chunks[0]'s first byte
	wpos     uint64 // absolute position after the newest payload
	closed   bool

	head, tail uint64 // newest and oldest extended seq that may be held; 0 before the first packet
	headTS     uint32
	nackE      uint64 // oldest packet within nackWindow of the newest (or tail)
	// frame bookkeeping for fast start
	frameE  uint64 // first packet of the newest frame
	frameTS uint32
	keyE    uint64 // first packet of the newest keyframe; 0 if none usable
	keyTS   uint32
	// a GOP being replayed to joining viewers (see join): kept from pinE while headTS is before
	// pinUntil; pinE is 0 when none is
	pinE     uint64
	pinUntil uint32
	// sizing: the most packets the ring needed since checkAt
	needPkts uint64
	checkAt  int64
}

// newRing makes an empty ring whose index starts at slots packets and that keeps at least its
// newest bytes of payload, for a feed with the given RTP clock rate.
func newRing(slots, bytes int, clock uint32) ring {
	return ring{minSlots: slots, minKeep: max(1, bytes/chunkSize),
		window: int32(int64(clock) * int64(nackWindow) / int64(time.Second))}
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
// ok is false for a packet too old to cache or one held already (a copy: browsers send recent
// packets again on their RTX stream as bandwidth-probe padding, which pion hands over like a
// repair). key marks a packet that carries a keyframe (H.264 IDR/SPS, VP8 key frame); the
// keyframe starts at the first packet of its frame (same timestamp).
func (r *ring) push(seq uint16, ts uint32, marker bool, payload []byte, key bool, at int64) (e uint64, ok bool) {
	if len(payload) > maxPayload {
		payload = payload[:maxPayload]
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, false
	}
	if r.slots == nil {
		r.slots = make([]slot, r.minSlots)
		r.checkAt = at + int64(ringCheck)
	}
	e = r.extend(seq)
	if r.head != 0 && (e < r.tail || e+uint64(len(r.slots)) <= r.head) {
		return e, false // older than anything held: a late duplicate nobody can use
	}
	if r.head != 0 && e <= r.head && r.slots[e&uint64(len(r.slots)-1)].eseq == e {
		return e, false // held already: viewers had it (or NACK it from the ring)
	}
	r.makeRoom(e)
	r.slots[e&uint64(len(r.slots)-1)] = slot{eseq: e, pos: r.wpos, at: at, ts: ts, n: uint16(len(payload)), marker: marker, key: key}
	r.write(payload, e)
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

// write copies packet e's payload to the end of the ring, at absolute position wpos onwards,
// across chunks if it runs past the end of one, and records e in every chunk it touches. It takes
// chunks from the pool as the ring grows. Caller holds mu.
func (r *ring) write(payload []byte, e uint64) {
	for len(payload) > 0 {
		i := (r.wpos - r.base) / chunkSize // at most len(r.chunks): the next chunk to take
		if i == uint64(len(r.chunks)) {
			r.chunks = append(r.chunks, held{c: chunks.get()})
		}
		h := &r.chunks[i]
		k := copy(h.c[r.wpos%chunkSize:], payload)
		h.maxE = max(h.maxE, e)
		payload = payload[k:]
		r.wpos += uint64(k)
	}
}

// copyOut copies n bytes from absolute position pos, held by the ring, into buf and returns how
// many fit. Caller holds mu.
func (r *ring) copyOut(buf []byte, pos uint64, n int) int {
	buf = buf[:min(len(buf), n)]
	done := 0
	for done < len(buf) {
		c := r.chunks[(pos-r.base)/chunkSize].c
		k := copy(buf[done:], c[pos%chunkSize:])
		done += k
		pos += uint64(k)
	}
	return done
}

// intact reports whether s, the slot of packet e, holds e with its payload still in the ring.
// Caller holds mu.
func (r *ring) intact(s *slot, e uint64) bool { return s.eseq == e && s.pos >= r.base }

// makeRoom evicts, oldest first, the packets whose index slots packet e would overwrite. Before
// evicting a packet still needed it doubles the index; at the size limit it evicts anyway, and a
// GOP that no longer fits is not offered to joiners. Caller holds mu.
func (r *ring) makeRoom(e uint64) {
	for r.head != 0 && r.tail <= r.head && e >= r.tail+uint64(len(r.slots)) {
		if s := &r.slots[r.tail&uint64(len(r.slots)-1)]; r.intact(s, r.tail) && r.needed(r.tail) {
			if len(r.slots) < maxSlots {
				r.resize(len(r.slots) * 2)
				continue
			}
			if r.tail >= r.keyE {
				r.keyE = 0 // the GOP no longer fits: joiners wait for the next keyframe
			}
			if r.tail >= r.pinE {
				r.pinE = 0
			}
		}
		r.tail++
	}
}

// oldestNeeded is the oldest packet the ring must keep: the start of the NACK window, of the
// current GOP, or of a GOP being replayed to joiners, whichever is oldest. Caller holds mu.
func (r *ring) oldestNeeded() uint64 {
	oldest := r.nackE
	if r.keyE != 0 && r.keyE < oldest {
		oldest = r.keyE
	}
	if r.pinE != 0 && r.pinE < oldest {
		oldest = r.pinE
	}
	return oldest
}

// needed reports whether packet e must stay.
func (r *ring) needed(e uint64) bool { return e >= r.oldestNeeded() }

// account advances the NACK window to the newest packet (arrived at at), returns the chunks no
// needed packet is in, records how many packets the ring needs, and every ringCheck halves the
// index while half of it holds that and a quarter more. A packet leaves the window when it is nackWindow of
// media older than the newest, or (a timestamp jump) when its timestamp is ahead of the newest or
// it arrived more than twice nackWindow ago. Caller holds mu.
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
	if r.pinE != 0 && int32(r.headTS-r.pinUntil) >= 0 {
		r.pinE = 0 // the joiners have caught up
	}
	oldest := r.oldestNeeded()
	r.release(oldest)
	r.needPkts = max(r.needPkts, r.head-oldest+1)
	if at < r.checkAt {
		return
	}
	r.checkAt = at + int64(ringCheck)
	slots := len(r.slots)
	for slots > r.minSlots && uint64(slots/2) >= r.needPkts+r.needPkts/4 {
		slots /= 2
	}
	if slots != len(r.slots) {
		r.resize(slots)
	}
	r.needPkts = 0
}

// release returns the oldest chunks to the pool while every packet in them is older than oldest
// and more than minKeep chunks remain (or the ring is over maxChunks), then moves the tail past
// what went with them. Caller holds mu.
func (r *ring) release(oldest uint64) {
	k := 0
	for len(r.chunks)-k > maxChunks || len(r.chunks)-k > r.minKeep && r.chunks[k].maxE < oldest {
		k++
	}
	if k == 0 {
		return
	}
	chunks.put(r.chunks[:k])
	n := copy(r.chunks, r.chunks[k:])
	clear(r.chunks[n:])
	r.chunks = r.chunks[:n]
	r.base += uint64(k) * chunkSize
	mask := uint64(len(r.slots) - 1)
	for r.tail < r.head {
		s := &r.slots[r.tail&mask]
		if r.intact(s, r.tail) || s.eseq != r.tail && r.tail >= oldest {
			break // held, or a hole that a late packet may still fill
		}
		r.tail++
	}
	if r.keyE != 0 && !r.intact(&r.slots[r.keyE&mask], r.keyE) {
		r.keyE = 0 // over maxChunks: the GOP no longer fits
	}
	if r.pinE != 0 && r.pinE < r.tail {
		r.pinE = 0
	}
}

// resize moves the index to nslots, keeping the newest packets that fit. Payloads stay where
// they are. Caller holds mu.
func (r *ring) resize(nslots int) {
	oldMask := uint64(len(r.slots) - 1)
	from := r.tail
	if r.head >= uint64(nslots) && r.head-uint64(nslots)+1 > from {
		from = r.head - uint64(nslots) + 1
	}
	slots, mask := make([]slot, nslots), uint64(nslots-1)
	for e := from; e <= r.head && e >= from; e++ {
		if s := &r.slots[e&oldMask]; r.intact(s, e) {
			slots[e&mask] = *s
		}
	}
	r.slots = slots
	if r.head != 0 {
		r.tail = from
	}
	if r.keyE != 0 && r.keyE < r.tail {
		r.keyE = 0
	}
	if r.pinE != 0 && r.pinE < r.tail {
		r.pinE = 0
	}
}

// close returns the ring's chunks to the pool and frees its index; reads then find nothing.
func (r *ring) close() {
	r.mu.Lock()
	chunks.put(r.chunks)
	r.slots, r.chunks, r.closed, r.keyE, r.pinE = nil, nil, true, 0, 0
	r.mu.Unlock()
}

// size returns the ring's index length and the payload bytes it holds (its chunks).
func (r *ring) size() (slots, bytes int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.slots), len(r.chunks) * chunkSize
}

// join returns where a joining viewer starts: the newest keyframe's first packet and timestamp,
// and the newest packet's extended seq and timestamp. ok is false when no usable keyframe is held.
// With ok, the ring keeps that GOP until the joiner's replay (about catchUpBurst× real time, see
// Output.catchUpFrom) has reached live, plus half a nackWindow, even if a newer keyframe arrives
// meanwhile.
func (r *ring) join() (keyE uint64, keyTS uint32, head uint64, headTS uint32, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keyE != 0 {
		until := r.headTS + (r.headTS-r.keyTS)/(catchUpBurst-1) + uint32(r.window/2)
		if r.pinE == 0 {
			r.pinE, r.pinUntil = r.keyE, until
		} else {
			r.pinE = min(r.pinE, r.keyE)
			if int32(until-r.pinUntil) > 0 {
				r.pinUntil = until
			}
		}
	}
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
	case r.intact(s, e):
		return r.copyOut(buf, s.pos, int(s.n)), meta{at: s.at, ts: s.ts, marker: s.marker, key: s.key}, readOK
	case e < r.tail || e+uint64(len(r.slots)) <= r.head || s.eseq == e:
		return 0, meta{}, readGone
	}
	return 0, meta{}, readHole
}
