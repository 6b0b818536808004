package cluster

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPullTokens(t *testing.T) {
	s := NewSigner("0123456789abcdef-secret")
	tok := s.Sign("cam", "B", time.Minute)
	if !IsToken(tok) {
		t.Fatalf("%q is not recognised as a pull token", tok)
	}
	if node, err := s.Verify(tok, "cam"); err != nil || node != "B" {
		t.Fatalf("verify: %q %v", node, err)
	}
	other := NewSigner("another-secret-of-16+")
	expired := NewSigner("0123456789abcdef-secret")
	expired.now = func() time.Time { return time.Now().Add(-2 * time.Minute) }
	payload, mac, _ := strings.Cut(strings.TrimPrefix(tok, tokenPrefix), ".")
	for name, bad := range map[string]string{
		"other stream":  tok, // verified against "dog" below
		"wrong secret":  other.Sign("cam", "B", time.Minute),
		"expired":       expired.Sign("cam", "B", time.Minute),
		"tampered":      tokenPrefix + payload + "x." + mac,
		"no signature":  tokenPrefix + payload,
		"not a token":   "s3cret-key",
		"empty":         "",
		"garbage mac":   tokenPrefix + payload + ".AAAA",
		"bad base64":    tokenPrefix + "!!!." + s.mac("!!!"),
		"bad structure": tokenPrefix + "YQ." + s.mac("YQ"),
	} {
		stream := "cam"
		if name == "other stream" {
			stream = "dog"
		}
		if _, err := s.Verify(bad, stream); !errors.Is(err, ErrBadToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
