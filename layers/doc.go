// Package layers decides, per viewer, which simulcast layer of a stream's video it receives. It
// is a pure leaf: no pion PeerConnection, no HTTP, no goroutines, no clock of its own (every call
// takes the time), so its rules are unit-tested with a hand-driven clock.
//
// Map of the package:
//   - layer.go: Layer, one encoding as measured at ingest (resolution from its keyframes, bitrate),
//     and Rank, which orders layers by measured resolution, then bitrate, never by rid name or order.
//   - choice.go: Choice, what a player asked through the WHEP layer extension (WHEPX-06): a pinned
//     layer, or caps on width and height, or neither (automatic); Manual, the layer a choice names
//     without a bandwidth estimate (what whep viewers follow today).
//   - signals.go: Signals, one viewer's bandwidth evidence (send-side estimate capped by what was
//     really sent, REMB, loss-based estimate) and the budget taken from it.
//   - chooser.go: Chooser, one viewer's decision: down fast when the budget falls below the current
//     layer, up only after a successful probe, a failed probe doubling the wait, pins and caps.
//   - loss.go: LossEstimator, an AIMD estimate from receiver reports' fraction lost, for viewers
//     that send neither transport-cc feedback nor REMB.
//   - feedback.go: Feedback reads a viewer's RTCP (receiver reports, REMB) into Signals.
//   - delivery.go: Delivery reads transport-cc feedback into what a viewer's path delivers, loses
//     and queues (a standing queue, not a keyframe's burst, is congestion).
//   - meter.go: Meter, a bounded bit-rate meter (1 s average, 2 s peak) for layers and for what a
//     viewer was sent.
//
// Research and rationale: shared/research/simulcast.md §4–6; the issue is wisp#12.
package layers
