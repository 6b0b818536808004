package rtc

import (
	"strings"
	"testing"
)

// COMMON-21: candidates the server cannot use are discarded before pion sees them.
func TestUsable(t *testing.T) {
	for c, want := range map[string]bool{
		"candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host":                                  true,
		"1 1 UDP 2122260223 192.0.2.1 5000 typ host generation 0 ufrag x network-id 1":          true,
		"candidate:1 1 tcp 1518280447 192.0.2.1 9 typ host tcptype passive":                     true,
		"candidate:1 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active":                      false,
		"candidate:3 1 udp 2122260223 3d6c1a3e-0f3c-4e1c-9bb4-5b2a1a4f0e11.local 5000 typ host": false,
		"candidate:3 1 udp 2122260223 3D6C1A3E-0F3C-4E1C-9BB4-5B2A1A4F0E11.LOCAL 5000 typ host": false,
		"candidate:1 1 udp": false,
		"":                  false,
		"candidate:842163049 1 udp 1677729535 198.51.100.7 4000 typ srflx raddr 0.0.0.0 rport 0": true,
	} {
		if got := Usable(c); got != want {
			t.Errorf("Usable(%q) = %v, want %v", c, got, want)
		}
	}
}

const testAnswer = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-lite\r\na=ice-options:trickle\r\na=group:BUNDLE 0 1\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ice-ufrag:su\r\na=ice-pwd:sp\r\n" +
	"a=candidate:1 1 udp 2130706431 192.0.2.1 8189 typ host\r\na=candidate:2 1 tcp 1671430143 192.0.2.1 8189 typ host tcptype passive\r\na=end-of-candidates\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=ice-ufrag:su\r\na=ice-pwd:sp\r\na=candidate:1 1 udp 2130706431 192.0.2.1 8189 typ host\r\n"

// COMMON-25: the restart response is the RFC 9725 §4.3.3 fragment, in CRLF.
func TestFragment(t *testing.T) {
	want := "a=ice-lite\r\na=ice-options:trickle\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ice-ufrag:su\r\na=ice-pwd:sp\r\n" +
		"a=candidate:1 1 udp 2130706431 192.0.2.1 8189 typ host\r\na=candidate:2 1 tcp 1671430143 192.0.2.1 8189 typ host tcptype passive\r\na=end-of-candidates\r\n"
	if got := Fragment(testAnswer); got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

func TestRewriteICE(t *testing.T) {
	got := rewriteICE(strings.ReplaceAll(testAnswer, "\r\n", "\n"), "nu", "np")
	if strings.Contains(got, "a=candidate") || strings.Contains(got, "end-of-candidates") ||
		strings.Contains(got, "ice-ufrag:su") || strings.Count(got, "a=ice-ufrag:nu\r\n") != 2 || strings.Count(got, "a=ice-pwd:np\r\n") != 2 {
		t.Fatalf("rewritten:\n%s", got)
	}
	if strings.Contains(strings.ReplaceAll(got, "\r\n", ""), "\n") {
		t.Fatal("not CRLF")
	}
}
