package rtc

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Batched egress. The fan-out writes each packet to many viewers through the one media socket,
// one pion WriteRTP per viewer (interceptors, SRTP, the ICE mux), each ending in a write here.
// Sent one by one, that is one sendto per datagram, which was most of the server's CPU. So the
// socket holds the SRTP media datagrams written while a fan-out pass is in progress and sends
// them with one sendmmsg per egressBatch datagrams: when the batch is full, and when the pass
// ends (stream.Egress: the fan-out worker brackets each pass with BeginPass/EndPass). Batching so
// adds no delay to the pass's packets.
//
// DTLS records (the SCTP of data channels inside: one relayed message is one record to each
// viewer, written by each viewer's SCTP association on its own goroutine after the relay handed
// the message over) join the batch too while a pass is in progress, and leave with it; so does a
// record written while batches are still being sent (it must not overtake the records before it).
// Otherwise a record leaves at once: nothing is held for later, so batching adds no delay. (A
// record held up to 1 ms when no pass was in progress cost more CPU in BenchmarkRelayMessage than
// it saved: docs/benchmarks.md.)
//
// The data relay's records have a window of their own. When the relay's goroutine hands one
// message to n viewers (datarelay.Egress: beginRelay, endRelay), their n SCTP write loops each
// write one record soon after, on their own goroutines. The window counts as a pass while it is
// open, so those records join a batch; it knows how many records it waits for (n, less the
// viewers endRelay says will not write at once), and the record that completes the count sends
// the batch. So one relayed message to n viewers leaves in one sendmmsg (per egressBatch) instead
// of n sendmsg, and no record waits for a later event. Only if an expected record never comes (a
// viewer's congestion window filled meanwhile, its association closed) does a guard timer close
// the window, relayGuard after it opened; the timer never fires otherwise.
//
// Everything else leaves at once, in the calling goroutine, as before: STUN, RTCP, and any RTP
// written while no pass is in progress (NACK answers, a publisher-less server). Packets are told
// apart by their first bytes (RFC 7983: 20–63 is DTLS, 128–191 is RTP or RTCP; RFC 5761: a
// second byte of 192–223 is an RTCP packet type). An RTP packet written by another goroutine (a
// NACK answer) while some pass is in progress joins that pass's batch: it leaves when that pass
// ends, at most one pass later.
//
// Bounded: at most egressBatches batches of egressBatch datagrams of egressSlot bytes each exist
// (made on first use, then reused). Batches leave in the order they were filled, sent by one
// goroutine at a time (whoever fills or ends one while nobody is sending); the others return at
// once. A writer that finds every batch full and waiting for the sender waits for one to be sent
// (as a sendto waits for room in the socket buffer): sending its datagram at once would overtake
// the viewer's packets still in the batches, which the viewer would count as lost. Nothing is
// allocated per datagram.

// Batch sizes.
const (
	// egressBatch is the most datagrams one sendmmsg carries.
	egressBatch = 64
	// egressSlot is the largest datagram a batch holds; a larger one is sent at once.
	egressSlot = 2048
	// egressBatches is how many batches exist at most: one filling while others wait for the
	// sender (1 MiB of buffers in all).
	egressBatches = 8
	// relayGuard closes a relay window whose expected records have not all come: a viewer's
	// association that was expected to write did not (its congestion window filled meanwhile,
	// it closed). It never fires while every expected record comes (beginRelay).
	relayGuard = 2 * time.Millisecond
)

// egress is the sending side of one UDP socket: direct writes, and the batches of fan-out passes.
type egress struct {
	conn *net.UDPConn
	raw  syscall.RawConn // conn's, fetched once (each SyscallConn call allocates)

	enabled bool         // batching asked for (MediaConfig.Batch) and possible (sendmmsg)
	closing atomic.Bool  // stop ran: every datagram leaves at once
	passes  atomic.Int32 // fan-out passes in progress; changed to 0 only under mu

	// guarded by mu
	mu      sync.Mutex
	cur     *outBatch   // the batch being filled; nil if none
	ready   []*outBatch // full or ended batches, oldest first, waiting for the sender
	free    []*outBatch // batches to reuse
	made    int         // batches made (at most egressBatches)
	sending bool        // a goroutine is sending ready batches
	freed   sync.Cond   // signalled (with mu) when a sent batch is free again

	// the relay window (guarded by mu too): see beginRelay
	owed        int           // DTLS records the open window waits for; 0 when none is open
	guard       *time.Timer   // closes a window still open after guardAfter
	guardAfter  time.Duration // relayGuard (tests lengthen it)
	windows     uint64        // windows opened
	guardClosed uint64        // windows the guard closed

	// counters
	stats egressStats
}

// egressStats counts what the socket sent and how.
type egressStats struct {
	direct   atomic.Uint64 // datagrams sent one per syscall
	batched  atomic.Uint64 // datagrams sent in batches
	calls    atomic.Uint64 // batch syscalls (sendmmsg)
	failures atomic.Uint64 // batched datagrams the kernel refused (each counted once)
}

// newEgress returns conn's sending side; with enabled (and sendmmsg) it batches as described
// above, else every datagram leaves at once.
func newEgress(conn *net.UDPConn, enabled bool) (*egress, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("media socket: raw access for batched sends: %w", err)
	}
	e := &egress{conn: conn, raw: raw, enabled: enabled && batching,
		ready: make([]*outBatch, 0, egressBatches), free: make([]*outBatch, 0, egressBatches)}
	e.freed.L = &e.mu
	e.guard, e.guardAfter = time.AfterFunc(time.Hour, e.guardFired), relayGuard
	e.guard.Stop()
	return e, nil
}

// isRTP reports whether b is an RTP packet (not RTCP, STUN, DTLS, TURN or ZRTP): RFC 7983 §7
// and RFC 5761 §4. The header is in the clear in SRTP.
func isRTP(b []byte) bool {
	return len(b) >= 12 && b[0] >= 128 && b[0] <= 191 && (b[1] < 192 || b[1] > 223)
}

// isDTLS reports whether b is a DTLS record (RFC 7983 §7: first byte 20–63).
func isDTLS(b []byte) bool { return len(b) > 0 && b[0] >= 20 && b[0] <= 63 }

// write sends b to addr (from the source named by oob, IP_PKTINFO, or the socket's own address if
// oob is empty), or queues it in the current batch: RTP and DTLS during a pass, DTLS also behind
// batches still being sent.
func (e *egress) write(b []byte, oob []byte, addr netip.AddrPort) (int, error) {
	if !e.enabled || len(b) > egressSlot || e.closing.Load() {
		return e.direct(b, oob, addr)
	}
	media := isRTP(b)
	if media && e.passes.Load() == 0 || !media && !isDTLS(b) {
		return e.direct(b, oob, addr)
	}
	e.mu.Lock()
	if e.closing.Load() { // stop ran while b waited for the lock: nothing is queued any more
		e.mu.Unlock()
		return e.direct(b, oob, addr)
	}
	if e.passes.Load() == 0 {
		if media || !e.sending { // the last pass ended meanwhile; nothing queued ahead of b
			e.mu.Unlock()
			return e.direct(b, oob, addr)
		}
		// A DTLS record behind batches being sent: it joins them, and the sender's loop sends it.
		e.add(b, oob, addr)
		e.flush()
		return len(b), nil
	}
	e.add(b, oob, addr)
	if !media && e.owed > 0 {
		// Any DTLS record counts (another session's written meanwhile too): the window then
		// closes a record early, and the last one leaves on its own; nothing is held longer.
		if e.owed--; e.owed == 0 { // the last record the relay window waits for: all leave now
			e.closeWindow()
			return len(b), nil
		}
	}
	if e.cur == nil || e.passes.Load() == 0 { // full, or every pass ended while add waited
		e.flush()
		return len(b), nil
	}
	e.mu.Unlock()
	return len(b), nil
}

// flush queues the current batch, if any, and sends what is queued. Caller holds mu; flush
// releases it.
func (e *egress) flush() {
	if e.cur != nil {
		e.ready = append(e.ready, e.cur)
		e.cur = nil
	}
	e.drain()
}

// add puts b into the current batch (queuing the batch when full), waiting for a free batch if
// every one is waiting for the sender. Caller holds mu.
func (e *egress) add(b []byte, oob []byte, addr netip.AddrPort) {
	for e.cur == nil {
		if e.cur = e.take(); e.cur == nil {
			e.freed.Wait() // every batch is waiting for the sender, who is sending (see drain)
		}
	}
	e.cur.add(b, oob, addr)
	if e.cur.n == egressBatch {
		e.ready = append(e.ready, e.cur)
		e.cur = nil
	}
}

// direct sends b at once.
func (e *egress) direct(b []byte, oob []byte, addr netip.AddrPort) (int, error) {
	e.stats.direct.Add(1)
	n, _, err := e.conn.WriteMsgUDPAddrPort(b, oob, addr)
	return n, err
}

// begin counts a pass in.
func (e *egress) begin() { e.passes.Add(1) }

// end counts a pass out and sends what is queued (its datagrams and any of other passes still in
// progress, which only makes those leave earlier).
func (e *egress) end() {
	e.mu.Lock()
	e.passes.Add(-1)
	e.flush()
}

// beginRelay says the data relay's goroutine is about to hand one message to n viewers' data
// channels, each of whose SCTP associations will then write a DTLS record on its own goroutine. It
// opens the relay window (counted as one pass) unless one is open, and adds n to the records it
// waits for; endRelay takes back those that will not come at once.
func (e *egress) beginRelay(n int) {
	if !e.enabled || n <= 0 {
		return
	}
	e.mu.Lock()
	if e.owed == 0 {
		e.passes.Add(1)
		e.windows++
		e.guard.Reset(e.guardAfter)
	}
	e.owed += n
	e.mu.Unlock()
}

// endRelay says the hand-off begun with beginRelay(n) is done and only expected of the n viewers
// will write their record at once (the others' Send failed or was dropped, or their association
// has unacknowledged data and may wait for room in its congestion window). When no record is
// owed any more the window closes and its batch leaves.
func (e *egress) endRelay(n, expected int) {
	if !e.enabled || n <= 0 || expected >= n {
		return
	}
	e.mu.Lock()
	if e.owed == 0 { // closed meanwhile (by its records or the guard)
		e.mu.Unlock()
		return
	}
	if e.owed -= n - expected; e.owed <= 0 {
		e.closeWindow()
		return
	}
	e.mu.Unlock()
}

// closeWindow closes the relay window and sends what is queued. Caller holds mu, with the window
// open; closeWindow releases it.
func (e *egress) closeWindow() {
	e.owed = 0
	e.guard.Stop()
	e.passes.Add(-1)
	e.flush()
}

// guardFired closes the relay window if it is still open guardAfter after it opened: a record
// it expected has not come (see relayGuard). A guard of an earlier window that fires late only
// makes the current window's batch leave early.
func (e *egress) guardFired() {
	e.mu.Lock()
	if e.owed == 0 {
		e.mu.Unlock()
		return
	}
	e.guardClosed++
	e.closeWindow()
}

// stop sends what is queued and makes every later datagram leave at once: the socket is about to
// close, and a datagram written before it (a session's DTLS close alert, queued in a pass still
// in progress when the server shuts down) must leave before the socket closes, not at the end of
// that pass. It waits for another goroutine's sending to finish, and stops the relay window's
// guard.
func (e *egress) stop() {
	e.guard.Stop()
	e.mu.Lock()
	e.closing.Store(true) // from here on writers send directly: cur and ready only shrink
	for e.sending {
		e.freed.Wait()
	}
	e.flush()
}

// take returns an empty batch, or nil when all egressBatches are in use. Caller holds mu.
func (e *egress) take() *outBatch {
	if n := len(e.free); n > 0 {
		b := e.free[n-1]
		e.free = e.free[:n-1]
		return b
	}
	if e.made == egressBatches {
		return nil
	}
	e.made++
	return newOutBatch()
}

// drain sends the ready batches in order unless another goroutine is doing so already. Caller
// holds mu; drain releases it (and never holds it across a send).
func (e *egress) drain() {
	if e.sending {
		e.mu.Unlock()
		return
	}
	e.sending = true
	for len(e.ready) > 0 {
		b := e.ready[0]
		copy(e.ready, e.ready[1:])
		e.ready = e.ready[:len(e.ready)-1]
		e.mu.Unlock()
		e.send(b)
		e.mu.Lock()
		b.reset()
		e.free = append(e.free, b)
		e.freed.Broadcast()
	}
	e.sending = false
	e.freed.Broadcast() // stop waits for the sending to end
	e.mu.Unlock()
}

// send writes batch b to the socket. A datagram the kernel refuses is counted and skipped, as a
// failed direct write would concern that datagram alone.
func (e *egress) send(b *outBatch) {
	if b.n == 0 {
		return
	}
	calls, failed := b.sendAll(e.raw)
	e.stats.calls.Add(uint64(calls))
	e.stats.batched.Add(uint64(b.n - failed))
	e.stats.failures.Add(uint64(failed))
}
