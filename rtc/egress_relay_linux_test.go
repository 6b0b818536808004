package rtc

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// relayRecord is a DTLS application-data record (as a viewer's SCTP packet looks on the wire)
// carrying message number seq.
func relayRecord(seq int) []byte {
	return []byte{23, 0xfe, 0xfd, 0, 1, byte(seq >> 8), byte(seq)}
}

func recordSeq(p []byte) int { return int(p[5])<<8 | int(p[6]) }

// openRelayEgress is a batching egress on 127.0.0.1 and n viewers' sockets. Its guard fires
// after guard.
func openRelayEgress(t *testing.T, n int, guard time.Duration) (*egress, []*net.UDPConn, []netip.AddrPort) {
	t.Helper()
	out, _ := openEgress(t, true)
	out.guardAfter = guard
	t.Cleanup(out.stop) // before the socket closes (cleanups run last first)
	var peers []*net.UDPConn
	var tos []netip.AddrPort
	for range n {
		p, to := peerSocket(t)
		peers, tos = append(peers, p), append(tos, to)
	}
	return out, peers, tos
}

// A relay window (one message handed to n viewers) holds the viewers' DTLS records until the
// n-th has joined, then sends them in one sendmmsg, each to its viewer; STUN and RTCP written
// meanwhile leave at once. Viewers not expected to write (endRelay) are not waited for, and
// with none owed the window closes at once. The window counts as a pass while open and not after.
func TestEgressRelayWindow(t *testing.T) {
	const n = 3
	out, peers, tos := openRelayEgress(t, n, time.Minute) // the guard never fires here
	st := &out.stats

	out.beginRelay(n)
	for i := range n - 1 {
		if _, err := out.write(relayRecord(7), nil, tos[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := out.write([]byte{0, 1, 0, 0}, nil, tos[0]); err != nil { // STUN: at once
		t.Fatal(err)
	}
	out.endRelay(n, n) // every viewer expected: the window stays open
	if b, d := st.batched.Load(), st.direct.Load(); b != 0 || d != 1 {
		t.Fatalf("before the last record: %d batched, %d direct; want 0 and the STUN", b, d)
	}
	if _, err := out.write(relayRecord(7), nil, tos[n-1]); err != nil {
		t.Fatal(err)
	}
	if b, c := st.batched.Load(), st.calls.Load(); b != n || c != 1 {
		t.Fatalf("after the last record: %d batched in %d calls, want %d in 1", b, c, n)
	}
	if p, _ := readDatagram(t, peers[0]); isDTLS(p) {
		t.Fatal("viewer 0's STUN came after its record")
	}
	for i, p := range peers {
		if r, _ := readDatagram(t, p); !isDTLS(r) || recordSeq(r) != 7 {
			t.Fatalf("viewer %d got %v", i, r)
		}
	}
	if out.passes.Load() != 0 || out.owed != 0 {
		t.Fatalf("after the window: %d passes, %d owed", out.passes.Load(), out.owed)
	}

	// One of three expected (the others' Sends were dropped): its record alone closes the window.
	out.beginRelay(n)
	if _, err := out.write(relayRecord(8), nil, tos[0]); err != nil {
		t.Fatal(err)
	}
	if st.batched.Load() != n {
		t.Fatal("sent before the hand-off ended")
	}
	out.endRelay(n, 1)
	if b, c := st.batched.Load(), st.calls.Load(); b != n+1 || c != 2 {
		t.Fatalf("%d batched in %d calls, want %d in 2", b, c, n+1)
	}
	readDatagram(t, peers[0])

	// None expected: the window closes at the end of the hand-off; a later record leaves at once.
	out.beginRelay(n)
	out.endRelay(n, 0)
	if out.passes.Load() != 0 {
		t.Fatal("window left open with nothing owed")
	}
	if _, err := out.write(relayRecord(9), nil, tos[1]); err != nil {
		t.Fatal(err)
	}
	if d := st.direct.Load(); d != 2 {
		t.Fatalf("record after the window: %d direct, want 2", d)
	}
	readDatagram(t, peers[1])
	if w, g := out.windows, out.guardClosed; w != 3 || g != 0 {
		t.Fatalf("%d windows, %d closed by the guard; want 3, 0", w, g)
	}
}

// A record expected but never written (the viewer's congestion window filled meanwhile) holds
// the others only until the guard closes the window, not before; then records leave as outside
// any window.
func TestEgressRelayGuard(t *testing.T) {
	out, peers, tos := openRelayEgress(t, 2, relayGuard)
	start := time.Now()
	out.beginRelay(2)
	if _, err := out.write(relayRecord(1), nil, tos[0]); err != nil {
		t.Fatal(err)
	}
	out.endRelay(2, 2)
	readDatagram(t, peers[0]) // sent by the guard
	if held := time.Since(start); held < relayGuard {
		t.Fatalf("record left after %v, before the guard (%v)", held, relayGuard)
	}
	out.mu.Lock()
	owed, guarded := out.owed, out.guardClosed
	out.mu.Unlock()
	if owed != 0 || guarded != 1 || out.passes.Load() != 0 {
		t.Fatalf("after the guard: %d owed, %d guarded, %d passes", owed, guarded, out.passes.Load())
	}
	// Outside the window again: the next record is not held (it leaves at once, or behind the
	// guard's send if that is still in progress).
	if _, err := out.write(relayRecord(2), nil, tos[1]); err != nil {
		t.Fatal(err)
	}
	if p, _ := readDatagram(t, peers[1]); recordSeq(p) != 2 {
		t.Fatalf("got %v", p)
	}
}

// As with the relay: one goroutine hands each message to every viewer, whose own goroutine (its
// SCTP write loop) writes the record when told, some late (after the window closed) and one
// viewer often not expected at all; media passes of another goroutine run meanwhile. Every viewer
// gets every record, in order, whichever batch or direct send carried it.
func TestEgressRelayKeepsOrder(t *testing.T) {
	const viewers, messages = 8, 300
	out, peers, tos := openRelayEgress(t, viewers, relayGuard)
	type got struct {
		seqs []int
		err  error
	}
	results := make(chan got, viewers)
	for _, peer := range peers {
		go func() {
			var g got
			buf := make([]byte, 64)
			for len(g.seqs) < messages {
				_ = peer.SetReadDeadline(time.Now().Add(10 * time.Second))
				n, _, err := peer.ReadFromUDPAddrPort(buf)
				if err != nil {
					g.err = err
					break
				}
				if isDTLS(buf[:n]) {
					g.seqs = append(g.seqs, recordSeq(buf[:n]))
				}
			}
			results <- g
		}()
	}
	// Each viewer's write loop: writes the records it is handed, in order.
	loops := make([]chan int, viewers)
	var wg sync.WaitGroup
	for v := range viewers {
		loops[v] = make(chan int, messages)
		wg.Go(func() {
			for seq := range loops[v] {
				_, _ = out.write(relayRecord(seq), nil, tos[v])
			}
		})
	}
	media := make(chan int, messages)
	wg.Go(func() { // a fan-out worker's passes to the same viewers, one per message
		for i := range media {
			out.begin()
			_, _ = out.write(rtpDatagram(uint16(i), 100), nil, tos[i%viewers])
			out.end()
		}
	})
	for seq := range messages {
		media <- seq
		out.beginRelay(viewers)
		expected := viewers
		for v := range viewers {
			loops[v] <- seq
			if v == 0 && seq%3 == 0 {
				expected-- // as a viewer with data unacknowledged: not waited for
			}
		}
		out.endRelay(viewers, expected)
	}
	for _, l := range loops {
		close(l)
	}
	close(media)
	wg.Wait()
	for range viewers {
		g := <-results
		if g.err != nil {
			st := &out.stats
			t.Fatalf("after %d records: %v (batched %d direct %d failed %d, windows %d guard %d, owed %d passes %d cur %v ready %d sending %v)", len(g.seqs), g.err,
				st.batched.Load(), st.direct.Load(), st.failures.Load(), out.windows, out.guardClosed, out.owed, out.passes.Load(), out.cur != nil, len(out.ready), out.sending)
		}
		for i, q := range g.seqs {
			if q != i {
				t.Fatalf("viewer got record %d at position %d", q, i)
			}
		}
	}
	if st := &out.stats; st.batched.Load() == 0 || st.failures.Load() != 0 {
		t.Fatalf("%d batched, %d failed", st.batched.Load(), st.failures.Load())
	}
}
