package cluster

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// jumpClock is the real clock plus an offset the test can push forward (a frozen process that
// resumes sees its clock jump).
type jumpClock struct{ off atomic.Int64 }

func (c *jumpClock) now() time.Time       { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *jumpClock) jump(d time.Duration) { c.off.Add(int64(d)) }
func quietLog() *slog.Logger              { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func goroutinesSettle(t *testing.T, base int) {
	t.Helper()
	waitFor(t, 5*time.Second, "goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= base })
}

// A node frozen past its lease stops forwarding the moment it resumes, before asking Redis; its
// next refresh finds the newer epoch and reports the lease lost.
func TestKeeperFencesAFrozenOwner(t *testing.T) {
	r := startRedis(t)
	base := runtime.NumGoroutine()
	ttl := 400 * time.Millisecond
	clock := &jumpClock{}
	a := NewDirectory(r.client(t), DirectoryConfig{Prefix: "k1:", LeaseTTL: ttl})
	a.now = clock.now
	b := NewDirectory(r.client(t), DirectoryConfig{Prefix: "k1:", LeaseTTL: ttl})
	ctx := context.Background()
	base = runtime.NumGoroutine()

	lease, err := a.Claim(ctx, "cam", "A", "http://a", false)
	if err != nil {
		t.Fatal(err)
	}
	k := a.Keep(lease, quietLog())
	if !k.Valid() {
		t.Fatal("a fresh lease is not valid")
	}
	// Two refresh rounds keep it valid.
	waitFor(t, 10*ttl, "refreshes", func() bool { return k.Valid() && !k.Degraded() })

	// Another node takes the stream over (its publisher reconnected there) while A is "frozen";
	// A's clock then jumps past its lease.
	if _, err := b.Claim(ctx, "cam", "B", "http://b", true); err != nil {
		t.Fatal(err)
	}
	clock.jump(2 * ttl)
	if k.Valid() {
		t.Fatal("an owner frozen past its lease is still valid before any refresh")
	}
	select {
	case <-k.Lost():
	case <-time.After(10 * ttl):
		t.Fatal("the lease was not reported lost")
	}
	if k.Valid() {
		t.Fatal("valid after the lease was lost")
	}
	k.Stop(ctx) // must not release B's lease
	if o, err := b.Lookup(ctx, "cam"); err != nil || o.Node != "B" {
		t.Fatalf("B's lease after A stopped: %+v %v", o, err)
	}
	goroutinesSettle(t, base)
}

// While Redis is away, a Keeper running on time keeps its owner serving (degraded); when Redis
// comes back empty, it re-asserts the lease with the same epoch.
func TestKeeperServesThroughARedisOutage(t *testing.T) {
	r := startRedis(t)
	ttl := 400 * time.Millisecond
	d := NewDirectory(r.client(t), DirectoryConfig{Prefix: "k2:", LeaseTTL: ttl})
	ctx := context.Background()
	base := runtime.NumGoroutine()
	lease, err := d.Claim(ctx, "cam", "A", "http://a", false)
	if err != nil {
		t.Fatal(err)
	}
	k := d.Keep(lease, quietLog())
	r.stop()
	waitFor(t, 10*ttl, "degraded", k.Degraded)
	// Three lease lifetimes without Redis: valid throughout.
	until := time.Now().Add(3 * ttl)
	for time.Now().Before(until) {
		if !k.Valid() {
			t.Fatal("a Redis outage stopped the owner")
		}
		time.Sleep(ttl / 8)
	}
	r.start()
	waitFor(t, 10*ttl, "re-assert", func() bool {
		o, err := d.Lookup(ctx, "cam")
		return err == nil && o.Node == "A" && o.Epoch == lease.Epoch && !k.Degraded()
	})
	k.Stop(ctx)
	if _, err := d.Lookup(ctx, "cam"); err == nil {
		t.Fatal("Stop did not release the lease")
	}
	goroutinesSettle(t, base)
}
