// Package cluster is wisp's directory for running several nodes as one service: Redis holds who
// owns each stream (a lease with a fencing epoch) and which nodes are alive, and nodes prove to
// each other that a pull is theirs with a token signed by a shared secret.
//
// Map of the package:
//   - directory.go: Directory, the Redis client side: Claim, Refresh, Release and Lookup of stream
//     leases (Lua scripts, so each is atomic), and the cluster's stream list.
//   - scripts.go: the Lua scripts and the key layout.
//   - lease.go: Keeper, which refreshes one lease on a schedule and says whether the owner may
//     still forward (fencing: a node frozen past its lease stops before anyone can take over).
//   - nodes.go: the node registry (internal URL, viewers, egress, draining) with a TTL.
//   - token.go: node-to-node pull tokens and placement grants (HMAC with the cluster secret,
//     stream-bound, expiring; a grant lets a redirected viewer in without its watch key).
//   - redis.go: Open, a go-redis UniversalClient from a redis:// or unix:// URL.
//
// The directory is never on the media path: a lease is refreshed by its own goroutine, and what
// the media path reads (Keeper.Valid) is one atomic load.
package cluster
