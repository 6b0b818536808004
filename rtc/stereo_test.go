package rtc

import (
	"strings"
	"testing"
)

// StereoOpus sets stereo=1;sprop-stereo=1 on every Opus payload type of an answer (replacing
// stereo=0), adds an fmtp line where an Opus rtpmap has none, and leaves every other line alone.
func TestStereoOpus(t *testing.T) {
	in := "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 63 0\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n" +
		"a=fmtp:111 minptime=10;stereo=0;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\na=rtpmap:0 PCMU/8000\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 109\r\na=rtpmap:109 OPUS/48000/2\r\na=rtcp-fb:109 nack\r\na=ssrc:1 cname:x\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\na=fmtp:96 x=1\r\n"
	want := "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 63 0\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n" +
		"a=fmtp:111 minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1\r\na=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\na=rtpmap:0 PCMU/8000\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 109\r\na=rtpmap:109 OPUS/48000/2\r\na=rtcp-fb:109 nack\r\na=fmtp:109 stereo=1;sprop-stereo=1\r\na=ssrc:1 cname:x\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\na=fmtp:96 x=1\r\n"
	if got := StereoOpus(in); got != want {
		t.Fatalf("got\n%s\nwant\n%s", strings.ReplaceAll(got, "\r\n", "⏎\n"), strings.ReplaceAll(want, "\r\n", "⏎\n"))
	}
	if got := StereoOpus(want); got != want {
		t.Fatalf("not idempotent:\n%s", got)
	}
}
