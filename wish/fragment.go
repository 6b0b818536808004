package wish

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadFragment reports a PATCH body that is not an SDP fragment (RFC 8840); it maps to 400.
var ErrBadFragment = errors.New("malformed trickle-ice-sdpfrag")

// Fragment is what a trickle or ICE-restart PATCH body says (RFC 8840 §9, RFC 9725 §4.3).
type Fragment struct {
	// Ufrag and Pwd are the client's ICE credentials, from session or media level; empty if absent.
	Ufrag, Pwd string
	// Mid is the first a=mid of the fragment, "" if it has none.
	Mid string
	// Candidates are the a=candidate values (without "a="), in order.
	Candidates []string
	// End reports a=end-of-candidates.
	End bool
}

// ParseFragment reads a trickle-ice-sdpfrag leniently (COMMON-22): CRLF or LF, ufrag/pwd at session
// or media level, any m= line (RTP/AVP 0 from Meetecho and Eyevinn, UDP/TLS/RTP/SAVPF from Medooze),
// an optional a=mid and a=group:BUNDLE, candidate extensions and odd component ids. Only a body
// that is not SDP at all (a line that is not "x=...") or one with conflicting credentials is an
// error. It never panics.
func ParseFragment(body string) (Fragment, error) {
	var f Fragment
	lines := 0
	for _, raw := range strings.Split(body, "\n") {
		line := strings.TrimRight(raw, "\r \t")
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z' {
			return Fragment{}, fmt.Errorf("%w: line %q", ErrBadFragment, truncate(line, 40))
		}
		lines++
		if line[0] != 'a' {
			continue // m=, c=, ...: not needed
		}
		key, val, _ := strings.Cut(line[2:], ":")
		switch key {
		case "ice-ufrag":
			if f.Ufrag != "" && f.Ufrag != val {
				return Fragment{}, fmt.Errorf("%w: two different ice-ufrag values", ErrBadFragment)
			}
			f.Ufrag = val
		case "ice-pwd":
			if f.Pwd != "" && f.Pwd != val {
				return Fragment{}, fmt.Errorf("%w: two different ice-pwd values", ErrBadFragment)
			}
			f.Pwd = val
		case "mid":
			if f.Mid == "" {
				f.Mid = val
			}
		case "candidate":
			if val != "" {
				f.Candidates = append(f.Candidates, "candidate:"+val)
			}
		case "end-of-candidates":
			f.End = true
		}
	}
	if lines == 0 {
		return Fragment{}, fmt.Errorf("%w: empty", ErrBadFragment)
	}
	if (f.Ufrag == "") != (f.Pwd == "") {
		return Fragment{}, fmt.Errorf("%w: ice-ufrag and ice-pwd must come together", ErrBadFragment)
	}
	return f, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
