package whip

import (
	"context"
	"time"

	"github.com/wisp-media/wisp/rtc"
	"github.com/wisp-media/wisp/stream"
)

// Lease is a publisher's hold on its stream across a cluster of nodes (cluster.Keeper is one).
// The media path asks Valid before writing each packet into the stream's Feeds: a node whose
// lease may have passed to another node forwards nothing.
type Lease interface {
	// Valid reports whether the publisher may forward now; one atomic load.
	Valid() bool
	// Lost is closed when a newer publisher, on this node or another, holds the stream.
	Lost() <-chan struct{}
	// Stop gives the lease up (if still current) and stops refreshing it.
	Stop(ctx context.Context)
}

// Leaser takes a stream's lease for a new publisher. takeover replaces a publisher on another
// node (as a publisher replaces another on one node); without it a live one elsewhere is a 409.
// Errors are *wish.Error (409, 503 + Retry-After) or wrapped as the caller maps them.
type Leaser interface {
	Take(ctx context.Context, stream string, takeover bool) (Lease, error)
}

// Yielder is a stream publisher that gives way to a local WHIP publisher even when replacing is
// off: a pull of the stream from another node (the local publisher has just taken the lease).
type Yielder interface {
	Yields()
}

// releaseTimeout bounds giving a lease back when a publisher ends.
const releaseTimeout = 2 * time.Second

// watchLease ends the publisher when its lease passes to a newer publisher.
func (p *Publisher) watchLease() {
	select {
	case <-p.Context().Done():
	case <-p.lease.Lost():
		p.log.Warn("stream taken over by a newer publisher: ending this one")
		_ = p.CloseBecause(rtc.ReasonReplaced)
	}
}

// stopLease gives the lease back once the publisher has ended.
func (p *Publisher) stopLease() {
	if p.lease == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	p.lease.Stop(ctx)
}

// takeLease takes the stream's cluster lease for the publisher (before it replaces anyone).
// With replacing off and a live local publisher, it answers 409 without touching the lease.
func (p *Publisher) takeLease(ctx context.Context) error {
	if p.cfg.NoReplace {
		if cur := p.stream.Publisher(); cur != nil && !p.yielding(p.stream) {
			return stream.ErrPublisherLive
		}
	}
	l, err := p.cfg.Leases.Take(ctx, p.stream.Name(), !p.cfg.NoReplace)
	if err != nil {
		return err
	}
	p.lease = l
	return nil
}

// yielding reports whether st's current publisher gives way to this one (a pull, see Yielder).
func (p *Publisher) yielding(st *stream.Stream) bool {
	_, ok := st.Publisher().(Yielder)
	return ok
}
