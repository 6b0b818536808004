package rtc

import (
	"errors"
	"testing"
)

// webrtcbinOffer is the shape of a GStreamer webrtcbin max-bundle offer (simple-whip-client):
// the second section has port 0 and a=bundle-only, and is live on the BUNDLE transport.
const webrtcbinOffer = "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
	"a=group:BUNDLE video0 audio1\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:video0\r\na=sendonly\r\n" +
	"a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n" +
	"m=audio 0 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=bundle-only\r\na=mid:audio1\r\n" +
	"a=sendonly\r\na=rtcp-mux\r\na=rtpmap:111 OPUS/48000/2\r\n"

// COMMON-33 (max-bundle): a port-0 section with a=bundle-only is live (RFC 8843 §6), not rejected.
func TestParseOfferBundleOnlyPortZeroIsLive(t *testing.T) {
	o, err := ParseOffer(webrtcbinOffer)
	if err != nil {
		t.Fatalf("ParseOffer: %v", err)
	}
	if !o.Audio || !o.Video {
		t.Fatalf("Audio=%v Video=%v, want both", o.Audio, o.Video)
	}
	if got := o.Directions["audio"]; got != "sendonly" {
		t.Fatalf("audio direction %q, want sendonly", got)
	}
}

// A port-0 section without a=bundle-only is still a rejected (inactive) section.
func TestParseOfferPortZeroWithoutBundleOnlyIsInactive(t *testing.T) {
	offer := "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n" +
		"m=audio 0 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtpmap:111 OPUS/48000/2\r\n"
	o, err := ParseOffer(offer)
	if err != nil {
		t.Fatalf("ParseOffer: %v", err)
	}
	if o.Audio || o.Directions["audio"] != "inactive" {
		t.Fatalf("Audio=%v direction %q, want false/inactive", o.Audio, o.Directions["audio"])
	}
	if _, err := ParseOffer("m=video"); !errors.Is(err, ErrBadOffer) {
		t.Fatalf("garbage: %v, want ErrBadOffer", err)
	}
}

// A viewer's offer has at most one video section (ParseOffer: 422); a pull by another node may
// have one per simulcast layer, up to the limit it is given (ParseLayeredOffer), and a section
// that is not recvonly among them still shows in Directions.
func TestParseLayeredOffer(t *testing.T) {
	video := func(mid, dir string) string {
		return "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:" + mid + "\r\na=" + dir + "\r\na=rtpmap:96 VP8/90000\r\n"
	}
	head := "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
	three := head + video("0", "recvonly") + video("1", "recvonly") + video("2", "recvonly")
	if _, err := ParseOffer(three); !errors.Is(err, ErrUnsupportedOffer) {
		t.Fatalf("ParseOffer with three video sections: %v, want ErrUnsupportedOffer", err)
	}
	o, err := ParseLayeredOffer(three, 4)
	if err != nil || !o.Video || o.VideoSections != 3 || o.Directions["video"] != "recvonly" {
		t.Fatalf("ParseLayeredOffer(3 sections, 4) = %+v, %v", o, err)
	}
	if _, err := ParseLayeredOffer(three, 2); !errors.Is(err, ErrUnsupportedOffer) {
		t.Fatalf("ParseLayeredOffer(3 sections, 2): %v, want ErrUnsupportedOffer", err)
	}
	o, err = ParseLayeredOffer(head+video("0", "recvonly")+video("1", "sendonly"), 4)
	if err != nil || o.Directions["video"] != "sendonly" {
		t.Fatalf("a sendonly section among recvonly ones: %+v, %v", o, err)
	}
	if o, err := ParseOffer(head + video("0", "recvonly")); err != nil || o.VideoSections != 1 {
		t.Fatalf("one section: %+v, %v", o, err)
	}
}
