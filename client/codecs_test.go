package client

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// The VP9, AV1 and H.265 clips (testdata/media/README.md): 60 frames with keyframes at 0 and 30,
// and the fast-start clips: 300 frames with one keyframe, at 0.
func TestOpenVP9AV1H265(t *testing.T) {
	media := func(name string) string { return filepath.Join("..", "testdata", "media", name) }
	for _, c := range []struct {
		file, mime string
		open       func(string) (*Source, error)
		frames     int
		keys       []int
	}{
		{"vp9.ivf", webrtc.MimeTypeVP9, OpenIVF, 60, []int{0, 30}},
		{"av1.ivf", webrtc.MimeTypeAV1, OpenIVF, 60, []int{0, 30}},
		{"h265.h265", webrtc.MimeTypeH265, func(p string) (*Source, error) { return OpenH265(p, 30) }, 60, []int{0, 30}},
		{"vp9-gop10s.ivf", webrtc.MimeTypeVP9, OpenIVF, 300, []int{0}},
		{"av1-gop10s.ivf", webrtc.MimeTypeAV1, OpenIVF, 300, []int{0}},
		{"h265-gop10s.h265", webrtc.MimeTypeH265, func(p string) (*Source, error) { return OpenH265(p, 30) }, 300, []int{0}},
	} {
		s, err := c.open(media(c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if len(s.Samples()) != c.frames || !equalInts(s.Keyframes(), c.keys) {
			t.Errorf("%s: %d frames, keyframes %v; want %d, %v", c.file, len(s.Samples()), s.Keyframes(), c.frames, c.keys)
		}
		if s.Codec().MimeType != c.mime || s.Kind() != webrtc.RTPCodecTypeVideo {
			t.Errorf("%s: codec %+v", c.file, s.Codec())
		}
		if d := s.Duration(); d != time.Duration(c.frames)*(time.Second/30) {
			t.Errorf("%s: duration %v", c.file, d)
		}
	}
	if _, err := OpenVP8(media("vp9.ivf")); !errors.Is(err, ErrMedia) {
		t.Errorf("OpenVP8 of a VP9 file: %v, want ErrMedia", err)
	}
}
