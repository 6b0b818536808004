// Package whep is wisp's egress side (WHEP).
//
//   - handler.go: Handler, the echo routes: POST /whep/{stream} creates a Viewer, DELETE on its
//     session URL ends it.
//   - viewer.go: Viewer, one WHEP PeerConnection bound to a stream.Stream's Tracks: it drains RTCP
//     on every sender (PLI/FIR become the Stream's coalesced keyframe requests) and subscribes its
//     data channels to the Stream's relay. One goroutine (run) owns its lifetime.
//   - config.go: Config, everything the package is given by main.
//
// A viewer may arrive before the publisher: it is accepted, and media starts when the publisher
// does (WHEP-04's alternative to 409). Its answer then lists every codec both sides support.
package whep
