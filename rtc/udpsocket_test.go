package rtc

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

// One wildcard socket serves every local address as its own endpoint: a datagram sent to
// 127.0.0.2 is read by 127.0.0.2's conn only, and the reply leaves from 127.0.0.2 (not from the
// kernel's choice of source); an address given twice is one endpoint; a datagram to an address not
// announced is dropped and counted. (Every 127/8 address is local on Linux.)
func TestUDPSocketReadsAndRepliesPerAddress(t *testing.T) {
	one, two := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	order := []netip.Addr{one, two, one}
	s, err := openUDPSocket(0, order, true)
	if err != nil {
		t.Fatal(err)
	}
	conns := s.conns(order)
	if len(conns) != 2 {
		t.Fatalf("%d conns for %v, want 2 (duplicates are one endpoint)", len(conns), order)
	}
	port := uint16(conns[0].LocalAddr().(*net.UDPAddr).Port)
	if p := conns[1].LocalAddr().(*net.UDPAddr).Port; uint16(p) != port || port == 0 {
		t.Fatalf("ports %d and %d: want one shared non-zero port", port, p)
	}

	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	buf := make([]byte, 64)
	for i, l := range conns {
		local := netip.AddrPortFrom(l.addr.AddrPort().Addr(), port)
		msg := []byte{'p', byte(i)}
		if _, err := peer.WriteToUDPAddrPort(msg, local); err != nil {
			t.Fatal(err)
		}
		n, from, err := l.ReadFromAddrPort(buf)
		if err != nil || string(buf[:n]) != string(msg) {
			t.Fatalf("%v read %q, %v; want %q", local, buf[:n], err, msg)
		}
		if _, err := l.WriteToAddrPort([]byte{'r', byte(i)}, from); err != nil {
			t.Fatal(err)
		}
		_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, src, err := peer.ReadFromUDPAddrPort(buf)
		if err != nil || string(buf[:n]) != string([]byte{'r', byte(i)}) {
			t.Fatalf("reply: %q, %v", buf[:n], err)
		}
		if src.Addr().Unmap() != local.Addr() || src.Port() != port {
			t.Fatalf("reply to a datagram sent to %v came from %v", local, src)
		}
	}

	// 127.0.0.3 is local but not announced: dropped, and the next datagram to 127.0.0.1 is the
	// next one its conn reads.
	stray := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.3"), port)
	if _, err := peer.WriteToUDPAddrPort([]byte("stray"), stray); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.WriteToUDPAddrPort([]byte("next"), netip.AddrPortFrom(one, port)); err != nil {
		t.Fatal(err)
	}
	if n, _, err := conns[0].ReadFromAddrPort(buf); err != nil || string(buf[:n]) != "next" {
		t.Fatalf("after a stray datagram 127.0.0.1 read %q, %v", buf[:n], err)
	}
	if got := s.stray.Load(); got != 1 {
		t.Fatalf("stray = %d, want 1", got)
	}
	select {
	case d := <-conns[1].queue:
		t.Fatalf("127.0.0.2 was handed %q", d.buf[:d.n])
	default:
	}

	// Writes from a conn allocate nothing (they run once per packet per viewer); they go to peer.
	to := netip.AddrPortFrom(one, uint16(peer.LocalAddr().(*net.UDPAddr).Port))
	pkt := make([]byte, 1200)
	if a := testing.AllocsPerRun(100, func() { _, _ = conns[0].WriteToAddrPort(pkt, to) }); a != 0 {
		t.Errorf("WriteToAddrPort: %v allocations, want 0", a)
	}

	// Closing one conn ends its reads only; closing the socket ends every conn's and its reader.
	_ = conns[1].Close()
	if _, _, err := conns[1].ReadFromAddrPort(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	if _, err := conns[1].WriteToAddrPort(buf[:1], to); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := conns[0].ReadFromAddrPort(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after socket close: %v", err)
	}
}
