// Package whip is wisp's ingest side (WHIP, RFC 9725).
//
//   - handler.go: Handler, the echo routes: POST /whip/{stream} creates a Publisher, DELETE on its
//     session URL ends it; parse → one call → map the error once → respond.
//   - publisher.go: Publisher, one WHIP PeerConnection feeding a stream.Stream: it forwards RTP into
//     the Stream's Tracks, turns coalesced keyframe requests into rate-limited PLIs and feeds its
//     data channels into the Stream's relay. One goroutine (run) owns its lifetime; Close is
//     cancel + wait.
//   - config.go: Config, everything the package is given by main.
package whip
