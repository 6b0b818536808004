package rtc

import (
	"strings"
	"testing"
)

// COMMON-33, COMMON-06: every media section of the answer carries a=rtcp-mux-only and
// a=end-of-candidates, in CRLF.
func TestFinishAnswer(t *testing.T) {
	in := "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=audio 9 UDP/TLS/RTP/SAVPF 111\na=rtcp-mux\na=candidate:1 1 udp 1 127.0.0.1 5000 typ host\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\na=rtcp-mux\na=rtcp-mux-only\na=end-of-candidates\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
	out := finishAnswer(in)
	if strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") {
		t.Fatalf("bare LF left in %q", out)
	}
	if !strings.HasPrefix(out, "v=0\r\n") {
		t.Fatalf("answer must start with v=0 CRLF: %q", out)
	}
	sections := strings.Split(out, "m=")[1:]
	if len(sections) != 3 {
		t.Fatalf("sections = %d, want 3", len(sections))
	}
	for i, sec := range sections {
		if got := strings.Count(sec, "a=end-of-candidates\r\n"); got != 1 {
			t.Errorf("section %d: %d end-of-candidates, want 1", i, got)
		}
		wantMux := 1
		if i == 2 {
			wantMux = 0 // no rtcp-mux in the application section
		}
		if got := strings.Count(sec, "a=rtcp-mux-only\r\n"); got != wantMux {
			t.Errorf("section %d: %d rtcp-mux-only, want %d", i, got, wantMux)
		}
	}
}
