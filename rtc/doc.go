// Package rtc is wisp's pion plumbing: everything a WHIP publisher and a WHEP viewer need to
// build, negotiate and end a PeerConnection. It knows nothing of HTTP and nothing of streams: the
// forwarding core (package stream) and rtc never import each other; whip and whep join them.
//
// Map of the package:
//   - api.go: NewAPI builds the one pion API (codecs, interceptors, ICE muxes, NAT 1:1) shared by
//     every publisher (and, with APIConfig.Viewers, every viewer).
//   - estimate.go: Estimate, a viewer's transport-cc evidence (layers.Delivery in pion's cc
//     interceptor, in place of GCC: no pacer, no goroutine), and Estimators, which hand each one
//     to its PeerConnection by id.
//   - pionlog.go: pion's logs routed to slog, one cached logger per pion subsystem.
//   - media.go: OpenMedia, the one UDP port (and ICE-TCP listener) of every session.
//   - udpsocket.go: the one wildcard UDP socket split into one pion endpoint per local address
//     (IP_PKTINFO: which address a datagram came to, and replies from that address).
//   - egress.go, egress_linux.go: the media socket's sending side (both socket modes): SRTP media
//     and DTLS records (data channels) written during a fan-out pass (Media.BeginPass/EndPass,
//     stream.Egress) leave in sendmmsg batches flushed when full and when the pass ends; so do
//     the records of one relayed message to many viewers (Media.BeginRelay/EndRelay,
//     datarelay.Egress), sent when the last one expected has joined; STUN, RTCP, and RTP and DTLS
//     outside a pass leave at once.
//   - peer.go: Peer, the lifecycle a publisher and a viewer share (signals, owned goroutines, one
//     teardown).
//   - negotiate.go: Answer, the shared end of an offer/answer exchange (gather, then the SDP the HTTP
//     layer returns); offer.go: ParseOffer, the checks an offer passes before negotiation.
//   - stereo.go: StereoOpus, stereo=1;sprop-stereo=1 on the Opus lines of a viewer's answer.
//   - ice.go: trickle candidates and ICE restarts on a live PeerConnection.
//   - errors.go: ErrGatherTimeout (ParseOffer's and ICE's errors sit beside them).
//
// Concurrency: no lock is held across a pion call; pion callbacks only signal.
package rtc
