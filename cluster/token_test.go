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

// A placement grant admits one redirected viewer's POST of its stream until it expires; a grant
// of another secret or stream, an expired or altered one, and a pull token are refused, and a
// grant is no pull token (its signature covers its prefix), so neither passes for the other.
func TestPlacementGrants(t *testing.T) {
	s := NewSigner("0123456789abcdef-secret")
	g := s.Grant("cam", 30*time.Second)
	if err := s.VerifyGrant(g, "cam"); err != nil {
		t.Fatalf("verify grant: %v", err)
	}
	if IsToken(g) {
		t.Fatal("a grant has the form of a pull token")
	}
	expired := NewSigner("0123456789abcdef-secret")
	expired.now = func() time.Time { return time.Now().Add(-time.Minute) }
	payload, mac, _ := strings.Cut(strings.TrimPrefix(g, grantPrefix), ".")
	pull := s.Sign("cam", "B", time.Minute)
	pullPayload, pullMAC, _ := strings.Cut(strings.TrimPrefix(pull, tokenPrefix), ".")
	for name, bad := range map[string]struct{ grant, stream string }{
		"other stream":            {g, "dog"},
		"wrong secret":            {NewSigner("another-secret-of-16+").Grant("cam", time.Minute), "cam"},
		"expired":                 {expired.Grant("cam", 30*time.Second), "cam"},
		"tampered":                {grantPrefix + payload + "x." + mac, "cam"},
		"a pull token":            {pull, "cam"},
		"a pull token re-labeled": {grantPrefix + pullPayload + "." + pullMAC, "cam"},
		"empty":                   {"", "cam"},
	} {
		if err := s.VerifyGrant(bad.grant, bad.stream); !errors.Is(err, ErrBadToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := s.Verify(tokenPrefix+payload+"."+mac, "cam"); !errors.Is(err, ErrBadToken) {
		t.Errorf("a grant re-labeled as a pull token: %v", err)
	}
}
