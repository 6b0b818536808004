package wish

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseFragment: any PATCH body parses or is refused with ErrBadFragment; it never panics,
// and what it returns is consistent with the body (COMMON-20, COMMON-22). Seeds: the captured
// client fragments in testdata/fragments and edge cases; they run in every go test.
func FuzzParseFragment(f *testing.F) {
	files, _ := filepath.Glob("../testdata/fragments/*.sdpfrag")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{
		"", "\n", "hello", "a=", "=x", "a=ice-ufrag:x\r\na=ice-ufrag:y\r\n",
		"a=ice-ufrag:u\na=ice-pwd:p\nm=audio 9 RTP/AVP 0\na=mid:0\na=candidate:1 1 udp 1 x.local 9 typ host\na=end-of-candidates\n",
		"a=candidate:1 0 UDP 2122252543 192.0.2.1 51000 typ host generation 0 ufrag u network-id 1\r\n",
		"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:video0\r\na=candidate:" + strings.Repeat("9", 4096) + "\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fr, err := ParseFragment(body)
		if err != nil {
			return
		}
		for _, c := range fr.Candidates {
			if !strings.Contains(body, c) {
				t.Fatalf("candidate %q not in the body", c)
			}
		}
		if fr.Ufrag != "" && !strings.Contains(body, fr.Ufrag) {
			t.Fatalf("ufrag %q not in the body", fr.Ufrag)
		}
		if fr.End && !strings.Contains(body, "a=end-of-candidates") {
			t.Fatal("End without a=end-of-candidates in the body")
		}
	})
}
