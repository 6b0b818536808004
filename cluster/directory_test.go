package cluster

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestClaimTakeoverRefreshRelease(t *testing.T) {
	r := startRedis(t)
	d := NewDirectory(r.client(t), DirectoryConfig{Prefix: "t1:"})
	ctx := context.Background()

	if _, err := d.Lookup(ctx, "cam"); !errors.Is(err, ErrNoOwner) {
		t.Fatalf("lookup of an unowned stream: %v", err)
	}
	a, err := d.Claim(ctx, "cam", "A", "http://a", false)
	if err != nil || a.Epoch != 1 {
		t.Fatalf("claim A: %+v %v", a, err)
	}
	if o, err := d.Lookup(ctx, "cam"); err != nil || o.Node != "A" || o.URL != "http://a" || o.Epoch != 1 {
		t.Fatalf("lookup: %+v %v", o, err)
	}
	if _, err := d.Claim(ctx, "cam", "B", "http://b", false); !errors.Is(err, ErrOwned) {
		t.Fatalf("claim B without takeover: %v", err)
	}
	b, err := d.Claim(ctx, "cam", "B", "http://b", true)
	if err != nil || b.Epoch != 2 {
		t.Fatalf("takeover by B: %+v %v", b, err)
	}
	if err := d.Refresh(ctx, a); !errors.Is(err, ErrLost) {
		t.Fatalf("refresh of the replaced lease: %v", err)
	}
	if err := d.Refresh(ctx, b); err != nil {
		t.Fatalf("refresh of the current lease: %v", err)
	}
	if err := d.Release(ctx, a); err != nil {
		t.Fatal(err)
	}
	if o, _ := d.Lookup(ctx, "cam"); o.Node != "B" || o.Epoch != 2 {
		t.Fatalf("a stale release removed the current lease: %+v", o)
	}
	// The same node claiming again (its publisher replaced locally) gets a newer epoch too.
	b2, err := d.Claim(ctx, "cam", "B", "http://b", false)
	if err != nil || b2.Epoch != 3 {
		t.Fatalf("re-claim by the holder: %+v %v", b2, err)
	}
	streams, err := d.Streams(ctx)
	if err != nil || len(streams) != 1 || streams["cam"].Node != "B" {
		t.Fatalf("streams: %v %v", streams, err)
	}
	if err := d.Release(ctx, b2); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Lookup(ctx, "cam"); !errors.Is(err, ErrNoOwner) {
		t.Fatalf("after release: %v", err)
	}
	if streams, _ := d.Streams(ctx); len(streams) != 0 {
		t.Fatalf("a released stream is still listed: %v", streams)
	}
}

func TestLeaseExpiresWithoutRefresh(t *testing.T) {
	r := startRedis(t)
	ttl := 300 * time.Millisecond
	d := NewDirectory(r.client(t), DirectoryConfig{Prefix: "t2:", LeaseTTL: ttl})
	ctx := context.Background()
	if _, err := d.Claim(ctx, "cam", "A", "http://a", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*ttl, "lease expiry", func() bool {
		_, err := d.Lookup(ctx, "cam")
		return errors.Is(err, ErrNoOwner)
	})
	// Once expired, another node claims without takeover, with a newer epoch.
	if b, err := d.Claim(ctx, "cam", "B", "http://b", false); err != nil || b.Epoch != 2 {
		t.Fatalf("claim after expiry: %+v %v", b, err)
	}
}

// After Redis restarts empty, the owner re-asserts its lease with the same epoch, and the next
// claim still gets a larger epoch than any issued before.
func TestReassertAfterRedisRestartsEmpty(t *testing.T) {
	r := startRedis(t)
	d := NewDirectory(r.client(t), DirectoryConfig{Prefix: "t3:"})
	ctx := context.Background()
	if _, err := d.Claim(ctx, "cam", "A", "http://a", false); err != nil {
		t.Fatal(err)
	}
	a, err := d.Claim(ctx, "cam", "A", "http://a", false) // epoch 2
	if err != nil {
		t.Fatal(err)
	}
	r.stop()
	if err := d.Refresh(ctx, a); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("refresh with Redis down: %v", err)
	}
	if _, err := d.Lookup(ctx, "cam"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("lookup with Redis down: %v", err)
	}
	r.start()
	if err := d.Refresh(ctx, a); err != nil {
		t.Fatalf("re-assert after an empty restart: %v", err)
	}
	if o, err := d.Lookup(ctx, "cam"); err != nil || o.Node != "A" || o.Epoch != a.Epoch {
		t.Fatalf("re-asserted lease: %+v %v", o, err)
	}
	b, err := d.Claim(ctx, "cam", "B", "http://b", true)
	if err != nil || b.Epoch <= a.Epoch {
		t.Fatalf("claim after re-assert: %+v %v (must pass epoch %d)", b, err, a.Epoch)
	}
}

// A lease that vanished after a newer epoch was issued is not re-asserted by the old holder.
func TestNoReassertAfterNewerEpoch(t *testing.T) {
	r := startRedis(t)
	d := NewDirectory(r.client(t), DirectoryConfig{Prefix: "t4:"})
	ctx := context.Background()
	a, _ := d.Claim(ctx, "cam", "A", "http://a", false)
	b, err := d.Claim(ctx, "cam", "B", "http://b", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Release(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := d.Refresh(ctx, a); !errors.Is(err, ErrLost) {
		t.Fatalf("old holder re-asserted after a newer epoch: %v", err)
	}
	if _, err := d.Lookup(ctx, "cam"); !errors.Is(err, ErrNoOwner) {
		t.Fatalf("lookup: %v", err)
	}
}

func TestNodesRegistry(t *testing.T) {
	r := startRedis(t)
	ttl := 300 * time.Millisecond
	d := NewDirectory(r.client(t), DirectoryConfig{Prefix: "t5:", NodeTTL: ttl})
	ctx := context.Background()
	if err := d.Register(ctx, Node{ID: "A", URL: "http://a", Viewers: 3, EgressBps: 9e6}); err != nil {
		t.Fatal(err)
	}
	if err := d.Register(ctx, Node{ID: "B", URL: "http://b", Draining: true}); err != nil {
		t.Fatal(err)
	}
	nodes, err := d.Nodes(ctx)
	if err != nil || len(nodes) != 2 {
		t.Fatalf("nodes: %+v %v", nodes, err)
	}
	for _, n := range nodes {
		if n.ID == "A" && (n.URL != "http://a" || n.Viewers != 3 || n.EgressBps != 9e6 || n.Draining) ||
			n.ID == "B" && !n.Draining {
			t.Fatalf("node record: %+v", n)
		}
	}
	if err := d.Deregister(ctx, "B"); err != nil {
		t.Fatal(err)
	}
	// A keeps registering, B is gone; then A stops and lapses after its TTL.
	if nodes, _ := d.Nodes(ctx); len(nodes) != 1 || nodes[0].ID != "A" {
		t.Fatalf("after deregister: %+v", nodes)
	}
	waitFor(t, 20*ttl, "node lapse", func() bool {
		nodes, err := d.Nodes(ctx)
		return err == nil && len(nodes) == 0
	})
}
