package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Errors of the directory.
var (
	// ErrOwned is returned by Claim when another node holds the stream and takeover is off.
	ErrOwned = errors.New("cluster: stream is owned by another node")
	// ErrNoOwner is returned by Lookup when no node holds the stream.
	ErrNoOwner = errors.New("cluster: no node owns the stream")
	// ErrLost is returned by Refresh when the lease has passed to a newer epoch.
	ErrLost = errors.New("cluster: lease lost to a newer epoch")
	// ErrUnavailable wraps every failure to reach Redis: the caller answers 503 + Retry-After.
	ErrUnavailable = errors.New("cluster: directory unavailable")
)

// Lease is one node's hold on one stream. Epoch is the fencing token: every claim gets a larger
// one, and only the holder of the current epoch may refresh or release.
type Lease struct {
	Stream string
	Node   string // node id
	URL    string // the node's internal URL, where other nodes pull from
	Epoch  int64
}

// Owner is what Lookup tells of a stream's holder.
type Owner struct {
	Node  string
	URL   string
	Epoch int64
	Since time.Time
}

// DirectoryConfig configures a Directory.
type DirectoryConfig struct {
	// Prefix starts every key (default "wisp:"); one Redis can hold several clusters.
	Prefix string
	// LeaseTTL is how long a lease lives without a refresh (default 10 s).
	LeaseTTL time.Duration
	// NodeTTL is how long a node registration lives without a refresh (default 10 s).
	NodeTTL time.Duration
}

// Directory is the cluster's shared state in Redis. Safe for concurrent use; it holds no lock.
type Directory struct {
	rdb      redis.UniversalClient
	prefix   string
	leaseTTL time.Duration
	nodeTTL  time.Duration
	now      func() time.Time
}

// NewDirectory wraps a Redis client (see Open).
func NewDirectory(rdb redis.UniversalClient, cfg DirectoryConfig) *Directory {
	d := &Directory{rdb: rdb, prefix: cfg.Prefix, leaseTTL: cfg.LeaseTTL, nodeTTL: cfg.NodeTTL, now: time.Now}
	if d.prefix == "" {
		d.prefix = "wisp:"
	}
	if d.leaseTTL <= 0 {
		d.leaseTTL = 10 * time.Second
	}
	if d.nodeTTL <= 0 {
		d.nodeTTL = 10 * time.Second
	}
	return d
}

// LeaseTTL is the lease lifetime without a refresh.
func (d *Directory) LeaseTTL() time.Duration { return d.leaseTTL }

// Claim takes the stream's lease for node (reachable by other nodes at url) with a new epoch. With
// takeover, a lease held by another node is replaced (a publisher reconnecting to another node
// replaces the old one, as on one node); without it, such a lease gives ErrOwned. A claim by the
// node that already holds the stream (a publisher replaced on the same node) also gets a new epoch.
func (d *Directory) Claim(ctx context.Context, stream, node, url string, takeover bool) (Lease, error) {
	to := "0"
	if takeover {
		to = "1"
	}
	res, err := claimScript.Run(ctx, d.rdb, []string{d.streamKey(stream), d.epochKey(stream)},
		node, url, d.leaseTTL.Milliseconds(), d.now().UnixMilli(), to).Slice()
	if err != nil {
		return Lease{}, fmt.Errorf("%w: claim %s: %v", ErrUnavailable, stream, err)
	}
	if len(res) != 3 {
		return Lease{}, fmt.Errorf("%w: claim %s: unexpected reply %v", ErrUnavailable, stream, res)
	}
	taken, _ := res[0].(int64)
	epoch, _ := res[1].(int64)
	holder, _ := res[2].(string)
	if taken != 1 {
		return Lease{}, fmt.Errorf("%w: %s holds %s at epoch %d", ErrOwned, holder, stream, epoch)
	}
	d.listStream(ctx, stream)
	return Lease{Stream: stream, Node: node, URL: url, Epoch: epoch}, nil
}

// Refresh extends a lease its holder still has. A lease that vanished without a newer claim (it
// expired while Redis was away, or Redis restarted empty) is re-asserted with the same epoch. It
// returns ErrLost when a newer epoch exists, ErrUnavailable when Redis does not answer.
func (d *Directory) Refresh(ctx context.Context, l Lease) error {
	n, err := refreshScript.Run(ctx, d.rdb, []string{d.streamKey(l.Stream), d.epochKey(l.Stream)},
		l.Epoch, d.leaseTTL.Milliseconds(), l.Node, l.URL, d.now().UnixMilli()).Int()
	if err != nil {
		return fmt.Errorf("%w: refresh %s: %v", ErrUnavailable, l.Stream, err)
	}
	if n != 1 {
		return fmt.Errorf("%w: %s epoch %d", ErrLost, l.Stream, l.Epoch)
	}
	d.listStream(ctx, l.Stream)
	return nil
}

// Release gives the lease up if l is still current (the publisher ended); a stale lease is left
// alone. Errors reaching Redis are returned; the lease then expires by itself.
func (d *Directory) Release(ctx context.Context, l Lease) error {
	if _, err := releaseScript.Run(ctx, d.rdb, []string{d.streamKey(l.Stream)}, l.Epoch).Result(); err != nil {
		return fmt.Errorf("%w: release %s: %v", ErrUnavailable, l.Stream, err)
	}
	return nil
}

// Lookup tells who owns a stream: ErrNoOwner when nobody does, ErrUnavailable when Redis does not
// answer.
func (d *Directory) Lookup(ctx context.Context, stream string) (Owner, error) {
	m, err := d.rdb.HGetAll(ctx, d.streamKey(stream)).Result()
	if err != nil {
		return Owner{}, fmt.Errorf("%w: lookup %s: %v", ErrUnavailable, stream, err)
	}
	if len(m) == 0 {
		return Owner{}, fmt.Errorf("%w: %s", ErrNoOwner, stream)
	}
	epoch, err := strconv.ParseInt(m["epoch"], 10, 64)
	if err != nil {
		return Owner{}, fmt.Errorf("%w: lookup %s: bad epoch %q", ErrUnavailable, stream, m["epoch"])
	}
	since, _ := strconv.ParseInt(m["since"], 10, 64)
	return Owner{Node: m["node"], URL: m["url"], Epoch: epoch, Since: time.UnixMilli(since)}, nil
}

// Streams lists the cluster's streams with their owners (for /api/streams on any node). Streams
// whose lease has lapsed are left out and pruned from the list.
func (d *Directory) Streams(ctx context.Context) (map[string]Owner, error) {
	cut := d.now().Add(-d.leaseTTL).UnixMilli()
	if err := d.rdb.ZRemRangeByScore(ctx, d.streamsKey(), "-inf", "("+strconv.FormatInt(cut, 10)).Err(); err != nil {
		return nil, fmt.Errorf("%w: streams: %v", ErrUnavailable, err)
	}
	names, err := d.rdb.ZRange(ctx, d.streamsKey(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: streams: %v", ErrUnavailable, err)
	}
	out := make(map[string]Owner, len(names))
	for _, name := range names {
		o, err := d.Lookup(ctx, name)
		if errors.Is(err, ErrNoOwner) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[name] = o
	}
	return out, nil
}

// listStream records the stream in the cluster's list; a failure only delays its listing.
func (d *Directory) listStream(ctx context.Context, stream string) {
	d.rdb.ZAdd(ctx, d.streamsKey(), redis.Z{Score: float64(d.now().UnixMilli()), Member: stream})
}
