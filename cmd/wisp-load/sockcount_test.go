package main

import (
	"testing"
	"time"
)

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

// longestGap is the longest silence of any one SSRC since the window began, counting a silence
// still running at its end: what -count reports as longestGapMs and frozen.
func TestCounterLongestGap(t *testing.T) {
	var c counter
	t0 := time.Unix(100, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	c.addAt(ms(0), 1, 1, 100)
	c.addAt(ms(0), 2, 1, 100)
	c.addAt(ms(900), 1, 2, 100) // before the window: not counted
	c.resetGap(ms(1000))
	c.addAt(ms(1030), 1, 3, 100)
	c.addAt(ms(1020), 2, 2, 100)
	c.addAt(ms(1630), 1, 4, 100) // SSRC 1 silent 600 ms
	c.addAt(ms(1640), 2, 3, 100)
	if g := c.longestGap(ms(1700)); g != 620*time.Millisecond { // SSRC 2: 1020 → 1640
		t.Fatalf("longest gap %v, want 620ms", g)
	}
	if g := c.longestGap(ms(2500)); g != 870*time.Millisecond { // SSRC 1 silent since 1630
		t.Fatalf("longest gap with a running silence %v, want 870ms", g)
	}
}
