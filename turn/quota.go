package turn

import (
	"net"
	"sync"

	pturn "github.com/pion/turn/v5"
)

// Defaults of the allocation caps.
const (
	DefaultMaxAllocations = 2000 // on the whole server
	DefaultMaxPerIP       = 10   // from one client IP address
)

// quota caps allocations, in all and per client IP: a client past a cap gets 486 (Allocation
// Quota Reached, RFC 8656 §6.2). A few allocations asked for at the same instant may pass a cap
// together: they are counted when made.
type quota struct {
	max, perIP int

	// guarded by mu
	mu    sync.Mutex
	total int
	byIP  map[string]int
}

func newQuota(max, perIP int) *quota {
	if max <= 0 {
		max = DefaultMaxAllocations
	}
	if perIP <= 0 {
		perIP = DefaultMaxPerIP
	}
	return &quota{max: max, perIP: perIP, byIP: make(map[string]int)}
}

// allow is the QuotaHandler.
func (q *quota) allow(_, _ string, src net.Addr) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.total < q.max && q.byIP[ipOf(src)] < q.perIP
}

// events counts allocations made and deleted.
func (q *quota) events() pturn.EventHandler {
	return pturn.EventHandler{
		OnAllocationCreated: func(src, _ net.Addr, _, _, _ string, _ net.Addr, _ int) { q.add(src, 1) },
		OnAllocationDeleted: func(src, _ net.Addr, _, _, _ string) { q.add(src, -1) },
	}
}

func (q *quota) add(src net.Addr, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ip := ipOf(src)
	q.total += n
	q.byIP[ip] += n
	if q.byIP[ip] <= 0 {
		delete(q.byIP, ip)
	}
}

func ipOf(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
