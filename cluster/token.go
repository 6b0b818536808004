package cluster

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrBadToken is returned for a pull token that is malformed, wrongly signed, for another stream
// or expired; the caller answers 401 and changes nothing.
var ErrBadToken = errors.New("cluster: bad pull token")

// tokenPrefix marks a node-to-node pull token among bearer tokens (keys, JWTs).
const tokenPrefix = "wispnode."

// Signer makes and checks node-to-node pull tokens: HMAC-SHA256 with the shared cluster secret
// over the stream name, the pulling node and an expiry. A node that holds the secret may pull any
// stream, including streams with watch keys, without knowing those keys.
type Signer struct {
	secret []byte
	now    func() time.Time
}

// NewSigner makes a Signer from the cluster secret (at least 16 bytes; checked in main).
func NewSigner(secret string) *Signer { return &Signer{secret: []byte(secret), now: time.Now} }

// Sign makes a token for node to pull stream, valid for ttl.
func (s *Signer) Sign(stream, node string, ttl time.Duration) string {
	exp := strconv.FormatInt(s.now().Add(ttl).Unix(), 10)
	payload := base64.RawURLEncoding.EncodeToString([]byte(stream + "\n" + node + "\n" + exp))
	return tokenPrefix + payload + "." + s.mac(payload)
}

// IsToken reports whether a bearer token has the form of a pull token (so auth can route it here
// rather than to the keys).
func IsToken(token string) bool { return strings.HasPrefix(token, tokenPrefix) }

// Verify checks a token for stream and returns the pulling node's id.
func (s *Signer) Verify(token, stream string) (node string, err error) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return "", fmt.Errorf("%w: not a pull token", ErrBadToken)
	}
	payload, mac, ok := strings.Cut(rest, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(s.mac(payload))) {
		return "", fmt.Errorf("%w: signature", ErrBadToken)
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", fmt.Errorf("%w: payload", ErrBadToken)
	}
	parts := strings.Split(string(raw), "\n")
	if len(parts) != 3 {
		return "", fmt.Errorf("%w: payload", ErrBadToken)
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", fmt.Errorf("%w: expiry", ErrBadToken)
	}
	if parts[0] != stream {
		return "", fmt.Errorf("%w: for another stream", ErrBadToken)
	}
	if !s.now().Before(time.Unix(exp, 0)) {
		return "", fmt.Errorf("%w: expired", ErrBadToken)
	}
	return parts[1], nil
}

func (s *Signer) mac(payload string) string {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
