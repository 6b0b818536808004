package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/wisp-media/wisp/wish"
)

// sign makes a token with the given claims.
func sign(t *testing.T, m jwt.SigningMethod, key any, kid string, c Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claims(stream, action string, exp time.Duration) Claims {
	return Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(exp))}, Stream: stream, Action: action}
}

// COMMON-16: genuine tokens granting the action on the stream pass; expired, tampered, unsigned
// and foreign-algorithm tokens are invalid (401); a genuine token for another stream or action is
// ErrNotGranted (403).
func TestVerifyHS256(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	v, err := New(context.Background(), Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	good := sign(t, jwt.SigningMethodHS256, secret, "", claims("cam", "publish", time.Hour))
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + strings.TrimRight(jwtPart(t, `{"exp":9999999999,"stream":"*","action":"publish"}`), "=") + "." + parts[2]
	noExp := sign(t, jwt.SigningMethodHS256, secret, "", Claims{Stream: "cam", Action: "publish"})
	for _, tc := range []struct {
		name, token, action, stream string
		want                        string // "", "invalid" or "granted"
	}{
		{"valid", good, "publish", "cam", ""},
		{"any stream", sign(t, jwt.SigningMethodHS256, secret, "", claims("*", "watch", time.Hour)), "watch", "x", ""},
		{"expired", sign(t, jwt.SigningMethodHS256, secret, "", claims("cam", "publish", -time.Hour)), "publish", "cam", "invalid"},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, []byte("another secret of enough length!"), "", claims("cam", "publish", time.Hour)), "publish", "cam", "invalid"},
		{"tampered", tampered, "publish", "cam", "invalid"},
		{"no exp", noExp, "publish", "cam", "invalid"},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims("cam", "publish", time.Hour)), "publish", "cam", "invalid"},
		{"RS256 without JWKS", sign(t, jwt.SigningMethodRS256, rsaKey, "k", claims("cam", "publish", time.Hour)), "publish", "cam", "invalid"},
		{"wrong stream", good, "publish", "other", "granted"},
		{"wrong action", good, "watch", "cam", "granted"},
	} {
		err := v.Verify(context.Background(), tc.token, tc.action, tc.stream)
		got := ""
		switch {
		case errors.Is(err, wish.ErrNotGranted):
			got = "granted"
		case err != nil:
			got = "invalid"
		}
		if got != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), tc.token) {
			t.Errorf("%s: the error holds the token", tc.name)
		}
	}
}

func jwtPart(t *testing.T, s string) string {
	t.Helper()
	return b64(s)
}

// jwksServer serves a JWK Set that the test can replace (a key rotation).
type jwksServer struct {
	mu   sync.Mutex
	body []byte
	hits int
}

func (s *jwksServer) set(t *testing.T, keys map[string]crypto.Signer) {
	t.Helper()
	store := jwkset.NewMemoryStorage()
	for kid, k := range keys {
		alg := jwkset.AlgES256
		if _, ok := k.(*rsa.PrivateKey); ok {
			alg = jwkset.AlgRS256
		}
		jwk, err := jwkset.NewJWKFromKey(k.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: alg, USE: jwkset.UseSig}})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.KeyWrite(context.Background(), jwk); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := store.JSONPublic(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.body = raw
	s.mu.Unlock()
}

func (s *jwksServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	body := s.body
	s.hits++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// COMMON-16 with keys from a JWKS URL: ES256 and RS256 tokens verify; when the server rotates to a
// new key, a token signed with it verifies (the set is refetched for the unknown key id) and a
// token of the removed key no longer does.
func TestVerifyJWKSRotation(t *testing.T) {
	ecA, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaA, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecB, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	js := &jwksServer{}
	js.set(t, map[string]crypto.Signer{"a": ecA, "r": rsaA})
	srv := httptest.NewServer(js)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := New(ctx, Config{JWKSURL: srv.URL, Refresh: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tokA := sign(t, jwt.SigningMethodES256, ecA, "a", claims("cam", "watch", time.Hour))
	if err := v.Verify(ctx, tokA, "watch", "cam"); err != nil {
		t.Fatalf("ES256 token of key a: %v", err)
	}
	if err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, rsaA, "r", claims("cam", "publish", time.Hour)), "publish", "cam"); err != nil {
		t.Fatalf("RS256 token of key r: %v", err)
	}
	if err := v.Verify(ctx, sign(t, jwt.SigningMethodHS256, []byte("x"), "a", claims("cam", "watch", time.Hour)), "watch", "cam"); err == nil {
		t.Fatal("an HS256 token was accepted with only a JWKS configured")
	}
	if err := v.Verify(ctx, tokA, "publish", "cam"); !errors.Is(err, wish.ErrNotGranted) {
		t.Fatalf("watch token used to publish: %v, want ErrNotGranted", err)
	}

	js.set(t, map[string]crypto.Signer{"b": ecB}) // rotation: a and r are gone
	tokB := sign(t, jwt.SigningMethodES256, ecB, "b", claims("cam", "watch", time.Hour))
	if err := v.Verify(ctx, tokB, "watch", "cam"); err != nil {
		t.Fatalf("token of the rotated-in key b: %v", err)
	}
	if err := v.Verify(ctx, tokA, "watch", "cam"); err == nil {
		t.Fatal("token of the rotated-out key a still verifies")
	}
	js.mu.Lock()
	hits := js.hits
	js.mu.Unlock()
	if hits != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (start, then once for the unknown key id b)", hits)
	}
}

func TestNewNeedsKeys(t *testing.T) {
	if _, err := New(context.Background(), Config{}); err == nil {
		t.Fatal("New with no keys succeeded")
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
