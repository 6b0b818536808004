package rtc

import (
	"errors"
	"testing"
)

// FuzzParseOffer feeds arbitrary text to ParseOffer, the first thing a POST body meets. Checked:
// no panic; an error is always ErrBadOffer (→ 400) or ErrUnsupportedOffer (→ 422); an accepted
// offer reports only audio/video directions from the RFC 8866 set, Audio and Video agree with
// them, and the text is kept as received. Seeds: testdata/fuzz/FuzzParseOffer (pion WHIP and
// WHEP offers, duplicated and unknown sections, truncated and binary input) plus those below.
func FuzzParseOffer(f *testing.F) {
	f.Add("")
	f.Add("v=0\r\n")
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\n")
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=text 9 RTP/AVP 0\r\n")
	f.Fuzz(func(t *testing.T, text string) {
		o, err := ParseOffer(text)
		if err != nil {
			if !errors.Is(err, ErrBadOffer) && !errors.Is(err, ErrUnsupportedOffer) {
				t.Fatalf("error %v is neither ErrBadOffer nor ErrUnsupportedOffer", err)
			}
			return
		}
		if o.SDP != text {
			t.Fatal("SDP not kept as received")
		}
		for kind, dir := range o.Directions {
			if kind != "audio" && kind != "video" {
				t.Fatalf("direction for kind %q", kind)
			}
			switch dir {
			case "sendonly", "recvonly", "sendrecv", "inactive":
			default:
				t.Fatalf("%s direction %q", kind, dir)
			}
		}
		if _, ok := o.Directions["audio"]; o.Audio && !ok {
			t.Fatal("Audio without a direction")
		}
		if _, ok := o.Directions["video"]; o.Video && !ok {
			t.Fatal("Video without a direction")
		}
		if !o.Audio && !o.Video && !o.Data && len(o.Directions) == 0 {
			t.Fatal("accepted an offer with no section")
		}
	})
}
