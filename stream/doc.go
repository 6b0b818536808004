// Package stream is wisp's live core. It knows nothing of HTTP.
//
// Map of the package:
//   - api.go: NewAPI builds the one pion API (codecs, interceptors, ICE muxes, NAT 1:1) shared by
//     every publisher and viewer.
//   - registry.go: Registry, the concurrent map of stream name → *Stream, with reference counts so a
//     Stream lives while a publisher or a viewer holds it.
//   - stream.go: Stream, one broadcast: its two outgoing Tracks (video, audio), its data relay, its
//     current publisher and its coalesced keyframe requests.
//   - track.go, source.go: Track is a pion TrackLocal bound to every viewer; a Source is one
//     publisher's feed into it, rewriting sequence numbers and timestamps so that a publisher restart
//     or a codec change is seamless for viewers.
//   - fanout.go: per-core workers that write each packet to their share of the viewers, so the
//     publisher's read loop never waits on a viewer; drops counted.
//   - ring.go, nack.go: one packet cache per Track that answers every viewer's NACKs.
//   - binding.go, keyframe.go: one viewer's end of a Track; a viewer starts (Track.Start, once its
//     connection is up) from the newest cached keyframe and catches up with live (fast start).
//   - negotiate.go: Answer, the shared end of an offer/answer exchange (gather, then the SDP the HTTP
//     layer returns); offer.go: ParseOffer.
//   - ice.go: trickle candidates and ICE restarts on a live PeerConnection.
//   - peer.go: Peer, the lifecycle a publisher and a viewer share (signals, owned goroutines, one
//     teardown).
//   - media.go: OpenMedia, the one UDP port (and ICE-TCP listener) of every session.
//
// Concurrency: one lock at a time, held for bookkeeping only; pion is never called under a lock.
package stream
