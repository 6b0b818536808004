package stream

// Egress is the seam between the fan-out and the socket its packets leave by. A fan-out pass
// writes one packet (or a few) to many viewers through the same socket; the worker brackets each
// pass with BeginPass and EndPass, so the socket may hold the pass's media datagrams and send
// them together (sendmmsg) when the pass ends: batching then adds no delay. The socket decides
// what it holds (SRTP media only); everything else it sends at once. rtc.Media implements it.
//
// Calls come from several workers at once, each BeginPass matched by one EndPass on the same
// goroutine. Neither may block on anything but the send itself.
type Egress interface {
	// BeginPass says a fan-out pass starts on the calling goroutine.
	BeginPass()
	// EndPass says the pass has ended: what it wrote must leave now.
	EndPass()
}

// noEgress is the Egress of a Registry configured without one: passes are not bracketed.
type noEgress struct{}

func (noEgress) BeginPass() {}
func (noEgress) EndPass()   {}
