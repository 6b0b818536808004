package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wisp-media/wisp/cluster"
	"github.com/wisp-media/wisp/pull"
	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/whip"
	"github.com/wisp-media/wisp/wish"
)

// clusterConfig is the cluster settings: all empty means a single node.
type clusterConfig struct {
	Redis    string        // the directory's URL
	NodeURL  string        // internal base URL other nodes pull from
	NodeID   string        // "" = host:port of NodeURL
	Secret   string        // signs pull tokens
	LeaseTTL time.Duration // stream lease lifetime without a refresh
	PullIdle time.Duration // how long a pull outlives its last local viewer
	Redirect bool          // 307 viewers' POSTs to the least-loaded node
	public   string        // the public base URL (-public-url), set by newServer
}

// minClusterSecret is the least length of -cluster-secret (an HMAC-SHA256 key).
const minClusterSecret = 16

// check validates the cluster settings together: with -redis, -node-url and -cluster-secret are
// required; without it, neither may be set (a node would silently run alone).
func (c *clusterConfig) check() error {
	if c.Redis == "" {
		if c.NodeURL != "" || c.Secret != "" || c.NodeID != "" || c.Redirect {
			return errors.New("-node-url, -node-id, -cluster-secret and -cluster-redirect need -redis (WISP_REDIS_URL)")
		}
		return nil
	}
	rdb, err := cluster.Open(c.Redis)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	_ = rdb.Close()
	if c.NodeURL == "" {
		return errors.New("-redis needs -node-url (WISP_NODE_URL): the URL other nodes reach this one at")
	}
	if len(c.Secret) < minClusterSecret {
		return fmt.Errorf("-redis needs -cluster-secret (WISP_CLUSTER_SECRET) of %d bytes or more", minClusterSecret)
	}
	if c.NodeID == "" {
		u, _ := url.Parse(c.NodeURL) // checked by its setting
		c.NodeID = u.Host
	}
	return nil
}

// clusterNode is this server as one node of a cluster: its directory, its pulls of remote
// streams, its registration. nil on a single node.
type clusterNode struct {
	// set at construction
	cfg    clusterConfig
	log    *slog.Logger
	rdb    redis.UniversalClient
	dir    *cluster.Directory
	signer *cluster.Signer
	edge   *pull.Edge
	load   func() int // local sessions, for the registry
	stop   chan struct{}
	// unreachable: the last registration failed (Redis down): still serving, but degraded
	unreachable atomic.Bool
	wg          sync.WaitGroup
	once        sync.Once
}

// redisLogger routes go-redis's own messages to slog (it prints to stderr otherwise).
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...))
}

// newClusterNode connects to the directory (lazily: a Redis that is down at start is an outage,
// not a bad setting); start begins the registration.
func newClusterNode(cfg clusterConfig, reg *stream.Registry, load func() int, log *slog.Logger) (*clusterNode, error) {
	rdb, err := cluster.Open(cfg.Redis)
	if err != nil {
		return nil, fmt.Errorf("-redis: %w", err)
	}
	log = log.With("node", cfg.NodeID)
	dir := cluster.NewDirectory(rdb, cluster.DirectoryConfig{LeaseTTL: cfg.LeaseTTL})
	signer := cluster.NewSigner(cfg.Secret)
	poll := min(500*time.Millisecond, cfg.LeaseTTL/4)
	n := &clusterNode{cfg: cfg, log: log, rdb: rdb, dir: dir, signer: signer, load: load, stop: make(chan struct{}),
		edge: pull.New(pull.Config{Directory: dir, Signer: signer, Node: cfg.NodeID, Registry: reg, Poll: poll, Idle: cfg.PullIdle,
			Logger: log.With("side", "pull")})}
	log.Info("cluster node", "url", cfg.NodeURL, "lease_ttl", cfg.LeaseTTL)
	return n, nil
}

// start begins the registration loop, once the server it counts sessions of is built.
func (n *clusterNode) start() {
	if n == nil {
		return
	}
	n.wg.Add(1)
	go n.register()
}

// register keeps this node in the directory's node registry (every third of the node TTL).
func (n *clusterNode) register() {
	defer n.wg.Done()
	const every = 10 * time.Second / 3
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := n.dir.Register(ctx, cluster.Node{ID: n.cfg.NodeID, URL: n.cfg.NodeURL, Public: n.cfg.public, Viewers: n.load()})
		cancel()
		switch {
		case err != nil && !failing:
			n.log.Warn("directory unreachable: node not registered", "err", err)
		case err == nil && failing:
			n.log.Info("directory reachable again")
		}
		failing = err != nil
		n.unreachable.Store(failing)
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
	}
}

// directoryUp reports whether the cluster directory answered the last registration; ok is false
// on a single node.
func (n *clusterNode) directoryUp() (up, ok bool) {
	if n == nil {
		return false, false
	}
	return !n.unreachable.Load(), true
}

// Take implements whip.Leaser: the stream's lease for a new publisher on this node, refreshed
// until the publisher ends. Another live owner without takeover is a 409; no directory is a 503.
func (n *clusterNode) Take(ctx context.Context, name string, takeover bool) (whip.Lease, error) {
	l, err := n.dir.Claim(ctx, name, n.cfg.NodeID, n.cfg.NodeURL, takeover)
	switch {
	case errors.Is(err, cluster.ErrOwned):
		return nil, wish.Errorf(http.StatusConflict, "Conflict", "stream %s is published on another node", name)
	case err != nil:
		n.log.Warn("directory unavailable: publisher refused", "stream", name, "err", err)
		e := wish.Errorf(http.StatusServiceUnavailable, "Service Unavailable", "the cluster directory is unavailable")
		e.Header.Set("Retry-After", "2")
		return nil, e
	}
	n.log.Info("stream lease taken", "stream", name, "epoch", l.Epoch)
	return n.dir.Keep(l, n.log), nil
}

// VerifyPull implements whep.Cluster: a bearer token shaped like a pull token must be valid.
func (n *clusterNode) VerifyPull(r *http.Request, name string) (bool, error) {
	tok := wish.BearerToken(r)
	if !cluster.IsToken(tok) {
		return false, nil
	}
	node, err := n.signer.Verify(tok, name)
	if err != nil {
		e := wish.Unauthorized("invalid pull token")
		e.Header.Set("WWW-Authenticate", `Bearer realm="wisp", error="invalid_token"`)
		return true, e
	}
	n.log.Debug("pull", "stream", name, "by", node)
	return true, nil
}

// placedParam marks a POST already placed by a 307: it is never redirected again (no loops).
const placedParam = "placed"

// grantParam carries the placement grant of a POST placed by a 307 (cluster.Signer.Grant).
const grantParam = "grant"

// grantTTL is how long a placement grant admits its POST: a client follows a 307 at once.
const grantTTL = 30 * time.Second

// Place implements whep.Cluster: with -cluster-redirect, a viewer's POST goes to the node with
// the fewest sessions (as last registered, within 3⅓ s) when that is not this one; a POST
// already redirected once, or when the directory is away, stays here. The location carries a
// placement grant: the POST was authorized here, and its key or token does not follow it.
func (n *clusterNode) Place(r *http.Request, name string) (string, bool) {
	if !n.cfg.Redirect || r.URL.Query().Has(placedParam) {
		return "", false
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	nodes, err := n.dir.Nodes(ctx)
	if err != nil {
		return "", false
	}
	self, best := -1, -1
	for i, nd := range nodes {
		if nd.ID == n.cfg.NodeID {
			self = nd.Viewers
			continue
		}
		if !nd.Draining && (best < 0 || nd.Viewers < nodes[best].Viewers) {
			best = i
		}
	}
	if best < 0 || self < 0 || nodes[best].Viewers >= self {
		return "", false
	}
	base := nodes[best].Public
	if base == "" {
		base = nodes[best].URL
	}
	n.log.Debug("viewer placed on another node", "stream", name, "to", nodes[best].ID)
	q := url.Values{placedParam: {"1"}, grantParam: {n.signer.Grant(name, grantTTL)}}
	return base + "/whep/" + url.PathEscape(name) + "?" + q.Encode(), true
}

// Placed implements whep.Cluster: a POST redirected here by a node that authorized it.
func (n *clusterNode) Placed(r *http.Request, name string) bool {
	g := r.URL.Query().Get(grantParam)
	if g == "" {
		return false
	}
	if err := n.signer.VerifyGrant(g, name); err != nil {
		n.log.Debug("placement grant refused", "stream", name, "err", err)
		return false
	}
	return true
}

// Watch implements whep.Cluster.
func (n *clusterNode) Watch(st *stream.Stream) (func(), error) { return n.edge.Watch(st) }

// clusterStream is one stream of /api/streams on a cluster node: the local facts (if the stream
// is here) and its owner.
type clusterStream struct {
	stream.Info
	Owner    string `json:"owner,omitempty"`    // node id of the publisher's node
	OwnerURL string `json:"ownerUrl,omitempty"` // its internal URL
	Epoch    int64  `json:"epoch,omitempty"`    // the lease's fencing epoch
}

// streams lists the cluster's streams (from the directory) merged with the local ones; degraded
// is true when the directory did not answer (the local ones are listed alone).
func (n *clusterNode) streams(ctx context.Context, local []stream.Info) (out []clusterStream, degraded bool) {
	byName := make(map[string]*clusterStream, len(local))
	for _, info := range local {
		byName[info.Name] = &clusterStream{Info: info}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	owners, err := n.dir.Streams(ctx)
	if err != nil {
		degraded = true
	}
	for name, o := range owners {
		cs := byName[name]
		if cs == nil {
			cs = &clusterStream{Info: stream.Info{Name: name, Live: true, Feeds: []stream.FeedInfo{}, Outputs: []stream.OutputInfo{}}}
			byName[name] = cs
		}
		cs.Owner, cs.OwnerURL, cs.Epoch = o.Node, o.URL, o.Epoch
	}
	for _, cs := range byName {
		out = append(out, *cs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, degraded
}

// close ends the pulls and the registration and leaves the registry (best effort).
func (n *clusterNode) close() {
	if n == nil {
		return
	}
	n.once.Do(func() {
		n.edge.Close()
		close(n.stop)
		n.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = n.dir.Deregister(ctx, n.cfg.NodeID)
		_ = n.rdb.Close()
	})
}
