package client

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// Paths of the committed test media (see testdata/media/README.md).
var (
	h264Path = filepath.Join("..", "testdata", "media", "h264.h264")
	vp8Path  = filepath.Join("..", "testdata", "media", "vp8.ivf")
	opusPath = filepath.Join("..", "testdata", "media", "opus.ogg")
)

func mustOpen(t testing.TB, open func() (*Source, error)) *Source {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openH264(t testing.TB) *Source {
	return mustOpen(t, func() (*Source, error) { return OpenH264(h264Path, 30) })
}
func openVP8(t testing.TB) *Source {
	return mustOpen(t, func() (*Source, error) { return OpenVP8(vp8Path) })
}
func openOpus(t testing.TB) *Source {
	return mustOpen(t, func() (*Source, error) { return OpenOpus(opusPath) })
}

func TestOpenH264(t *testing.T) {
	s := openH264(t)
	if got := len(s.Samples()); got != 120 {
		t.Fatalf("access units = %d, want 120", got)
	}
	if got, want := s.Keyframes(), []int{0, 30, 60, 90}; !equalInts(got, want) {
		t.Fatalf("keyframes at %v, want %v", got, want)
	}
	if got := s.Duration(); got < 3999*time.Millisecond || got > 4*time.Second {
		t.Fatalf("duration = %v, want 4s", got)
	}
	if s.Kind() != webrtc.RTPCodecTypeVideo || s.Codec().MimeType != webrtc.MimeTypeH264 || s.Codec().ClockRate != 90000 {
		t.Fatalf("codec = %+v kind %v", s.Codec(), s.Kind())
	}
	// NAL layout per access unit (README): AU0 = SPS PPS SEI IDR; AU30/60/90 = SPS PPS IDR; else one slice.
	total := 0
	for i, smp := range s.Samples() {
		var types []byte
		for _, nal := range splitAnnexB(smp.Data) {
			types = append(types, nal[0]&0x1f)
		}
		total += len(types)
		want := []byte{naluSlice}
		switch i {
		case 0:
			want = []byte{7, 8, 6, naluIDR}
		case 30, 60, 90:
			want = []byte{7, 8, naluIDR}
		}
		if !bytes.Equal(types, want) {
			t.Fatalf("AU %d NAL types %v, want %v", i, types, want)
		}
		if smp.Duration != time.Second/30 {
			t.Fatalf("AU %d duration %v", i, smp.Duration)
		}
	}
	if total != 129 {
		t.Fatalf("NAL units = %d, want 129", total)
	}
}

// TestOpenH264Normalizes checks the documented normal form: 3-byte start codes become 4-byte,
// trailing zeros, AUD and filler NAL units go, and the AU ends at the slice.
func TestOpenH264Normalizes(t *testing.T) {
	in := []byte{
		0, 0, 0, 1, 0x09, 0xf0, // AUD
		0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0, 0, // SPS + trailing zeros
		0, 0, 1, 0x68, 0xce, // PPS
		0, 0, 1, 0x65, 0x88, 0x84, // IDR
		0, 0, 0, 1, 0x0c, 0xff, // filler
		0, 0, 1, 0x41, 0x9a, // slice
		0, 0, 1, 0x67, 0x42, // trailing SPS without slice: dropped
	}
	path := filepath.Join(t.TempDir(), "x.h264")
	if err := os.WriteFile(path, in, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := OpenH264(path, 25)
	if err != nil {
		t.Fatal(err)
	}
	want := []Sample{
		{Data: []byte{0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 1, 0x65, 0x88, 0x84}, Keyframe: true},
		{Data: []byte{0, 0, 0, 1, 0x41, 0x9a}},
	}
	if len(s.Samples()) != len(want) {
		t.Fatalf("samples = %d, want %d", len(s.Samples()), len(want))
	}
	for i, w := range want {
		got := s.Samples()[i]
		if !bytes.Equal(got.Data, w.Data) || got.Keyframe != w.Keyframe || got.Duration != 40*time.Millisecond {
			t.Errorf("sample %d = %x key %v dur %v, want %x key %v", i, got.Data, got.Keyframe, got.Duration, w.Data, w.Keyframe)
		}
	}
}

func TestOpenVP8(t *testing.T) {
	s := openVP8(t)
	if got := len(s.Samples()); got != 120 {
		t.Fatalf("frames = %d, want 120", got)
	}
	if got, want := s.Keyframes(), []int{0, 30, 60, 90}; !equalInts(got, want) {
		t.Fatalf("keyframes at %v, want %v", got, want)
	}
	for i, smp := range s.Samples() {
		if smp.Duration != time.Second/30 {
			t.Fatalf("frame %d duration %v", i, smp.Duration)
		}
	}
	if s.Codec().MimeType != webrtc.MimeTypeVP8 || s.Kind() != webrtc.RTPCodecTypeVideo {
		t.Fatalf("codec = %+v", s.Codec())
	}
}

func TestOpenOpus(t *testing.T) {
	s := openOpus(t)
	// 4 s of 48 kHz audio plus 312 samples of encoder pre-skip = 201 packets of 20 ms.
	if got := len(s.Samples()); got != 201 {
		t.Fatalf("packets = %d, want 201", got)
	}
	for i, smp := range s.Samples() {
		if smp.Duration != 20*time.Millisecond || smp.Keyframe || len(smp.Data) == 0 {
			t.Fatalf("packet %d: duration %v key %v len %d", i, smp.Duration, smp.Keyframe, len(smp.Data))
		}
	}
	c := s.Codec()
	if c.MimeType != webrtc.MimeTypeOpus || c.ClockRate != 48000 || c.Channels != 2 || s.Kind() != webrtc.RTPCodecTypeAudio {
		t.Fatalf("codec = %+v", c)
	}
}

func TestOpusDuration(t *testing.T) {
	for _, tc := range []struct {
		pkt  []byte
		want time.Duration
	}{
		{[]byte{0xfc}, 20 * time.Millisecond},          // CELT FB 20 ms, one frame (ffmpeg's)
		{[]byte{0xf8 | 1}, 40 * time.Millisecond},      // CELT 20 ms, two frames
		{[]byte{0x80 | 3, 3}, 7500 * time.Microsecond}, // CELT 2.5 ms, code 3 with 3 frames
		{[]byte{0x08}, 20 * time.Millisecond},          // SILK NB 20 ms
		{[]byte{0x18}, 60 * time.Millisecond},          // SILK NB 60 ms
		{[]byte{0x68}, 20 * time.Millisecond},          // hybrid SWB 20 ms
		{[]byte{0x03}, 0},                              // code 3 without count byte
		{nil, 0},
	} {
		if got := opusDuration(tc.pkt); got != tc.want {
			t.Errorf("opusDuration(%x) = %v, want %v", tc.pkt, got, tc.want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	junk := filepath.Join(t.TempDir(), "junk")
	if err := os.WriteFile(junk, []byte("not media at all, clearly"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func() (*Source, error){
		"h264 junk":   func() (*Source, error) { return OpenH264(junk, 30) },
		"h264 fps 0":  func() (*Source, error) { return OpenH264(h264Path, 0) },
		"vp8 junk":    func() (*Source, error) { return OpenVP8(junk) },
		"vp8 of h264": func() (*Source, error) { return OpenVP8(h264Path) },
		"opus junk":   func() (*Source, error) { return OpenOpus(junk) },
		"opus of ivf": func() (*Source, error) { return OpenOpus(vp8Path) },
	} {
		if _, err := open(); !errors.Is(err, ErrMedia) {
			t.Errorf("%s: err = %v, want ErrMedia", name, err)
		}
	}
	if _, err := OpenOpus(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestNextKeyframe(t *testing.T) {
	s := openH264(t)
	for _, tc := range []struct {
		i    int
		wrap bool
		want int
	}{{0, false, 0}, {1, false, 30}, {30, false, 30}, {95, false, 95}, {95, true, 0}, {61, true, 90}} {
		if got := s.nextKeyframe(tc.i, tc.wrap); got != tc.want {
			t.Errorf("nextKeyframe(%d, %v) = %d, want %d", tc.i, tc.wrap, got, tc.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
