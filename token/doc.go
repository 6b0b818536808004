// Package token verifies signed access tokens (JWT, RFC 7519) for publishing and watching: HS256
// with a shared secret, RS256 and ES256 with keys from a JWKS URL, fetched at start, refreshed on
// an interval and whenever a token names a key id not yet known (a key rotation). It implements
// wish.TokenVerifier; cmd/wisp builds one and hands it to both endpoints.
//
//   - verifier.go: Config, Verifier, the claims wisp reads.
package token
