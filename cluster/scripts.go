package cluster

import "github.com/redis/go-redis/v9"

// Key layout. A stream's lease and its epoch counter share the hash tag {name}, so both live in one
// Redis Cluster slot and one script may touch both.
//
//	PREFIX stream:{NAME}  HASH node, url, epoch, since (ms)      PEXPIRE lease TTL
//	PREFIX epoch:{NAME}   INT  the last epoch issued (fencing token), never decreases
//	PREFIX streams        ZSET name → last refresh (ms): the cluster's stream list, pruned by age
//	PREFIX node:ID        HASH url, viewers, egress_bps, draining   PEXPIRE node TTL
//	PREFIX nodes          ZSET id → last seen (ms), pruned by age
func (d *Directory) streamKey(name string) string { return d.prefix + "stream:{" + name + "}" }
func (d *Directory) epochKey(name string) string  { return d.prefix + "epoch:{" + name + "}" }
func (d *Directory) streamsKey() string           { return d.prefix + "streams" }
func (d *Directory) nodeKey(id string) string     { return d.prefix + "node:" + id }
func (d *Directory) nodesKey() string             { return d.prefix + "nodes" }

// claimScript takes a stream's lease for a node with a new epoch. KEYS: stream, epoch. ARGV: node,
// url, ttl ms, now ms, takeover ("1" lets the caller replace another node's live lease).
// Returns {1, epoch, node} when taken, {0, epoch, node} of the holder when refused.
var claimScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'node')
if cur and cur ~= ARGV[1] and ARGV[5] ~= '1' then
  return {0, tonumber(redis.call('HGET', KEYS[1], 'epoch')), cur}
end
local e = redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'node', ARGV[1], 'url', ARGV[2], 'epoch', e, 'since', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, e, ARGV[1]}
`)

// refreshScript extends a lease its holder still has. KEYS: stream, epoch. ARGV: epoch, ttl ms,
// node, url, now ms. A lease that is gone (expired while Redis was away, or Redis restarted empty)
// is re-asserted with the same epoch unless a newer epoch has been issued since. Returns 1 when the
// caller holds the lease, 0 when it has lost it.
var refreshScript = redis.NewScript(`
local e = redis.call('HGET', KEYS[1], 'epoch')
if e then
  if e == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
  end
  return 0
end
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if last > tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'node', ARGV[3], 'url', ARGV[4], 'epoch', ARGV[1], 'since', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// releaseScript deletes a lease if the caller still holds it. KEYS: stream. ARGV: epoch.
var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'epoch') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)
