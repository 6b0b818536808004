package rtc

import (
	"net"
	"net/netip"
	"testing"
)

// BenchmarkMediaWrite compares one 1200-byte datagram sent on a socket bound to 127.0.0.1
// (sendto, the -ice-host path) with one sent through a localConn of the shared wildcard socket
// (sendmsg carrying IP_PKTINFO, the default path). The receiver drains nothing: the kernel drops
// what overflows its buffer, which costs the sender the same either way.
func BenchmarkMediaWrite(b *testing.B) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	to := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	pkt := make([]byte, 1200)

	b.Run("bound", func(b *testing.B) {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		b.ReportAllocs()
		b.SetBytes(int64(len(pkt)))
		for b.Loop() {
			if _, err := c.WriteToUDPAddrPort(pkt, to); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("shared", func(b *testing.B) {
		lo := netip.MustParseAddr("127.0.0.1")
		s, err := openUDPSocket(0, []netip.Addr{lo}, true)
		if err != nil {
			b.Fatal(err)
		}
		defer s.close()
		l := s.locals[lo]
		b.ReportAllocs()
		b.SetBytes(int64(len(pkt)))
		for b.Loop() {
			if _, err := l.WriteToAddrPort(pkt, to); err != nil {
				b.Fatal(err)
			}
		}
	})
}
