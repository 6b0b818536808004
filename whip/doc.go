// Package whip is wisp's ingest side (WHIP, RFC 9725).
//
//   - handler.go: Handler, the echo routes: POST /whip/{stream} creates a Publisher, PATCH on its
//     session URL trickles candidates or restarts ICE (wish.ServePatch), DELETE ends it;
//     parse → one call → map the error once → respond.
//   - publisher.go: Publisher, one WHIP PeerConnection feeding a stream.Stream: it reads each remote
//     track's RTP into its own stream.Feed (one per simulcast layer and per audio track), turns coalesced keyframe requests into rate-limited PLIs and feeds its
//     data channels into the Stream's relay. Its lifetime is an embedded rtc.Peer's (one run
//     goroutine, one teardown, Close = cancel + wait).
//   - simulcast.go: the stream-wide layer choice: which layer's Feed viewers follow (the best by
//     bits; they switch at its keyframe, asked for with PLIs), hand-over when a layer stops.
//   - lease.go: on a cluster node, the stream's lease (Lease, Leaser): taken before the publisher
//     replaces anyone, checked before every packet enters a Feed, lost → the publisher ends,
//     given back when it ends; Yielder, a publisher (a pull) that gives way to a local one.
//   - ice.go: the Publisher is a wish.ICESession through its embedded wish.ICEState.
//   - config.go: Config, everything the package is given by main.
package whip
