package stream

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// recordWriter keeps copies of what it is given.
type recordWriter struct{ got []rtp.Packet }

func (w *recordWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.got = append(w.got, rtp.Packet{Header: *h, Payload: append([]byte(nil), payload...)})
	return len(payload), nil
}

func (w *recordWriter) Write(b []byte) (int, error) { return len(b), nil }

// frameNs is one 30 fps frame in nanoseconds: test packets arrive at media pace.
const frameNs = int64(time.Second / 30)

// The ring finds the newest keyframe's first packet (the first of its frame, before the packet
// that carried the IDR), extends sequence numbers across the 16-bit wrap, and forgets a GOP that
// no longer fits even at its largest size.
func TestRingKeyframeAndWrap(t *testing.T) {
	r := newRing(videoSlots, videoBytes, 90000)
	seq := uint16(65530)
	ts := uint32(0)
	push := func(frames, pkts int, keyFrame int) {
		for f := 0; f < frames; f++ {
			ts += 3000
			for i := 0; i < pkts; i++ {
				key := f == keyFrame && i == 1 // SPS/PPS first, IDR start second
				r.push(seq, ts, i == pkts-1, []byte{1}, key, int64(ts/3000)*frameNs)
				seq++
			}
		}
	}
	push(3, 4, 1)
	keyE, keyTS, head, headTS, ok := r.peek()
	if !ok || keyTS != 6000 || head-keyE != 7 || headTS != 9000 {
		t.Fatalf("join = %d %d %d %d %v, want key at ts 6000, 7 packets before head at ts 9000", keyE, keyTS, head, headTS, ok)
	}
	if uint16(keyE) != 65534 || uint16(head) != 5 { // crossed the wrap
		t.Fatalf("key seq %d head seq %d, want 65534 and 5", uint16(keyE), uint16(head))
	}
	var buf [maxPayload]byte
	if _, m, st := r.read(head, buf[:]); st != readOK || m.ts != 9000 || !m.marker {
		t.Fatalf("read(head) = %+v %v", m, st)
	}
	if _, _, st := r.read(head+1, buf[:]); st != readHole {
		t.Fatalf("read(head+1) = %v, want a hole", st)
	}
	push(maxSlots/4+16, 4, -1) // a GOP longer than the largest ring
	if _, _, _, _, ok := r.join(); ok {
		t.Fatal("a GOP that no longer fits is still offered to joiners")
	}
	if _, _, st := r.read(keyE, buf[:]); st != readGone {
		t.Fatalf("an evicted packet read as %v", st)
	}
	if slots, _ := r.size(); slots != maxSlots {
		t.Fatalf("ring at %d slots, want the largest, %d", slots, maxSlots)
	}
}

// Keyframe detection of the packetizations publishers use.
func TestIsKeyframePacket(t *testing.T) {
	for _, c := range []struct {
		name, codec string
		p           []byte
		want        bool
	}{
		{"h264 IDR", "video/h264", []byte{0x65, 0x88}, true},
		{"h264 SPS", "video/h264", []byte{0x67, 0x42}, true},
		{"h264 non-IDR", "video/h264", []byte{0x41, 0x9a}, false},
		{"h264 STAP-A SPS PPS", "video/h264", []byte{0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce}, true},
		{"h264 FU-A IDR start", "video/h264", []byte{0x7c, 0x85}, true},
		{"h264 FU-A IDR middle", "video/h264", []byte{0x7c, 0x05}, false},
		{"h264 FU-A non-IDR start", "video/h264", []byte{0x7c, 0x81}, false},
		{"vp8 key", "video/vp8", []byte{0x10, 0x00}, true},
		{"vp8 key with picture id", "video/vp8", []byte{0x90, 0x80, 0x81, 0x23, 0x00}, true},
		{"vp8 inter", "video/vp8", []byte{0x10, 0x01}, false},
		{"vp8 continuation", "video/vp8", []byte{0x00, 0x00}, false},
		{"opus", "audio/opus", []byte{0x78}, false},
	} {
		if got := isKeyframePacket(c.codec, c.p); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// mediaSource pushes a synthetic stream into a ring at media pace: fps frames a second of
// frameBytes bytes in packets of at most 1200, a keyframe (keyScale× larger) every gop frames.
type mediaSource struct {
	r                  *ring
	fps, gop, keyScale int
	frameBytes         int
	clock              int
	seq                uint16
	ts                 uint32
	at                 int64
	frames             int
	payload            [maxPayload]byte
}

func (m *mediaSource) frame() {
	key := m.gop > 0 && m.frames%m.gop == 0 // audio has no keyframes
	size := m.frameBytes
	if key {
		size *= m.keyScale
	}
	for first := true; size > 0; first = false {
		n := min(size, 1200)
		size -= n
		m.r.push(m.seq, m.ts, size == 0, m.payload[:n], key && first, m.at)
		m.seq++
	}
	m.frames++
	m.ts += uint32(m.clock / m.fps)
	m.at += int64(time.Second) / int64(m.fps)
}

// A ring holds what fast start and NACKs need and little more: for 2.7 Mbit/s H.264 with a 2 s
// GOP it always offers the current GOP to joiners and keeps the last second; its bytes follow
// what it needs frame by frame (the current GOP, or the last second just after a keyframe), so on
// average it holds well under a GOP and at most a GOP and a chunk; it allocates nothing per packet
// once sized, and when the bitrate falls it shrinks. An audio ring stays a few KiB.
func TestRingSizedByTimeAndBitrate(t *testing.T) {
	r := newRing(videoSlots, videoBytes, 90000)
	// 2.7 Mbit/s at 30 fps with a 60-frame GOP whose keyframe weighs 4 frames: 63 frame units
	// per 2 s.
	src := &mediaSource{r: &r, fps: 30, gop: 60, keyScale: 4, clock: 90000, frameBytes: 2_700_000 / 8 * 2 / 63}
	gopBytes := 63 * src.frameBytes
	var buf [maxPayload]byte
	peak, sum, n := 0, 0, 0
	for range 20 * 30 {
		src.frame()
		if src.frames > 1 {
			_, _, head, headTS, ok := r.peek()
			if !ok {
				t.Fatalf("frame %d: no GOP for joiners", src.frames)
			}
			oldest := headTS // the oldest timestamp held without a gap back from the newest packet
			for e := head; ; e-- {
				_, m, st := r.read(e, buf[:])
				if st != readOK {
					break
				}
				oldest = m.ts
			}
			if src.frames > 30 && headTS-oldest < 29*3000 {
				t.Fatalf("frame %d: the ring holds %d ms of media back from the newest packet, want the last second",
					src.frames, (headTS-oldest)/90)
			}
		}
		if src.frames > 4*src.gop { // steady state
			_, size := r.size()
			peak, sum, n = max(peak, size), sum+size, n+1
		}
	}
	slots, _ := r.size()
	mean := sum / n
	t.Logf("2.7 Mbit/s, 2 s GOP of %d bytes: %d slots, %d bytes on average, %d at most", gopBytes, slots, mean, peak)
	if peak < gopBytes || peak > gopBytes+2*chunkSize || mean > gopBytes*3/4 || slots > 2048 {
		t.Fatalf("ring of %d slots, %d bytes on average, %d at most; want at most a GOP and a chunk, "+
			"at least a GOP at its end, and three quarters of a GOP on average", slots, mean, peak)
	}
	if allocs := testing.AllocsPerRun(300, src.frame); allocs != 0 {
		t.Fatalf("steady state: %.2f allocations per frame", allocs)
	}

	src.frameBytes /= 6 // 450 kbit/s
	for range 20 * 30 {
		src.frame()
	}
	if fewer, small := r.size(); small > videoBytes+chunkSize || fewer > videoSlots {
		t.Fatalf("after 20 s at a sixth of the bitrate the ring still has %d slots, %d bytes (was %d, %d at most); "+
			"want its floor, %d, %d", fewer, small, slots, peak, videoSlots, videoBytes)
	}

	audio := newRing(audioSlots, audioBytes, 48000)
	opus := &mediaSource{r: &audio, fps: 50, keyScale: 1, clock: 48000, frameBytes: 160}
	for range 20 * 50 {
		opus.frame()
		if slots, size := audio.size(); size > 2*chunkSize || slots > 128 {
			t.Fatalf("Opus ring: %d slots, %d bytes; want at most 128 and 16 KiB", slots, size)
		}
	}
}

// A backlog read at once (the reader stalled, then caught up) holds the ring to a second of
// media, not to everything that arrived within a second: the ring grows no larger for it than
// for the same media at its pace.
func TestRingBacklogDoesNotGrow(t *testing.T) {
	r := newRing(videoSlots, videoBytes, 90000)
	src := &mediaSource{r: &r, fps: 30, gop: 60, keyScale: 4, clock: 90000, frameBytes: 2_700_000 / 8 * 2 / 63}
	peak := 0
	for range 10 * 30 {
		src.frame()
		if src.frames > 2*src.gop {
			_, size := r.size()
			peak = max(peak, size)
		}
	}
	slots, _ := r.size()
	for range 3 * 30 { // 3 s of media, all stamped with one arrival time
		at := src.at
		src.frame()
		src.at = at
		if s2, b2 := r.size(); s2 != slots || b2 > peak {
			t.Fatalf("a 3 s backlog grew the ring from %d slots, at most %d bytes to %d, %d", slots, peak, s2, b2)
		}
	}
}

// A viewer that joins near the end of a GOP is replayed that GOP at catchUpBurst× real time; the
// ring keeps it for the replay even after the next keyframe arrives, and lets it go once the
// replay has reached live. Without a joiner the previous GOP goes as soon as the next keyframe
// has a second of media behind it.
func TestRingKeepsJoinersGOP(t *testing.T) {
	for _, joiner := range []bool{false, true} {
		r := newRing(videoSlots, videoBytes, 90000)
		src := &mediaSource{r: &r, fps: 30, gop: 60, keyScale: 4, clock: 90000, frameBytes: 2_700_000 / 8 * 2 / 63}
		for range 4*60 + 57 { // frame 57 of a GOP: the replay takes 19 frames, the next keyframe is 3 away
			src.frame()
		}
		var keyE uint64
		var keyTS uint32
		if joiner {
			keyE, keyTS, _, _, _ = r.join()
		} else {
			keyE, keyTS, _, _, _ = r.peek()
		}
		// The GOP is 56 frames old: the replay reaches live 56/3 frames after the join, and the
		// ring keeps it half a nackWindow (15 frames) longer.
		const kept = 56/3 + 15
		var buf [maxPayload]byte
		for f := 1; f <= 40; f++ { // the next keyframe at f = 4
			src.frame()
			_, m, st := r.read(keyE, buf[:])
			switch {
			case joiner && f < kept && (st != readOK || m.ts != keyTS):
				t.Fatalf("joiner: %d frames after the join the replayed keyframe is %v", f, st)
			case (joiner && f > kept+1 || !joiner && f >= 4) && st != readGone:
				t.Fatalf("joiner %v: %d frames after the join the old GOP is still held", joiner, f)
			}
		}
	}
}

// peek is join without keeping the GOP for a joiner.
func (r *ring) peek() (keyE uint64, keyTS uint32, head uint64, headTS uint32, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keyE, r.keyTS, r.head, r.headTS, r.keyE != 0
}

// Rings trade chunks through the shared pool: 20 rings fed out of phase hold about what they
// need, every chunk lent is held by a ring, and closing them returns every chunk.
func TestRingChunksReturnToPool(t *testing.T) {
	before := chunks.lent.Load()
	rings := make([]ring, 20)
	srcs := make([]*mediaSource, len(rings))
	for i := range rings {
		rings[i] = newRing(videoSlots, videoBytes, 90000)
		srcs[i] = &mediaSource{r: &rings[i], fps: 30, gop: 60, keyScale: 4, clock: 90000, frameBytes: 2_700_000 / 8 * 2 / 63}
		for range i * 3 { // phases spread over a GOP
			srcs[i].frame()
		}
	}
	for range 10 * 30 {
		for _, s := range srcs {
			s.frame()
		}
	}
	held := 0
	for i := range rings {
		_, size := rings[i].size()
		held += size / chunkSize
	}
	if lent := chunks.lent.Load() - before; lent != int64(held) {
		t.Fatalf("%d chunks lent, rings hold %d", lent, held)
	}
	gopBytes := 63 * srcs[0].frameBytes
	if held*chunkSize > len(rings)*gopBytes*3/4 {
		t.Fatalf("20 rings out of phase hold %d bytes, want at most three quarters of a GOP each (%d)", held*chunkSize, gopBytes*3/4)
	}
	for i := range rings {
		rings[i].close()
	}
	if lent := chunks.lent.Load(); lent != before {
		t.Fatalf("after close %d chunks lent, want %d", lent, before)
	}
}

// TestRingRefusesCopies: a packet the ring holds already (a browser's RTX padding repeats recent
// packets, and pion hands them over like repairs) is refused, so it is neither forwarded again nor
// measured; a packet that fills a hole (a real repair, after a NACK) is taken, late or not.
func TestRingRefusesCopies(t *testing.T) {
	r := newRing(videoSlots, videoBytes, 90000)
	for i := range uint16(10) {
		if i == 5 {
			continue // lost
		}
		if _, ok := r.push(100+i, 3000*uint32(i/2), i%2 == 1, []byte{byte(i)}, false, int64(i)*frameNs); !ok {
			t.Fatalf("packet %d refused", i)
		}
	}
	for _, seq := range []uint16{100, 104, 106, 109} {
		if _, ok := r.push(seq, 0, false, []byte{0xff}, false, 10*frameNs); ok {
			t.Fatalf("a copy of packet %d taken", seq)
		}
	}
	e, ok := r.push(105, 6000, true, []byte{5}, false, 11*frameNs)
	if !ok {
		t.Fatal("the repair of lost packet 105 refused")
	}
	var buf [maxPayload]byte
	for _, x := range []struct {
		e    uint64
		want byte
	}{{e, 5}, {e - 1, 4}, {e + 4, 9}} {
		if n, _, st := r.read(x.e, buf[:]); st != readOK || n != 1 || buf[0] != x.want {
			t.Fatalf("read(%d) = %d bytes %v (%x), want the first copy %x", x.e, n, st, buf[:n], x.want)
		}
	}
}
