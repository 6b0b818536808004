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
