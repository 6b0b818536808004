// Package turn is wisp's built-in TURN server (RFC 8656, pion/turn): viewers and publishers on
// networks that allow only TCP, only port 443 or nothing but a relay reach wisp through it over
// UDP, TCP or TLS. It is not an open relay: an allocation may relay only to wisp's own media
// address (permissions for any other peer are refused, and packets to any other address or port
// are dropped), and only over UDP (no RFC 6062 TCP relays). Credentials are the time-limited
// "TURN REST" kind that wish.ICEServers hands out from the shared secret.
//
//   - server.go: Config, Start, the listeners and the auth handler.
//   - relay.go: the relay sockets, confined to wisp's media address.
//   - quota.go: caps on allocations, in all and per client IP.
//   - log.go: pion's log lines into slog, at debug level.
package turn
