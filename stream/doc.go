// Package stream is wisp's forwarding core. It knows nothing of HTTP and nothing of
// PeerConnections (rtc has those): it sees pion's media types only.
//
// Data path: a producer (the WHIP publisher; later a pull from another server) writes each
// incoming layer's RTP into a Feed through the Input interface; the Feed caches it in its ring and
// signals its Track's fan-out workers; each worker writes the packet to the viewers' Outputs that
// follow that Feed, each with its own SSRC, payload type, sequence numbers and timestamps.
//
// Map of the package:
//   - registry.go: Registry, the concurrent map of stream name → *Stream, with reference counts so a
//     Stream lives while a publisher or a viewer holds it.
//   - stream.go: Stream, one broadcast: its two Tracks (video, audio), its data relay, its current
//     publisher, the stream-wide choice of Feed (Follow), its coalesced keyframe requests (each naming the layer
//     asked for: RequestKeyframeOf, KeyframeSSRCs) and Info.
//   - feed.go: Feed, one incoming layer or audio track: its ring, keyframe count, resolution
//     (keyframeSize), bitrate (meter.go: 1 s average, 2 s peak), active or not; Input, the seam
//     producers write through.
//   - ring.go: a Feed's packet cache, sized by time and bitrate (the current GOP, the last
//     second, and a GOP being replayed to a joiner), for fast start and NACK answers;
//     ring_chunks.go: the pool of fixed-size chunks all rings keep their payload bytes in, taken
//     as packets arrive and returned as soon as no needed packet is in them.
//   - track.go: Track, a pion TrackLocal bound to every viewer: Bind, Start (fast start from the
//     followed Feed's cached GOP), Unbind; its Feeds and the Feed outputs follow by default.
//   - output.go, outstats.go: Output, one viewer's end of a Track: the Feed it follows (its own
//     choice or the Track's), the switch at the target Feed's keyframe, the sequence/timestamp
//     rewrite that stays continuous across Feeds and publishers, the catch-up of a joining viewer,
//     and its counters with named drop reasons (queue_full, overwritten, write_error) that add up.
//   - layerinfo.go: Stream.Layers, the video layers highest first with how many viewers' outputs
//     send each now (the "layers" of /api/streams).
//   - fanout.go: per-core workers that write each packet to their share of the Outputs, so a
//     Feed's producer never waits on a viewer.
//   - egress.go: Egress, the seam through which a worker brackets each fan-out pass, so the media
//     socket (rtc.Media) can send the pass's datagrams in batches when it ends.
//   - nack.go: NACK answers, each viewer sequence number translated back to the Feed packet that
//     carried it (before or after a switch).
//   - output.go also has Output.askKeyframe (keyask_test.go): an output waiting to switch to another Feed asks for its keyframe
//     (Output.askKeyframe in output.go, called by the fan-out worker).
//   - pad.go: Output.Pad, probe padding on the viewer's RTX SSRC (RTX copies of its newest packets).
//   - resend.go: Output.SetResendLimit, a per-viewer bound on NACK answers (each packet at most
//     three times, 250 ms apart, within a byte budget), and the loss rate its NACKs show.
//   - keyframe.go, keyframe_{h264,vp8,vp9,av1,h265}.go: each codec's keyframe detector and
//     picture-size reader (keyframeSize), on RTP payloads; keyframe_bits.go: their bit reader.
//
// Concurrency: one lock at a time, held for bookkeeping only; pion is never called under a lock.
package stream
