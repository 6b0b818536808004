package rtc

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"
)

// rtpDatagram is an RTP packet (as SRTP looks on the wire: clear header) with sequence number seq.
func rtpDatagram(seq uint16, size int) []byte {
	b := make([]byte, size)
	b[0], b[1] = 0x80, 96
	binary.BigEndian.PutUint16(b[2:], seq)
	return b
}

// peerSocket is a receiving socket on 127.0.0.1.
func peerSocket(t *testing.T) (*net.UDPConn, netip.AddrPort) {
	t.Helper()
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = peer.Close() })
	_ = peer.SetReadBuffer(mediaBuffer)
	return peer, peer.LocalAddr().(*net.UDPAddr).AddrPort()
}

// openEgress is the sending side (batching if enabled) of a socket on 127.0.0.1, closed at cleanup.
func openEgress(t *testing.T, enabled bool) (*egress, *net.UDPConn) {
	t.Helper()
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	out, err := newEgress(u, enabled)
	if err != nil {
		t.Fatal(err)
	}
	return out, u
}

// readDatagram reads one datagram; the deadline only turns a missing datagram into a failure.
func readDatagram(t *testing.T, peer *net.UDPConn) ([]byte, netip.AddrPort) {
	t.Helper()
	buf := make([]byte, 4096)
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return buf[:n], from
}

// During a fan-out pass the shared socket holds RTP and sends it with sendmmsg, egressBatch at a
// time and the rest when the pass ends, in order and from the address the endpoint stands for
// (IP_PKTINFO in every message of the batch). STUN and RTCP written in the middle of the pass
// leave at once, ahead of the held RTP; a DTLS record joins the batch in the order written;
// outside a pass RTP leaves at once.
func TestEgressBatchesAPass(t *testing.T) {
	two := netip.MustParseAddr("127.0.0.2")
	s, err := openUDPSocket(0, []netip.Addr{two}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	l := s.conns([]netip.Addr{two})[0]
	peer, to := peerSocket(t)
	st := &s.out.stats

	const total = egressBatch + 36
	s.out.begin()
	for i := range total {
		if _, err := l.WriteToAddrPort(rtpDatagram(uint16(i), 1200), to); err != nil {
			t.Fatal(err)
		}
		if i == egressBatch+1 {
			// Not media: STUN (first byte 0–3), DTLS (20–63), RTCP (RTP version, PT 200).
			for _, p := range [][]byte{{0, 1, 0, 0}, {23, 0xfe, 0xfd, 0}, {0x80, 200, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}} {
				if _, err := l.WriteToAddrPort(p, to); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if b, d, c := st.batched.Load(), st.direct.Load(), st.calls.Load(); b != egressBatch || d != 2 || c != 1 {
		t.Fatalf("in the pass: %d batched in %d calls, %d direct; want the first full batch (%d) in 1 call, 2 direct", b, c, d, egressBatch)
	}
	s.out.end()
	if b, c := st.batched.Load(), st.calls.Load(); b != total+1 || c != 2 {
		t.Fatalf("after the pass: %d batched in %d calls; want %d in 2", b, c, total+1)
	}
	if _, err := l.WriteToAddrPort(rtpDatagram(total, 1200), to); err != nil { // no pass: at once
		t.Fatal(err)
	}
	if d := st.direct.Load(); d != 3 {
		t.Fatalf("RTP outside a pass: %d direct, want 3", d)
	}

	// What the peer sees: 64 RTP, STUN and RTCP, two RTP, the DTLS record, the last 34 RTP of
	// the pass, the one outside the pass.
	var seqs []int
	others := 0
	for range total + 4 {
		p, from := readDatagram(t, peer)
		if from.Addr() != two || from.Port() != uint16(l.addr.Port) {
			t.Fatalf("datagram from %v, want %v:%d", from, two, l.addr.Port)
		}
		switch {
		case isDTLS(p):
			if len(seqs) != egressBatch+2 {
				t.Fatalf("DTLS after %d RTP, want after %d (where it was written)", len(seqs), egressBatch+2)
			}
			others++
			continue
		case !isRTP(p):
			if len(seqs) != egressBatch {
				t.Fatalf("non-media datagram after %d RTP, want after the first batch (%d)", len(seqs), egressBatch)
			}
			others++
			continue
		}
		if len(p) != 1200 {
			t.Fatalf("RTP of %d bytes", len(p))
		}
		seqs = append(seqs, int(binary.BigEndian.Uint16(p[2:])))
	}
	for i, q := range seqs {
		if q != i {
			t.Fatalf("RTP order %v", seqs)
		}
	}
	if others != 3 || len(seqs) != total+1 {
		t.Fatalf("%d non-media, %d RTP", others, len(seqs))
	}
}

// DTLS records (a relayed data-channel message to each viewer) written during a pass join its
// batch in order; written while no pass is in progress they leave at once (nothing is held for
// later), unless batches are still being sent, which they join so as not to overtake them. With
// batching off they leave one by one.
func TestEgressDTLS(t *testing.T) {
	record := func(i int) []byte { return []byte{23, 0xfe, 0xfd, 0, 1, byte(i)} }
	open := func(enabled bool) (*egress, *net.UDPConn, netip.AddrPort) {
		out, _ := openEgress(t, enabled)
		peer, to := peerSocket(t)
		return out, peer, to
	}
	const records = 10

	// In a pass: held, sent with the pass's RTP in one call when it ends.
	out, peer, to := open(true)
	st := &out.stats
	out.begin()
	for i := range records {
		if _, err := out.write(record(i), nil, to); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := out.write(rtpDatagram(1, 100), nil, to); err != nil {
		t.Fatal(err)
	}
	if st.direct.Load() != 0 || st.batched.Load() != 0 {
		t.Fatalf("sent during the pass: %d direct, %d batched", st.direct.Load(), st.batched.Load())
	}
	out.end()
	for i := range records {
		if p, _ := readDatagram(t, peer); !isDTLS(p) || p[5] != byte(i) {
			t.Fatalf("record %d: got %v", i, p)
		}
	}
	if p, _ := readDatagram(t, peer); !isRTP(p) {
		t.Fatalf("after the records: %v, want the pass's RTP", p)
	}
	if b, c, d := st.batched.Load(), st.calls.Load(), st.direct.Load(); b != records+1 || c != 1 || d != 0 {
		t.Fatalf("%d batched in %d calls, %d direct; want %d in 1", b, c, d, records+1)
	}

	// No pass, nothing being sent: at once.
	if _, err := out.write(record(records), nil, to); err != nil {
		t.Fatal(err)
	}
	if d := st.direct.Load(); d != 1 {
		t.Fatalf("outside a pass: %d direct, want 1", d)
	}
	readDatagram(t, peer)

	// No pass, but a sender is still sending: the record queues behind its batches.
	out.mu.Lock()
	out.sending = true // as while another goroutine drains
	out.mu.Unlock()
	if _, err := out.write(record(records+1), nil, to); err != nil {
		t.Fatal(err)
	}
	out.mu.Lock()
	if len(out.ready) != 1 || out.ready[0].n != 1 || st.direct.Load() != 1 {
		t.Fatalf("behind the sender: %d ready batches, %d direct", len(out.ready), st.direct.Load())
	}
	out.sending = false
	out.drain() // the sender's loop: sends it, releases mu
	if p, _ := readDatagram(t, peer); p[5] != byte(records+1) {
		t.Fatalf("got %v", p)
	}

	// Batching off: at once, in a pass too.
	out, peer, to = open(false)
	out.begin()
	for i := range records {
		if _, err := out.write(record(i), nil, to); err != nil {
			t.Fatal(err)
		}
	}
	out.end()
	if d := out.stats.direct.Load(); d != records {
		t.Fatalf("batching off: %d direct, want %d", d, records)
	}
	for i := range records {
		if p, _ := readDatagram(t, peer); p[5] != byte(i) {
			t.Fatalf("record %d: got %v", i, p)
		}
	}
}

// With -ice-host the bound socket batches the same way (no IP_PKTINFO: the socket's address).
func TestEgressHostSocket(t *testing.T) {
	out, u := openEgress(t, true)
	c := &hostConn{UDPConn: u, out: out}
	peer, to := peerSocket(t)
	out.begin()
	for i := range 10 {
		if _, err := c.WriteTo(rtpDatagram(uint16(i), 200), net.UDPAddrFromAddrPort(to)); err != nil {
			t.Fatal(err)
		}
	}
	if out.stats.batched.Load() != 0 {
		t.Fatal("sent before the pass ended")
	}
	out.end()
	if b, calls := out.stats.batched.Load(), out.stats.calls.Load(); b != 10 || calls != 1 {
		t.Fatalf("%d batched in %d calls, want 10 in 1", b, calls)
	}
	for i := range 10 {
		p, from := readDatagram(t, peer)
		if from != u.LocalAddr().(*net.UDPAddr).AddrPort() || binary.BigEndian.Uint16(p[2:]) != uint16(i) {
			t.Fatalf("datagram %d: seq %d from %v", i, binary.BigEndian.Uint16(p[2:]), from)
		}
	}
}

// Two passes at once (two fan-out workers) share the batch; the first to end sends what both
// queued, the second what it queued after; nothing is left behind once no pass is in progress.
func TestEgressOverlappingPasses(t *testing.T) {
	out, _ := openEgress(t, true)
	_, to := peerSocket(t)
	out.begin()
	out.begin()
	_, _ = out.write(rtpDatagram(1, 100), nil, to)
	out.end()
	if out.stats.batched.Load() != 1 {
		t.Fatal("the first pass's end did not send")
	}
	_, _ = out.write(rtpDatagram(2, 100), nil, to)
	out.end()
	if b := out.stats.batched.Load(); b != 2 || out.cur != nil || len(out.ready) != 0 {
		t.Fatalf("%d batched, cur %v, ready %d", b, out.cur, len(out.ready))
	}
}

// Concurrent passes (fan-out workers on several cores) each writing their own viewer's packets:
// every viewer receives all its packets in order, whoever's batch carried them and whoever sent
// it (a viewer counts a packet that arrives after a later one as lost).
func TestEgressConcurrentPassesKeepOrder(t *testing.T) {
	out, _ := openEgress(t, true)
	const writers, perWriter, perPass = 3, 600, 40
	type got struct {
		seqs []int
		err  error
	}
	results := make(chan got, writers)
	var tos []netip.AddrPort
	for range writers {
		peer, to := peerSocket(t)
		tos = append(tos, to)
		go func() {
			var g got
			buf := make([]byte, 2048)
			for len(g.seqs) < perWriter {
				_ = peer.SetReadDeadline(time.Now().Add(10 * time.Second))
				n, _, err := peer.ReadFromUDPAddrPort(buf)
				if err != nil {
					g.err = err
					break
				}
				g.seqs = append(g.seqs, int(binary.BigEndian.Uint16(buf[2:n])))
			}
			results <- g
		}()
	}
	done := make(chan struct{})
	for w := range writers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < perWriter; i += perPass {
				out.begin()
				for j := i; j < i+perPass; j++ {
					_, _ = out.write(rtpDatagram(uint16(j), 300), nil, tos[w])
				}
				out.end()
			}
		}()
	}
	for range writers {
		<-done
	}
	for range writers {
		g := <-results
		if g.err != nil {
			t.Fatalf("after %d datagrams: %v", len(g.seqs), g.err)
		}
		for i, q := range g.seqs {
			if q != i {
				t.Fatalf("viewer got seq %d at position %d", q, i)
			}
		}
	}
	if b := out.stats.batched.Load(); b != writers*perWriter {
		t.Fatalf("%d batched, want %d", b, writers*perWriter)
	}
}

// A datagram queued in a pass that has not ended leaves when the socket's sending side stops (the
// server shutting down: a session's DTLS close alert must not wait for a pass that may end after
// the socket closed), in order; after stop, datagrams leave at once even in a pass.
func TestEgressStopSendsQueued(t *testing.T) {
	out, _ := openEgress(t, true)
	peer, to := peerSocket(t)
	out.begin() // a pass that does not end before stop
	closeAlert := []byte{21, 0xfe, 0xfd, 0, 1, 0xaa}
	for _, b := range [][]byte{rtpDatagram(1, 100), closeAlert} {
		if _, err := out.write(b, nil, to); err != nil {
			t.Fatal(err)
		}
	}
	if d, b := out.stats.direct.Load(), out.stats.batched.Load(); d != 0 || b != 0 {
		t.Fatalf("before stop: %d direct, %d batched, want both queued", d, b)
	}
	out.stop()
	if p, _ := readDatagram(t, peer); !isRTP(p) {
		t.Fatalf("first: %v, want the pass's RTP", p)
	}
	if p, _ := readDatagram(t, peer); !isDTLS(p) || p[5] != 0xaa {
		t.Fatalf("second: %v, want the close alert", p)
	}
	if _, err := out.write(rtpDatagram(2, 100), nil, to); err != nil {
		t.Fatal(err)
	}
	if p, _ := readDatagram(t, peer); !isRTP(p) || binary.BigEndian.Uint16(p[2:]) != 2 {
		t.Fatalf("after stop: %v, want RTP 2 at once", p)
	}
	if d := out.stats.direct.Load(); d != 1 {
		t.Fatalf("after stop: %d direct, want 1", d)
	}
	out.end()
}
