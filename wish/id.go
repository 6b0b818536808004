package wish

import (
	"crypto/rand"
	"encoding/hex"
)

// NewID returns 128 random bits from the CSRNG as 32 hex digits: session URLs are capabilities
// that must not be guessable (COMMON-07, RFC 9725 §5).
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// NewETag returns a fresh strong entity tag, quoted (COMMON-23).
func NewETag() string { return `"` + NewID() + `"` }
