package rtc

import (
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"
)

// countingConn counts the datagrams pion's UDP mux has read from the media socket, and the most
// it held at once that its session had not taken yet.
type countingConn struct {
	*hostConn
	read, taken, most atomic.Int64
}

func (c *countingConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	n, from, err := c.hostConn.ReadFromAddrPort(b)
	if err == nil {
		held := c.read.Add(1) - c.taken.Load()
		for m := c.most.Load(); held > m && !c.most.CompareAndSwap(m, held); m = c.most.Load() {
		}
	}
	return n, from, err
}

// A backlog in the kernel's socket buffer (here: a publisher's burst sent while the media
// goroutines had no processor, as on a busy core) reaches the session one datagram at a time:
// pion's mux never holds more than a couple of datagrams the session has not taken, whereas
// without the yield it moved the whole backlog into its 8 KiB buffers before the session ran
// (the memory of docs/benchmarks.md, core rebuild). One processor, as the benchmark's server.
func TestMuxDrainsBacklogOneAtATime(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := newEgress(u, true)
	if err != nil {
		t.Fatal(err)
	}
	c := &countingConn{hostConn: &hostConn{UDPConn: u, out: out}}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: c})
	defer mux.Close()
	session, err := mux.GetConn("ufrag", u.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()

	// A burst of 64 datagrams, well within the kernel's default socket buffer. Each is a
	// connectivity check naming the session (ICE ufrag): until ICE has confirmed the peer's
	// address, that is how the mux routes a datagram (media would be dropped).
	const burst = 64
	check, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.NewUsername("ufrag:peer"), stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	to := u.LocalAddr().(*net.UDPAddr).AddrPort()
	for i := 0; i < burst; i++ {
		if _, err := peer.WriteToUDPAddrPort(check.Raw, to); err != nil {
			t.Fatal(err)
		}
	}

	stop := time.AfterFunc(10*time.Second, func() { _ = session.Close() }) // failure only
	defer stop.Stop()
	buf := make([]byte, 1500)
	for i := 0; i < burst; i++ {
		if _, _, err := session.ReadFrom(buf); err != nil {
			t.Fatalf("session read %d of %d datagrams: %v", i, burst, err)
		}
		c.taken.Add(1)
	}
	if m := c.most.Load(); m > 4 {
		t.Fatalf("the mux held up to %d datagrams the session had not taken (of a backlog of %d); want at most 4", m, burst)
	}
}
