package layers

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// TestFeedback: receiver reports about the viewer's video feed the loss estimate (reports about
// other SSRCs, its audio, do not); REMB is taken as sent and expires; both come out as Signals.
func TestFeedback(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	f := NewFeedback(0xBEEF, LossParams{Initial: 1e6})
	if s := f.Signals(t0, 0); s != (Signals{}) {
		t.Fatalf("no feedback yet: %+v, want none", s)
	}
	// Heavy loss reported about the audio SSRC only: no evidence about video.
	f.Read(t0, []rtcp.Packet{&rtcp.ReceiverReport{Reports: []rtcp.ReceptionReport{{SSRC: 0xA0D10, FractionLost: 200}}}}, 1e6)
	if s := f.Signals(t0, 1e6); s.Loss != 0 {
		t.Fatalf("audio report moved the video loss estimate: %+v", s)
	}
	// 25 % loss on video at 1 Mbit/s, and a REMB of 700 kbit/s in the same compound packet.
	f.Read(t0.Add(time.Second), []rtcp.Packet{
		&rtcp.ReceiverReport{Reports: []rtcp.ReceptionReport{{SSRC: 0xA0D10}, {SSRC: 0xBEEF, FractionLost: 64}}},
		&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: 700_000, SSRCs: []uint32{0xBEEF}},
	}, 1e6)
	s := f.Signals(t0.Add(time.Second), 1e6)
	if s.Loss != 750_000 || s.REMB != 700_000 || s.Sent != 1e6 || !s.Congested {
		t.Fatalf("signals %+v, want Loss 750000 (what arrived of 1 Mbit/s), REMB 700000, Sent 1e6, congested", s)
	}
	if b, ok := s.Budget(); !ok || b != 700_000*Headroom {
		t.Fatalf("budget %v %v, want REMB's %v", b, ok, 700_000*Headroom)
	}
	// A sender report's blocks count too (a viewer that also sends).
	f.Read(t0.Add(2*time.Second), []rtcp.Packet{&rtcp.SenderReport{Reports: []rtcp.ReceptionReport{{SSRC: 0xBEEF, FractionLost: 0}}}}, 875_000)
	if got := f.Signals(t0.Add(2*time.Second), 0); got.Loss != 875_000*1.05 || got.Congested {
		t.Fatalf("after a clean sender report: %+v, want loss estimate %v, not congested", got, 875_000*1.05)
	}
	// REMB expires.
	if s := f.Signals(t0.Add(7*time.Second), 0); s.REMB != 0 {
		t.Fatalf("REMB of 6 s ago still counts: %+v", s)
	}
}
