package cluster

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Keeper refreshes one lease on a schedule (every quarter of the lease TTL) until it is stopped or
// the lease is lost, and answers the media path's question "may I still forward?" with Valid.
//
// Fencing: Valid turns false once the lease could have expired in Redis without this node
// knowing, i.e. a lease TTL after the last confirmed refresh. A node frozen (SIGSTOP, a long GC
// pause) past its lease therefore stops forwarding the moment it resumes, before it has even asked
// Redis, and another node's newer epoch cannot meet this node's packets at a viewer. While Redis
// itself does not answer but the Keeper runs on time, nobody can take the lease either, so the
// Keeper keeps Valid true (degraded) and serving goes on: a Redis outage interrupts no viewer.
type Keeper struct {
	// set at construction
	dir   *Directory
	lease Lease
	log   *slog.Logger
	lost  chan struct{} // closed when the lease has passed to a newer epoch
	now   func() time.Time

	validUntil atomic.Int64 // unix ns; Valid is now < validUntil
	degraded   atomic.Bool  // the last refresh did not reach Redis

	stopOnce sync.Once
	cancel   context.CancelFunc
	done     chan struct{}
}

// Keep starts refreshing l (taken by Claim just now) on its own goroutine.
func (d *Directory) Keep(l Lease, log *slog.Logger) *Keeper {
	ctx, cancel := context.WithCancel(context.Background())
	k := &Keeper{dir: d, lease: l, log: log, lost: make(chan struct{}), now: d.now, cancel: cancel, done: make(chan struct{})}
	k.validUntil.Store(k.now().Add(d.leaseTTL).UnixNano())
	go k.run(ctx)
	return k
}

// Lease is the lease kept.
func (k *Keeper) Lease() Lease { return k.lease }

// Valid reports whether the owner may forward now: one atomic load, for the media path.
func (k *Keeper) Valid() bool { return k.now().UnixNano() < k.validUntil.Load() }

// Degraded reports whether the last refresh failed to reach Redis.
func (k *Keeper) Degraded() bool { return k.degraded.Load() }

// Lost is closed when the lease has passed to a newer epoch: the owner ends its publisher.
func (k *Keeper) Lost() <-chan struct{} { return k.lost }

// Stop ends the refreshing and releases the lease if it is still current. Safe to call more than
// once; it waits for the refresher to return.
func (k *Keeper) Stop(ctx context.Context) {
	k.stopOnce.Do(func() {
		k.cancel()
		<-k.done
		select {
		case <-k.lost:
		default:
			if err := k.dir.Release(ctx, k.lease); err != nil {
				k.log.Warn("lease not released; it will expire", "stream", k.lease.Stream, "err", err)
			}
		}
	})
}

func (k *Keeper) run(ctx context.Context) {
	defer close(k.done)
	every := k.dir.leaseTTL / 4
	t := time.NewTicker(every)
	defer t.Stop()
	last := k.now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := k.now()
		onTime := now.Sub(last) < k.dir.leaseTTL/2
		last = now
		rctx, cancel := context.WithTimeout(ctx, every)
		err := k.dir.Refresh(rctx, k.lease)
		cancel()
		switch {
		case err == nil:
			k.degraded.Store(false)
			k.validUntil.Store(now.Add(k.dir.leaseTTL).UnixNano())
		case errors.Is(err, ErrLost):
			k.validUntil.Store(0)
			k.log.Warn("stream lease lost to a newer epoch: stop forwarding", "stream", k.lease.Stream, "epoch", k.lease.Epoch)
			close(k.lost)
			return
		default:
			if ctx.Err() != nil {
				return
			}
			if !k.degraded.Swap(true) {
				k.log.Warn("directory unreachable: serving on", "stream", k.lease.Stream, "err", err)
			}
			if onTime {
				// Nobody can take the lease while Redis is away; keep serving.
				k.validUntil.Store(now.Add(k.dir.leaseTTL).UnixNano())
			}
		}
	}
}
