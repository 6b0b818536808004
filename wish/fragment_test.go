package wish

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// COMMON-22: fragments in the shapes real clients send parse leniently.
func TestParseFragmentCapturedShapes(t *testing.T) {
	files, err := filepath.Glob("../testdata/fragments/*.sdpfrag")
	if err != nil || len(files) < 5 {
		t.Fatalf("fragments: %v %v", files, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.NewReplacer("UFRAG", "u1", "PWD", "p1", "MID", "video0").Replace(string(b))
		f, err := ParseFragment(text)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if len(f.Candidates) == 0 {
			t.Errorf("%s: no candidates", file)
		}
		if strings.Contains(text, "ice-ufrag") && (f.Ufrag != "u1" || f.Pwd != "p1") {
			t.Errorf("%s: credentials %q %q", file, f.Ufrag, f.Pwd)
		}
		if strings.Contains(text, "a=mid") && f.Mid != "video0" {
			t.Errorf("%s: mid %q", file, f.Mid)
		}
		for _, c := range f.Candidates {
			if !strings.HasPrefix(c, "candidate:") {
				t.Errorf("%s: candidate %q lacks the prefix", file, c)
			}
		}
	}
}

func TestParseFragment(t *testing.T) {
	for _, tc := range []struct {
		name, in   string
		ok         bool
		ufrag, mid string
		cands      int
		end        bool
	}{
		{"session-level creds, CRLF", "a=ice-ufrag:a\r\na=ice-pwd:b\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=candidate:1 1 udp 1 127.0.0.1 5 typ host\r\na=end-of-candidates\r\n", true, "a", "0", 1, true},
		{"media-level creds, LF", "m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:x\na=ice-ufrag:a\na=ice-pwd:b\na=candidate:1 1 udp 1 127.0.0.1 5 typ host\n", true, "a", "x", 1, false},
		{"first mid wins, bundle group", "a=group:BUNDLE 0 1\nm=audio 9 RTP/AVP 0\na=mid:0\nm=video 9 RTP/AVP 0\na=mid:1\na=candidate:1 1 udp 1 127.0.0.1 5 typ host\n", true, "", "0", 1, false},
		{"end only", "a=end-of-candidates\r\n", true, "", "", 0, true},
		{"no trailing newline", "a=candidate:1 1 udp 1 127.0.0.1 5 typ host", true, "", "", 1, false},
		{"empty", "", false, "", "", 0, false},
		{"blank lines", "\r\n\r\n", false, "", "", 0, false},
		{"not sdp", "hello world", false, "", "", 0, false},
		{"json", `{"candidate":"x"}`, false, "", "", 0, false},
		{"ufrag without pwd", "a=ice-ufrag:a\r\n", false, "", "", 0, false},
		{"conflicting ufrags", "a=ice-ufrag:a\na=ice-pwd:b\na=ice-ufrag:c\n", false, "", "", 0, false},
		{"upper-case type letter", "A=candidate:1\n", false, "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFragment(tc.in)
			if !tc.ok {
				if !errors.Is(err, ErrBadFragment) {
					t.Fatalf("err = %v, want ErrBadFragment", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Ufrag != tc.ufrag || f.Mid != tc.mid || len(f.Candidates) != tc.cands || f.End != tc.end {
				t.Fatalf("got %+v", f)
			}
		})
	}
}
