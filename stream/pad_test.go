package stream

import (
	"testing"

	"github.com/pion/webrtc/v4"
)

// TestPad: probe padding goes on the viewer's RTX SSRC with the RTX payload type of the viewer's
// codec, as padding-only packets (the padding bit, a payload that is all padding and ends with its
// length) numbered on their own; an output without RTX sends none.
func TestPad(t *testing.T) {
	codecs := []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264}, PayloadType: 102},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeRTX, SDPFmtpLine: "apt=96"}, PayloadType: 97},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeRTX, SDPFmtpLine: "apt=102"}, PayloadType: 103},
	}
	pt, ok := rtxFor(codecs, 102)
	if !ok || pt != 103 {
		t.Fatalf("rtxFor = %d %v, want 103", pt, ok)
	}
	w := &recordWriter{}
	o := &Output{ssrc: 1, writer: w, rtxSSRC: 2, rtxPT: pt, rtxPTOK: true}
	if n := o.Pad(1000); n < 1000 || n >= 1000+padSize+12 {
		t.Fatalf("Pad(1000) sent %d bytes", n)
	}
	if len(w.got) != 4 {
		t.Fatalf("%d packets, want 4", len(w.got))
	}
	for i, p := range w.got {
		if p.SSRC != 2 || p.PayloadType != 103 || !p.Padding || len(p.Payload) != padSize || p.Payload[padSize-1] != padSize {
			t.Fatalf("packet %d: ssrc %d pt %d padding %v payload %d bytes", i, p.SSRC, p.PayloadType, p.Padding, len(p.Payload))
		}
		if i > 0 && p.SequenceNumber != w.got[i-1].SequenceNumber+1 {
			t.Fatalf("packet %d: sequence %d after %d", i, p.SequenceNumber, w.got[i-1].SequenceNumber)
		}
	}
	if o.Padded() != uint64(4*(padSize+12)) {
		t.Fatalf("Padded %d", o.Padded())
	}
	if n := (&Output{ssrc: 1, writer: w}).Pad(1000); n != 0 {
		t.Fatalf("an output without RTX padded %d bytes", n)
	}
}

// TestPadCopiesMedia: once the output has sent media, probe padding is RTX retransmissions of its
// newest packets (the original sequence number, then the payload), newest first, on the RTX SSRC
// with their own sequence numbers and the RTX payload type, up to about the bytes asked and never
// further back than padBack.
func TestPadCopiesMedia(t *testing.T) {
	tr := newTrack(webrtc.RTPCodecTypeVideo, "s", nil)
	f := followedFeed(tr, h264Codec)
	w := &recordWriter{}
	o := nackOutput(tr, f, w)
	o.rtxSSRC, o.rtxPT, o.rtxPTOK = 8, 103, true
	wk := tr.worker(0)
	payload := make([]byte, 86) // 100 bytes as RTX (header, OSN, payload)
	for seq := uint16(1); seq <= 100; seq++ {
		payload[0] = byte(seq)
		e, _ := f.ring.push(seq, uint32(seq)*300, seq%5 == 0, payload, false, int64(seq)*frameNs)
		wk.fanOut(f, e)
	}
	w.got = nil
	if n := o.Pad(250); n != 300 {
		t.Fatalf("Pad(250) sent %d bytes, want 300 (three copies)", n)
	}
	for i, p := range w.got {
		seq := uint16(100 - i)
		if p.SSRC != 8 || p.PayloadType != 103 || p.SequenceNumber != uint16(i+1) || p.Timestamp != uint32(seq)*300 ||
			len(p.Payload) != 88 || p.Payload[0] != 0 || p.Payload[1] != byte(seq) || p.Payload[2] != byte(seq) {
			t.Errorf("copy %d = %+v %x, want an RTX copy of packet %d", i, p.Header, p.Payload[:3], seq)
		}
	}
	w.got = nil
	if n := o.Pad(padBack*100 + 1); n != padBack*100+padSize+12 || len(w.got) != padBack+1 || !w.got[padBack].Padding {
		t.Fatalf("Pad beyond padBack sent %d bytes in %d packets, want %d copies and one padding packet", n, len(w.got), padBack)
	}
}
