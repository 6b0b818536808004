// Package stream is wisp's live core. It knows nothing of HTTP.
//
// Map of the package:
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
//     keyframe_{h264,vp8,vp9,av1,h265}.go: each codec's keyframe detector and picture-size reader
//     (keyframeSize), on RTP payloads; keyframe_bits.go: their bit reader.
//
// Concurrency: one lock at a time, held for bookkeeping only; pion is never called under a lock.
package stream
