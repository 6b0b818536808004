package stream

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// clipFrame is one picture of a test clip: its bytes as the encoder wrote them and whether the
// encoder (not the detector under test) marked it a keyframe.
type clipFrame struct {
	data []byte
	key  bool
}

// clipMedia is testdata/media (see its gen.sh and README.md).
var clipMedia = filepath.Join("..", "testdata", "media")

// readIVF returns the frames of an IVF file; key comes from keyOf.
func readIVF(t testing.TB, name string, keyOf func([]byte) bool) []clipFrame {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(clipMedia, name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("DKIF")) || len(b) < 32 {
		t.Fatalf("%s: not IVF", name)
	}
	var out []clipFrame
	for b = b[32:]; len(b) >= 12; {
		size := int(binary.LittleEndian.Uint32(b))
		b = b[12:]
		if size > len(b) {
			t.Fatalf("%s: short frame", name)
		}
		out = append(out, clipFrame{data: b[:size], key: keyOf(b[:size])})
		b = b[size:]
	}
	return out
}

// annexBNALs splits an Annex-B stream into NAL units without start codes.
func annexBNALs(b []byte) [][]byte {
	var out [][]byte
	for _, part := range bytes.Split(b, []byte{0, 0, 1}) {
		part = bytes.TrimRight(part, "\x00")
		if len(part) > 0 {
			out = append(out, part)
		}
	}
	return out
}

// readAnnexB returns the access units of an Annex-B file with one slice per picture, each in
// Annex-B form; vcl tells a slice NAL unit, key a keyframe's.
func readAnnexB(t testing.TB, name string, vcl, key func(nal []byte) bool) []clipFrame {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(clipMedia, name))
	if err != nil {
		t.Fatal(err)
	}
	var out []clipFrame
	var au clipFrame
	for _, nal := range annexBNALs(b) {
		au.data = append(append(au.data, 0, 0, 0, 1), nal...)
		au.key = au.key || key(nal)
		if vcl(nal) {
			out = append(out, au)
			au = clipFrame{}
		}
	}
	return out
}

// packetize turns every frame into RTP payloads (MTU 1200, as browsers use).
func packetize(frames []clipFrame, p rtp.Payloader) [][][]byte {
	out := make([][][]byte, len(frames))
	for i, f := range frames {
		out[i] = p.Payload(1200, f.data)
	}
	return out
}

// checkClip asserts the detector's view of a packetized clip: the first packet of every keyframe
// starts a keyframe, no packet of any other frame does, and a keyframe's packets announce the
// picture size. It returns the number of keyframes.
func checkClip(t *testing.T, codec string, frames []clipFrame, packets [][][]byte, w, h int) int {
	t.Helper()
	keys := 0
	for i, f := range frames {
		ps := packets[i]
		if len(ps) == 0 {
			t.Fatalf("frame %d: no packets", i)
		}
		sized := false
		for j, p := range ps {
			got := isKeyframePacket(codec, p)
			if !f.key && got {
				t.Errorf("frame %d (not a keyframe) packet %d/%d: detected as a keyframe start", i, j, len(ps))
			}
			if f.key && j == 0 && !got {
				t.Errorf("keyframe %d: first packet (%d bytes, % x…) not detected", i, len(p), p[:min(len(p), 12)])
			}
			if gw, gh, ok := keyframeSize(codec, p); ok {
				sized = true
				if gw != w || gh != h {
					t.Errorf("frame %d packet %d: size %dx%d, want %dx%d", i, j, gw, gh, w, h)
				}
				if !f.key {
					t.Errorf("frame %d (not a keyframe) packet %d: a size", i, j)
				}
			}
		}
		if f.key {
			keys++
			if !sized {
				t.Errorf("keyframe %d: no packet gives the picture size", i)
			}
		}
	}
	return keys
}

// The existing detectors against the committed H.264 and VP8 clips (4 keyframes each).
func TestKeyframeClipsH264VP8(t *testing.T) {
	h264 := readAnnexB(t, "h264.h264",
		func(n []byte) bool { t := n[0] & 0x1f; return t == 1 || t == 5 },
		func(n []byte) bool { return n[0]&0x1f == 5 })
	for _, stapA := range []bool{true, false} {
		if k := checkClip(t, "video/h264", h264, packetize(h264, &codecs.H264Payloader{DisableStapA: !stapA}), 320, 240); k != 4 {
			t.Errorf("h264 (STAP-A %v): %d keyframes, want 4", stapA, k)
		}
	}
	vp8 := readIVF(t, "vp8.ivf", func(f []byte) bool { return f[0]&1 == 0 })
	for _, pid := range []bool{true, false} {
		if k := checkClip(t, "video/vp8", vp8, packetize(vp8, &codecs.VP8Payloader{EnablePictureID: pid}), 320, 240); k != 4 {
			t.Errorf("vp8 (picture id %v): %d keyframes, want 4", pid, k)
		}
	}
}

// Keyframe detection of VP9, AV1 and H.265 packetizations, by hand (H.264 and VP8: TestIsKeyframePacket).
func TestKeyframePacketByHand(t *testing.T) {
	for _, c := range []struct {
		name, codec string
		p           []byte
		want        bool
	}{
		// VP9: I|P|L|F|B|E|V|Z, then a KEY_FRAME header (frame_marker 2, profile 0, show_existing 0, frame_type 0)
		{"vp9 key, B", "video/vp9", []byte{0x08, 0x82}, true},
		{"vp9 key, picture id 15 bits", "video/vp9", []byte{0x88, 0x81, 0x23, 0x82}, true},
		{"vp9 inter (P)", "video/vp9", []byte{0x48, 0x86}, false},
		{"vp9 P clear but frame_type non-key (pion flexible mode)", "video/vp9", []byte{0x98, 0x81, 0x23, 0x86}, false},
		{"vp9 key, not B", "video/vp9", []byte{0x04, 0x82}, false},
		{"vp9 key of spatial layer 1", "video/vp9", []byte{0x28, 0x02, 0x00, 0x82}, false},
		{"vp9 key of spatial layer 0, flexible", "video/vp9", []byte{0x38, 0x00, 0x82}, true},
		{"vp9 key of spatial layer 0", "video/vp9", []byte{0x28, 0x00, 0x00, 0x82}, true},
		{"vp9 show_existing_frame", "video/vp9", []byte{0x08, 0x88}, false},
		// AV1: Z|Y|W|W|N|-|-|-, OBU header 0|type(4)|ext|size|0
		{"av1 sequence header, W=1", "video/av1", []byte{0x10, 0x08, 0x00}, true},
		{"av1 N bit", "video/av1", []byte{0x18, 0x30, 0x10}, true},
		{"av1 key frame after sequence header, W=2", "video/av1", []byte{0x20, 0x02, 0x08, 0x00, 0x30, 0x10}, true},
		{"av1 sequence header with an inter frame", "video/av1", []byte{0x20, 0x02, 0x08, 0x00, 0x30, 0x20}, false},
		{"av1 inter frame", "video/av1", []byte{0x10, 0x30, 0x20}, false},
		{"av1 continuation", "video/av1", []byte{0x90, 0x08, 0x00}, false},
		{"av1 W=0 lengths", "video/av1", []byte{0x00, 0x02, 0x08, 0x00}, true},
		// H.265: F|Type(6)|LayerId(6)|TID(3)
		{"h265 VPS", "video/h265", []byte{0x40, 0x01, 0x0c}, true},
		{"h265 IDR_W_RADL", "video/h265", []byte{0x26, 0x01, 0xaf}, true},
		{"h265 CRA", "video/h265", []byte{0x2a, 0x01, 0xaf}, true},
		{"h265 TRAIL_R", "video/h265", []byte{0x02, 0x01, 0xd0}, false},
		{"h265 AP VPS SPS", "video/h265", []byte{0x60, 0x01, 0, 3, 0x40, 0x01, 0x0c, 0, 3, 0x42, 0x01, 0x01}, true},
		{"h265 AP SEI TRAIL", "video/h265", []byte{0x60, 0x01, 0, 3, 0x4e, 0x01, 0x05, 0, 3, 0x02, 0x01, 0xd0}, false},
		{"h265 FU IDR start", "video/h265", []byte{0x62, 0x01, 0x93, 0xaf}, true},
		{"h265 FU IDR middle", "video/h265", []byte{0x62, 0x01, 0x13, 0xaf}, false},
		{"h265 FU TRAIL start", "video/h265", []byte{0x62, 0x01, 0x81, 0xd0}, false},
		{"opus", "audio/opus", []byte{0x78}, false},
	} {
		if got := isKeyframePacket(c.codec, c.p); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
