package metrics

// The ledger keeps every exported counter monotonic while sessions and streams come and go.
// A stream's counters are the final samples of its ended sessions (retired) plus the current
// samples of its live ones. When a stream is gone, its last total moves into the server-wide
// retired total (and into _other's, if it was counted there), so totals never go down.

// label values of a tracked stream.
const (
	labelNone  = iota // not live yet: counted only in server-wide totals
	labelOwn          // its own {stream} series (at most MaxStreams streams)
	labelOther        // counted under stream="_other"
)

// otherStream is the stream label value of the streams beyond MaxStreams.
const otherStream = "_other"

// streamAcc is one tracked stream's account.
type streamAcc struct {
	label   int
	retired Sample // final samples of its ended sessions
	// the data relay's counts when last seen (they live with the stream)
	relayDelivered, relayDropped uint64
}

// totals is a server-wide account: samples and relay counts.
type totals struct {
	Sample
	relayDelivered, relayDropped uint64
}

func (t *totals) addAcc(a *streamAcc, current Sample) {
	t.add(current)
	t.relayDelivered += a.relayDelivered
	t.relayDropped += a.relayDropped
}

// liveSession is a session the ledger follows until it ends.
type liveSession struct {
	kind, stream string
	joined       bool // its join time was observed
}

// endedSession is a session's final sample, waiting for the next scrape.
type endedSession struct {
	kind, stream string
	joined       bool
	sample       Sample
}
