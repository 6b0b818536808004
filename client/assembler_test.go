package client

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// packetize turns samples into RTP packets with pion's own payloaders, as a
// TrackLocalStaticSample does.
func packetize(t *testing.T, src *Source, mtu uint16) [][]*rtp.Packet {
	t.Helper()
	var pay rtp.Payloader
	switch src.Codec().MimeType {
	case webrtc.MimeTypeH264:
		pay = &codecs.H264Payloader{}
	case webrtc.MimeTypeVP8:
		pay = &codecs.VP8Payloader{EnablePictureID: true}
	}
	pk := rtp.NewPacketizer(mtu, 96, 0x1234, pay, rtp.NewRandomSequencer(), 90000)
	var out [][]*rtp.Packet
	for _, s := range src.Samples() {
		out = append(out, pk.Packetize(s.Data, 3000))
	}
	return out
}

func TestAssemblerRoundTrip(t *testing.T) {
	for name, src := range map[string]*Source{"h264": openH264(t), "vp8": openVP8(t)} {
		t.Run(name, func(t *testing.T) {
			a := newAssembler(src.Codec().MimeType)
			frames := packetize(t, src, 1200)
			multi := 0
			for i, pkts := range frames {
				if len(pkts) > 1 {
					multi++
				}
				for j, p := range pkts {
					f, ok := a.push(p, time.Time{})
					if ok != (j == len(pkts)-1) {
						t.Fatalf("frame %d packet %d/%d: complete = %v", i, j, len(pkts), ok)
					}
					if !ok {
						continue
					}
					want := src.Samples()[i]
					if !bytes.Equal(f.Data, want.Data) || f.Keyframe != want.Keyframe || f.Timestamp != p.Timestamp {
						t.Fatalf("frame %d differs: key %v/%v len %d/%d", i, f.Keyframe, want.Keyframe, len(f.Data), len(want.Data))
					}
				}
			}
			if multi == 0 {
				t.Fatal("no frame spans several packets; the test proves little")
			}
			if a.incomplete != 0 {
				t.Fatalf("incomplete = %d", a.incomplete)
			}
		})
	}
}

// TestAssemblerLoss drops, duplicates and reorders packets: damaged frames are discarded and
// counted, every other frame is delivered intact.
func TestAssemblerLoss(t *testing.T) {
	src := openH264(t)
	frames := packetize(t, src, 200) // small MTU: P frames span several packets
	// Frame 0 (IDR) spans several packets; lose its second packet.
	if len(frames[0]) < 3 {
		t.Fatalf("frame 0 has %d packets", len(frames[0]))
	}
	// Lose frame 10 entirely, and the head of the next frame spanning several packets.
	cut := 11
	for len(frames[cut]) < 2 {
		cut++
	}
	// Reorder: the tail of the next multi-packet frame r arrives after the head of frame r+1.
	r := cut + 2
	for len(frames[r]) < 2 {
		r++
	}
	if r+1 >= 40 {
		t.Fatal("no multi-packet P frames to cut and reorder")
	}
	var stream []*rtp.Packet
	for i, pkts := range frames[:40] {
		switch i {
		case 0:
			stream = append(stream, pkts[0])
			stream = append(stream, pkts[2:]...)
		case 5: // duplicated
			stream = append(stream, pkts...)
			stream = append(stream, pkts...)
		case 10:
		case cut:
			stream = append(stream, pkts[1:]...)
		case r:
			last := len(pkts) - 1
			stream = append(stream, pkts[:last]...)
			stream = append(stream, frames[r+1][0], pkts[last])
		case r + 1:
			stream = append(stream, pkts[1:]...)
		default:
			stream = append(stream, pkts...)
		}
	}
	a := newAssembler(webrtc.MimeTypeH264)
	var got []Frame
	for _, p := range stream {
		if f, ok := a.push(p, time.Time{}); ok {
			got = append(got, f)
		}
	}
	var want []int // indexes of samples expected
	for i := 1; i < 40; i++ {
		// r+1 follows a gap (r's tail came late): whether the missing packet was r's tail or
		// r+1's head cannot be told from RTP, so r+1 is discarded too, never delivered damaged.
		if i != 10 && i != cut && i != r && i != r+1 {
			want = append(want, i)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d frames, want %d", len(got), len(want))
	}
	for k, i := range want {
		if !bytes.Equal(got[k].Data, src.Samples()[i].Data) {
			t.Fatalf("frame %d (sample %d) differs", k, i)
		}
	}
	// frame 0, the cut frame, frame r (its late tail is ignored) and r+1 (after a gap); frame 10
	// never started.
	if a.incomplete != 4 {
		t.Fatalf("incomplete = %d, want 4", a.incomplete)
	}
}

func TestAssemblerOther(t *testing.T) {
	if newAssembler(webrtc.MimeTypeOpus) != nil {
		t.Fatal("assembler for opus")
	}
	if newAssembler("video/h264") == nil {
		t.Fatal("mime type match must ignore case")
	}
}

// A keyframe whose first packet (the STAP-A with SPS/PPS) is lost is discarded, though its next
// packet (the IDR's FU-A start) is a partition head too: delivered, it would not be a source frame.
func TestAssemblerLostKeyframeHead(t *testing.T) {
	src := openH264(t)
	frames := packetize(t, src, 200)
	key := src.Keyframes()[1]
	if len(frames[key]) < 3 {
		t.Fatalf("keyframe %d has %d packets", key, len(frames[key]))
	}
	a := newAssembler(webrtc.MimeTypeH264)
	var got []Frame
	for i := key - 2; i <= key+1; i++ {
		pkts := frames[i]
		if i == key {
			pkts = pkts[1:]
		}
		for _, p := range pkts {
			if f, ok := a.push(p, time.Time{}); ok {
				got = append(got, f)
			}
		}
	}
	if len(got) != 3 || got[1].Keyframe || !bytes.Equal(got[2].Data, src.Samples()[key+1].Data) {
		t.Fatalf("got %d frames (want the 2 before the keyframe and the one after), second key=%v", len(got), len(got) > 1 && got[1].Keyframe)
	}
	if a.incomplete != 1 {
		t.Fatalf("incomplete = %d, want 1", a.incomplete)
	}
}
