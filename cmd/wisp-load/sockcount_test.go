package main

import "testing"

// inspect counts SRTP by its clear header (bytes, packets, gaps per SSRC), passes everything else
// (STUN, DTLS, SRTCP) and swallows SRTP only once asked to.
func TestCountNetInspect(t *testing.T) {
	var n countNet
	rtp := func(ssrc uint32, seq uint16) []byte {
		b := make([]byte, 100)
		b[0], b[1] = 0x80, 102
		b[2], b[3] = byte(seq>>8), byte(seq)
		b[8], b[9], b[10], b[11] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
		return b
	}
	for _, p := range [][]byte{
		{0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0}, // STUN
		{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0},            // DTLS handshake
		{0x81, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0},              // SRTCP sender report
	} {
		if n.inspect(p) {
			t.Errorf("swallowed non-SRTP %x", p[:2])
		}
	}
	for _, seq := range []uint16{65534, 65535, 0, 3, 2} { // wrap, a gap of 2, one late
		if n.inspect(rtp(7, seq)) {
			t.Fatal("swallowed before swallow was set")
		}
	}
	n.inspect(rtp(8, 10)) // another SSRC: its own line
	n.swallow.Store(true)
	if !n.inspect(rtp(8, 11)) {
		t.Fatal("did not swallow SRTP once set")
	}
	first, packets, bytes, lost := n.c.snapshot()
	if first.IsZero() || packets != 7 || bytes != 700 || lost != 2 {
		t.Fatalf("counted %d packets, %d bytes, %d lost; want 7, 700, 2", packets, bytes, lost)
	}
}

func TestSummarize(t *testing.T) {
	d := summarize([]float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	if d.N != 20 || d.P50 != 10 || d.P95 != 19 || d.Max != 20 {
		t.Fatalf("summarize = %+v", d)
	}
	if (summarize(nil) != dist{}) {
		t.Fatal("summarize(nil) not zero")
	}
}
