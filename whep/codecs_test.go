package whep

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/wisp-media/wisp/rtc"
	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/wish"
)

// WHEP-05: the codecs of real players' captured offers, and the 422 naming the publisher's codec
// when a player lacks it (video or audio); a stream whose codec is not known yet is not checked.
func TestCheckCodecs(t *testing.T) {
	read := func(name string) rtc.Offer {
		b, err := os.ReadFile("../testdata/offers/" + name)
		if err != nil {
			t.Fatal(err)
		}
		o, err := rtc.ParseOffer(string(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return o
	}
	chrome, firefox, safari := read("chrome-recvonly.sdp"), read("firefox-recvonly.sdp"), read("safari-recvonly.sdp")
	if got := strings.Join(offeredCodecs(chrome.SDP, "video"), ","); got != "video/VP8,video/H264,video/VP9,video/AV1" {
		t.Errorf("chrome video codecs: %s", got)
	}
	if got := strings.Join(offeredCodecs(firefox.SDP, "audio"), ","); !strings.HasPrefix(got, "audio/opus,") {
		t.Errorf("firefox audio codecs: %s", got)
	}
	for _, c := range []struct {
		name   string
		info   stream.Info
		offer  rtc.Offer
		naming string // "" for accepted
	}{
		{"chrome, VP8 + Opus", stream.Info{Name: "s", Video: "video/vp8", Audio: "audio/opus"}, chrome, ""},
		{"chrome, H.265", stream.Info{Name: "s", Video: "video/h265"}, chrome, "H265 video"},
		{"safari, AV1", stream.Info{Name: "s", Video: "video/av1"}, safari, "AV1 video"},
		{"firefox, VP9", stream.Info{Name: "s", Video: "video/vp9"}, firefox, ""},
		{"chrome, an audio codec it lacks", stream.Info{Name: "s", Audio: "audio/multiopus"}, chrome, "MULTIOPUS audio"},
		{"no publisher yet", stream.Info{Name: "s"}, safari, ""},
	} {
		err := checkCodecs(c.info, c.offer)
		if c.naming == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var e *wish.Error
		if !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity || !strings.Contains(e.Detail, c.naming) {
			t.Errorf("%s: %v, want 422 naming %q", c.name, err, c.naming)
		}
	}
}
