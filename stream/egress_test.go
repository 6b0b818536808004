package stream

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// passEgress records the passes the fan-out brackets.
type passEgress struct{ open, begun, ended int }

func (e *passEgress) BeginPass() { e.open++; e.begun++ }
func (e *passEgress) EndPass()   { e.open--; e.ended++ }

// passWriter records, for each packet written, whether a pass was open.
type passWriter struct {
	e      *passEgress
	inPass []bool
}

func (w *passWriter) WriteRTP(*rtp.Header, []byte) (int, error) {
	w.inPass = append(w.inPass, w.e.open == 1)
	return 0, nil
}

func (w *passWriter) Write(b []byte) (int, error) { return len(b), nil }

// Every packet the fan-out writes to its viewers is written inside one pass bracketed by the
// Track's Egress (so the socket may send the pass's datagrams in one batch), one pass per batch
// of queued packets, each begun once and ended once.
func TestFanOutPassesBracketedByEgress(t *testing.T) {
	tr := newTrack(webrtc.RTPCodecTypeVideo, "s", nil)
	eg := &passEgress{}
	tr.egress = eg
	f := followedFeed(tr, h264Codec)
	wk := tr.worker(0)
	var outs []*Output
	var ws []*passWriter
	for i := range 3 {
		w := &passWriter{e: eg}
		o := &Output{id: string(rune('a' + i)), ssrc: uint32(i + 1), writer: w, pt: map[string]uint8{"video/h264": 102}}
		o.start(f)
		o.live.Store(true)
		outs, ws = append(outs, o), append(ws, w)
	}
	wk.outputs.Store(&outs)
	for i := range 5 {
		e, _ := f.ring.push(uint16(i), 3000, true, []byte{1, 2, 3}, false, int64(i)*frameNs)
		wk.fanOut(f, e)
	}
	if eg.begun != 5 || eg.ended != 5 || eg.open != 0 {
		t.Fatalf("passes begun %d, ended %d, open %d; want 5, 5, 0", eg.begun, eg.ended, eg.open)
	}
	for i, w := range ws {
		if len(w.inPass) != 5 {
			t.Fatalf("viewer %d got %d packets, want 5", i, len(w.inPass))
		}
		for j, in := range w.inPass {
			if !in {
				t.Fatalf("viewer %d packet %d written outside a pass", i, j)
			}
		}
	}
}
