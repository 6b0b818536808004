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

// ErrBadToken is returned for a pull token (or a placement grant) that is malformed, wrongly
// signed, for another stream or expired; the caller answers 401 and changes nothing.
var ErrBadToken = errors.New("cluster: bad pull token")

// tokenPrefix marks a node-to-node pull token among bearer tokens (keys, JWTs).
const tokenPrefix = "wispnode."

// grantPrefix marks a placement grant. Its signature covers the prefix too (a pull token's covers
// only its payload), so neither can pass for the other.
const grantPrefix = "wispgrant."

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
	parts, err := s.open(token, tokenPrefix, false, 3, stream)
	if err != nil {
		return "", err
	}
	return parts[1], nil
}

// Grant makes a placement grant for one viewer's POST of stream, valid for ttl. A node that
// redirects an authorized viewer to another node (307) puts it in the Location: the viewer's
// watch key or token need not follow (browsers and Go's client drop Authorization on a redirect
// to another host) and never appears in a URL itself, nor does anything of the secret. A grant
// names only the stream and its expiry; it is not a pull token.
func (s *Signer) Grant(stream string, ttl time.Duration) string {
	exp := strconv.FormatInt(s.now().Add(ttl).Unix(), 10)
	payload := base64.RawURLEncoding.EncodeToString([]byte(stream + "\n" + exp))
	return grantPrefix + payload + "." + s.mac(grantPrefix+payload)
}

// VerifyGrant checks a placement grant for stream.
func (s *Signer) VerifyGrant(grant, stream string) error {
	_, err := s.open(grant, grantPrefix, true, 2, stream)
	return err
}

// open checks a token of the given kind (prefix; whether the signature covers it) whose payload
// has n lines, the stream first and the expiry last, and returns the lines.
func (s *Signer) open(token, prefix string, signPrefix bool, n int, stream string) ([]string, error) {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return nil, fmt.Errorf("%w: not a %s token", ErrBadToken, strings.TrimSuffix(prefix, "."))
	}
	payload, mac, ok := strings.Cut(rest, ".")
	signed := payload
	if signPrefix {
		signed = prefix + payload
	}
	if !ok || !hmac.Equal([]byte(mac), []byte(s.mac(signed))) {
		return nil, fmt.Errorf("%w: signature", ErrBadToken)
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload", ErrBadToken)
	}
	parts := strings.Split(string(raw), "\n")
	if len(parts) != n {
		return nil, fmt.Errorf("%w: payload", ErrBadToken)
	}
	exp, err := strconv.ParseInt(parts[n-1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: expiry", ErrBadToken)
	}
	if parts[0] != stream {
		return nil, fmt.Errorf("%w: for another stream", ErrBadToken)
	}
	if !s.now().Before(time.Unix(exp, 0)) {
		return nil, fmt.Errorf("%w: expired", ErrBadToken)
	}
	return parts, nil
}

func (s *Signer) mac(payload string) string {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
