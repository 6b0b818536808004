package rtc

import (
	"net"
	"net/netip"
	"testing"
)

// BenchmarkEgress is one 1200-byte SRTP datagram written through a localConn of the shared
// socket, as pion's mux writes it, in fan-out passes of 200 (one packet to 200 viewers): "direct"
// outside any pass (one sendmsg each, as before batching), "batched" inside passes (sendmmsg of
// egressBatch, and the rest at the pass's end); and "relay", one 100-byte DTLS record in relay
// windows of 200 (one relayed message to 200 viewers: beginRelay, the records, endRelay; the
// 200th record sends the rest). One op is one datagram; allocs/op must be 0.
// The sink drains nothing: the kernel drops what overflows its buffer, the same either way.
func BenchmarkEgress(b *testing.B) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	to := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	pkt := rtpDatagram(1, 1200)
	const pass = 200
	record := make([]byte, 100)
	record[0] = 23 // DTLS application data
	for _, name := range []string{"direct", "batched", "relay"} {
		batched, relay := name == "batched", name == "relay"
		pkt := pkt
		if relay {
			pkt = record
		}
		b.Run(name, func(b *testing.B) {
			lo := netip.MustParseAddr("127.0.0.1")
			s, err := openUDPSocket(0, []netip.Addr{lo}, true)
			if err != nil {
				b.Fatal(err)
			}
			defer s.close()
			l := s.locals[lo]
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			i := 0
			for b.Loop() {
				if batched && i%pass == 0 {
					s.out.begin()
				}
				if relay && i%pass == 0 {
					s.out.beginRelay(pass)
				}
				if _, err := l.WriteToAddrPort(pkt, to); err != nil {
					b.Fatal(err)
				}
				if i++; batched && i%pass == 0 {
					s.out.end()
				}
				if relay && i%pass == 0 {
					s.out.endRelay(pass, pass)
				}
			}
			if relay && i%pass != 0 {
				s.out.endRelay(pass, i%pass)
			}
			if batched && i%pass != 0 {
				s.out.end()
			}
			st := &s.out.stats
			b.ReportMetric(float64(st.direct.Load()+st.calls.Load())/float64(i), "syscalls/op")
		})
	}
}
