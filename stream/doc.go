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
//   - negotiate.go: Answer, the shared end of an offer/answer exchange (gather, then the SDP the HTTP
//     layer returns).
//
// Concurrency: one lock at a time, held for bookkeeping only; pion is never called under a lock.
package stream
