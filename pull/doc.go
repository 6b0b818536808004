// Package pull makes a node serve streams whose publisher is on another node: for each stream
// with local viewers and no local publisher it keeps one pull, a WHEP session with the stream's
// owner (wisp's own client, authenticated by a cluster pull token), and writes what arrives into
// the local Stream as its publisher would: each track into a Feed, the data channel's messages
// into the Relay in order, local keyframe requests upstream as PLIs.
//
// Map of the package:
//   - edge.go: Edge, the per-node set of watched streams: Watch (a local viewer joins; refuses
//     with 503 when the directory is away and a new pull is needed), one loop per stream that
//     looks the owner up, starts, keeps, replaces or ends the pull, and ends after the last
//     viewer has been gone for the idle time.
//   - session.go: one pull: the WHEP session, its tracks into Feeds (one per simulcast layer,
//     with the owner's rids, when the owner answers a section per layer: whep/pull.go), the
//     default layer (the highest active one), its messages into the Relay, its keyframe
//     requests upstream on the section of the layer asked for; it is the local Stream's
//     publisher (a Yielder: a local WHIP publisher replaces it).
//
// Viewers keep their sessions across pulls: a new pull's Feeds are followed at their first
// keyframe and the core's Outputs keep SSRC, sequence numbers and timestamps continuous.
package pull
