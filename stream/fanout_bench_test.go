package stream

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// countWriter is the narrow seam the benchmarks write to instead of a PeerConnection: it counts
// what it is given, as a viewer's SRTP writer would take it.
type countWriter struct{ packets, bytes atomic.Int64 }

func (w *countWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.packets.Add(1)
	w.bytes.Add(int64(len(payload)))
	return len(payload), nil
}

func (w *countWriter) Write(b []byte) (int, error) { return len(b), nil }

// bindContext is a webrtc.TrackLocalContext of one viewer that negotiated H.264 as payload type 102.
type bindContext struct {
	id     string
	ssrc   webrtc.SSRC
	writer webrtc.TrackLocalWriter
}

func (c *bindContext) CodecParameters() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
		PayloadType: 102,
	}}
}
func (c *bindContext) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return nil }
func (c *bindContext) SSRC() webrtc.SSRC                                      { return c.ssrc }
func (c *bindContext) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (c *bindContext) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (c *bindContext) WriteStream() webrtc.TrackLocalWriter                   { return c.writer }
func (c *bindContext) ID() string                                             { return c.id }
func (c *bindContext) RTCPReader() interceptor.RTCPReader                     { return nil }

var h264Codec = webrtc.RTPCodecParameters{
	RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000},
	PayloadType:        96,
}

// benchPacket is a 1200-byte FU-A middle fragment, the bulk of a video stream.
func benchPacket() *rtp.Packet {
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 1, Timestamp: 1000, SequenceNumber: 1},
		Payload: make([]byte, 1200)}
	p.Payload[0], p.Payload[1] = 28, 1 // FU-A, not a start, non-IDR
	return p
}

// BenchmarkRelayPublish measures the publisher's side of one packet: keyframe check, caching in
// the Feed's ring, metering and signalling the worker (which drains concurrently). Packets carry
// arrival times at 2.7 Mbit/s (one every 3.7 ms), so the ring holds what it would in service: at
// wall-clock pace a benchmark's second would be 100 000 packets, all inside the NACK window.
func BenchmarkRelayPublish(b *testing.B) {
	tr := newTrack(webrtc.RTPCodecTypeVideo, "bench", nil)
	w := &countWriter{}
	if _, err := tr.Bind(&bindContext{id: "v", ssrc: 7, writer: w}); err != nil || !tr.Start(7) {
		b.Fatal(err)
	}
	defer func() { _ = tr.Unbind(&bindContext{id: "v"}); tr.wg.Wait() }()
	src := followedFeed(tr, h264Codec)
	p := benchPacket()
	at := time.Now().UnixNano()
	b.SetBytes(int64(len(p.Payload)))
	b.ReportAllocs()
	for b.Loop() {
		p.SequenceNumber++
		p.Timestamp += 300
		at += int64(time.Second) / 270
		if err := src.writeAt(p, at); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFanOut measures a worker writing one cached packet to n bindings (ns/op is per
// packet, for all n viewers; allocs/op must be 0).
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("bindings=%d", n), func(b *testing.B) {
			tr := newTrack(webrtc.RTPCodecTypeVideo, "bench", nil)
			f := followedFeed(tr, h264Codec)
			wk := tr.worker(0)
			bs := make([]*Output, n)
			for i := range bs {
				bs[i] = &Output{id: fmt.Sprint(i), ssrc: uint32(i + 1), writer: &countWriter{},
					pt: map[string]uint8{"video/h264": 102}}
				bs[i].live.Store(true)
				bs[i].start(f)
			}
			wk.outputs.Store(&bs) // direct: the worker goroutine is not started, fanOut runs here
			p := benchPacket()
			seq := uint16(1)
			at := int64(0)
			b.SetBytes(int64(len(p.Payload) * n))
			b.ReportAllocs()
			for b.Loop() {
				seq++
				at += frameNs / 10
				e, _ := f.ring.push(seq, uint32(seq)*300, false, p.Payload, false, at)
				wk.fanOut(f, e)
			}
		})
	}
}

// BenchmarkHandleNACK measures answering a NACK for 17 packets (one NackPair) from the shared ring.
func BenchmarkHandleNACK(b *testing.B) {
	tr := newTrack(webrtc.RTPCodecTypeVideo, "bench", nil)
	f := followedFeed(tr, h264Codec)
	nackOutput(tr, f, &countWriter{})
	wk := tr.worker(0)
	p := benchPacket()
	for seq := uint16(1); seq <= 100; seq++ {
		e, _ := f.ring.push(seq, uint32(seq)*300, false, p.Payload, false, int64(seq)*frameNs/10)
		wk.fanOut(f, e)
	}
	nack := &rtcpNack16
	b.ReportAllocs()
	for b.Loop() {
		if tr.HandleNACK(nack) != 17 {
			b.Fatal("not all resent")
		}
	}
}
