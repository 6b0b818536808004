package cluster

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Node is one wisp node as the registry knows it.
type Node struct {
	ID        string
	URL       string // internal URL other nodes pull from
	Public    string // public base URL clients are redirected to ("" = URL)
	Viewers   int
	EgressBps int64
	Draining  bool
	Seen      time.Time // when it last registered
}

// Register records node (or refreshes its record) for a node TTL. A node calls it every third of
// the TTL; a node that stops calling drops out of Nodes.
func (d *Directory) Register(ctx context.Context, n Node) error {
	now := d.now()
	pipe := d.rdb.TxPipeline()
	pipe.HSet(ctx, d.nodeKey(n.ID), "url", n.URL, "public", n.Public, "viewers", n.Viewers, "egress_bps", n.EgressBps,
		"draining", strconv.FormatBool(n.Draining), "seen", now.UnixMilli())
	pipe.PExpire(ctx, d.nodeKey(n.ID), d.nodeTTL)
	pipe.ZAdd(ctx, d.nodesKey(), redis.Z{Score: float64(now.UnixMilli()), Member: n.ID})
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("%w: register node %s: %v", ErrUnavailable, n.ID, err)
	}
	return nil
}

// Deregister removes a node at once (a clean shutdown).
func (d *Directory) Deregister(ctx context.Context, id string) error {
	pipe := d.rdb.TxPipeline()
	pipe.Del(ctx, d.nodeKey(id))
	pipe.ZRem(ctx, d.nodesKey(), id)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("%w: deregister node %s: %v", ErrUnavailable, id, err)
	}
	return nil
}

// Nodes lists the live nodes (registered within the node TTL), pruning the others.
func (d *Directory) Nodes(ctx context.Context) ([]Node, error) {
	cut := d.now().Add(-d.nodeTTL).UnixMilli()
	if err := d.rdb.ZRemRangeByScore(ctx, d.nodesKey(), "-inf", "("+strconv.FormatInt(cut, 10)).Err(); err != nil {
		return nil, fmt.Errorf("%w: nodes: %v", ErrUnavailable, err)
	}
	ids, err := d.rdb.ZRange(ctx, d.nodesKey(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: nodes: %v", ErrUnavailable, err)
	}
	pipe := d.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, d.nodeKey(id))
	}
	if len(ids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("%w: nodes: %v", ErrUnavailable, err)
		}
	}
	out := make([]Node, 0, len(ids))
	for i, id := range ids {
		m := cmds[i].Val()
		if len(m) == 0 {
			continue // expired between the two reads
		}
		viewers, _ := strconv.Atoi(m["viewers"])
		egress, _ := strconv.ParseInt(m["egress_bps"], 10, 64)
		seen, _ := strconv.ParseInt(m["seen"], 10, 64)
		out = append(out, Node{ID: id, URL: m["url"], Public: m["public"], Viewers: viewers, EgressBps: egress,
			Draining: m["draining"] == "true", Seen: time.UnixMilli(seen)})
	}
	return out, nil
}
