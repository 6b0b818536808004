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
	r := newRing(videoSlots, videoBytes)
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
	keyE, keyTS, head, headTS, ok := r.join()
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
