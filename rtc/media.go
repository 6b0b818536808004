package rtc

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strconv"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// mediaBuffer is the kernel buffer asked for on the shared media socket, both ways: every session
// shares it, and a publisher's keyframe burst must not overflow it while the fan-out has the CPU
// (the kernel caps it at net.core.rmem_max / wmem_max).
const mediaBuffer = 4 << 20

// MediaConfig says where the media sockets listen.
type MediaConfig struct {
	// Host binds the sockets to one IPv4 address; "" means every interface (loopback included).
	Host string
	// Port is the UDP port all sessions share (ICE UDP mux); 0 picks a free one.
	Port int
	// TCP also opens an ICE-TCP listener on the same port number, as a fallback.
	TCP bool
	// Batch lets the UDP socket send in sendmmsg batches (see egress): the SRTP and DTLS records
	// written during fan-out passes (BeginPass/EndPass). Linux only.
	Batch bool
	// Logger receives the UDP muxes' pion logs as APIConfig.Logger does. Nil keeps pion's
	// default (errors to stderr).
	Logger *slog.Logger
}

// Media is the one UDP socket (and optional ICE-TCP listener) that carries every session's media.
type Media struct {
	UDP ice.UDPMux
	TCP ice.TCPMux // nil without ICE-TCP

	shared *udpSocket // the wildcard socket under UDP when Host is ""
	out    *egress    // the UDP socket's sending side (either mode)
}

// OpenMedia opens the media sockets; Close releases them.
//
// With a Host, one UDP socket is bound to it. Without, one UDP socket is bound to 0.0.0.0 and
// shared as one ICE endpoint per IPv4 address of every interface that is up, loopback included
// (see udpSocket): candidates name each address once, and each reply leaves from the address the
// peer sent to. It starts in any interface configuration: the same address on two interfaces,
// loopback only, any number of addresses. Addresses are read once, at start.
func OpenMedia(cfg MediaConfig) (*Media, error) {
	m := &Media{}
	if cfg.Host != "" {
		addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
		conn, err := net.ListenPacket("udp4", addr)
		if err != nil {
			return nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		u := conn.(*net.UDPConn) // "udp4" always gives one
		_ = u.SetReadBuffer(mediaBuffer)
		_ = u.SetWriteBuffer(mediaBuffer)
		out, err := newEgress(u, cfg.Batch)
		if err != nil {
			_ = u.Close()
			return nil, err
		}
		m.UDP, m.out = webrtc.NewICEUDPMux(nil, &hostConn{UDPConn: u, out: out}), out
	} else {
		addrs, err := interfaceAddrs()
		if err != nil {
			return nil, fmt.Errorf("media addresses: %w", err)
		}
		if err := m.openShared(cfg, addrs); err != nil {
			return nil, err
		}
	}
	if cfg.TCP {
		addr := net.JoinHostPort(cfg.Host, strconv.Itoa(m.Port()))
		l, err := net.Listen("tcp4", addr)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("listen tcp %s: %w", addr, err)
		}
		m.TCP = webrtc.NewICETCPMux(nil, l, 8)
	}
	return m, nil
}

// openShared opens the wildcard socket with one pion UDP mux per address in addrs.
func (m *Media) openShared(cfg MediaConfig, addrs []netip.Addr) error {
	if len(addrs) == 0 {
		return fmt.Errorf("listen udp :%d: no IPv4 address on any interface that is up", cfg.Port)
	}
	s, err := openUDPSocket(cfg.Port, addrs, cfg.Batch)
	if err != nil {
		return err
	}
	var logs *pionLogs
	if cfg.Logger != nil {
		logs = newPionLogs(cfg.Logger)
	}
	var muxes []ice.UDPMux
	for _, l := range s.conns(addrs) {
		p := ice.UDPMuxParams{UDPConn: l}
		if logs != nil {
			p.Logger = logs.NewLogger("ice")
		}
		muxes = append(muxes, ice.NewUDPMuxDefault(p))
	}
	m.UDP, m.shared, m.out = ice.NewMultiUDPMuxDefault(muxes...), s, s.out
	return nil
}

// BeginPass says a fan-out pass starts (stream.Egress): until it ends, the SRTP media written to
// the UDP socket may be held and sent in batches.
func (m *Media) BeginPass() {
	if m.out != nil {
		m.out.begin()
	}
}

// EndPass says a fan-out pass has ended: what it queued is sent now (stream.Egress).
func (m *Media) EndPass() {
	if m.out != nil {
		m.out.end()
	}
}

// BeginRelay says the data relay's goroutine is about to hand one message to n viewers' data
// channels (datarelay.Egress): the DTLS records their SCTP associations write join a batch, which
// leaves as soon as every record expected has joined it (see EndRelay).
func (m *Media) BeginRelay(n int) {
	if m.out != nil {
		m.out.beginRelay(n)
	}
}

// EndRelay says the hand-off begun with BeginRelay(n) is done and expected of the n viewers will
// write their record at once; when no record is owed any more, the batch leaves.
func (m *Media) EndRelay(n, expected int) {
	if m.out != nil {
		m.out.endRelay(n, expected)
	}
}

// EgressStats is how the UDP socket has sent its datagrams.
type EgressStats struct {
	// Direct datagrams went one per syscall (sendto/sendmsg).
	Direct uint64
	// Batched datagrams went in sendmmsg calls, BatchCalls of them.
	Batched, BatchCalls uint64
	// BatchFailures are batched datagrams the kernel refused.
	BatchFailures uint64
	// RelayWindows is how often the data relay's records were collected (BeginRelay), and
	// RelayGuardClosed how many of those windows a record expected never joined (the guard
	// closed them).
	RelayWindows, RelayGuardClosed uint64
}

// EgressStats returns the UDP socket's send counters.
func (m *Media) EgressStats() EgressStats {
	if m.out == nil {
		return EgressStats{}
	}
	st := &m.out.stats
	m.out.mu.Lock()
	windows, guardClosed := m.out.windows, m.out.guardClosed
	m.out.mu.Unlock()
	return EgressStats{Direct: st.direct.Load(), Batched: st.batched.Load(), BatchCalls: st.calls.Load(),
		BatchFailures: st.failures.Load(), RelayWindows: windows, RelayGuardClosed: guardClosed}
}

// hostConn is the socket of -ice-host (one bound address) with its writes through egress. pion's
// mux uses its AddrPort methods (a wrapper of *net.UDPConn must offer them itself).
type hostConn struct {
	*net.UDPConn
	out *egress
}

// ReadFromAddrPort reads the next datagram, after letting the session the previous one went to
// take it (see yieldToSessions).
func (c *hostConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	yieldToSessions()
	n, from, err := c.ReadFromUDPAddrPort(b)
	return n, netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), err
}

// WriteToAddrPort sends b to addr (SRTP media of a fan-out pass in the pass's batch).
func (c *hostConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	return c.out.write(b, nil, netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()))
}

// WriteTo is WriteToAddrPort for net.PacketConn.
func (c *hostConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	u, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("write to %v: not a UDP address", addr)
	}
	return c.WriteToAddrPort(b, u.AddrPort())
}

// yieldToSessions lets the goroutines the previous datagram woke run before pion's UDP mux reads
// the next one. The mux copies every datagram into a buffer of 8 KiB (its receive MTU) queued
// without bound for the session's ICE read loop, which passes it on through DTLS/SRTP to the
// packetio buffers the publisher's read loop drains. A goroutine that wakes another keeps the
// processor until it blocks (the woken one only goes next), and the mux blocks only when the
// kernel's socket buffer is empty: so after any pause (a GC, a burst of keyframes from several
// publishers, a busy core) it moved the whole backlog, thousands of datagrams, into 8 KiB
// buffers before any session ran, and the SRTP buffers then grew to hold it too. Those peaks
// stayed allocated (pion pools its buffers; packetio buffers never shrink): about 1.4 MB per
// publisher (docs/benchmarks.md, core rebuild). Yielding per datagram keeps the backlog in the
// kernel's buffer, where it costs its size, and the sessions drain each datagram as it arrives;
// it costs one scheduler call per datagram against one system call.
func yieldToSessions() { runtime.Gosched() }

// interfaceAddrs returns every IPv4 address of every interface that is up, loopback included,
// each once (an address on two interfaces is one ICE endpoint), in the order the system lists
// them (pion's own order for host candidates).
func interfaceAddrs() ([]netip.Addr, error) {
	ifcs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, ifc := range ifcs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue // the interface went away meanwhile
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if ip = ip.Unmap(); !ok || !ip.Is4() || seen[ip] {
				continue
			}
			seen[ip] = true
			out = append(out, ip)
		}
	}
	return out, nil
}

// Port is the UDP port bound (the configured one, or the one chosen for port 0).
func (m *Media) Port() int {
	for _, a := range m.UDP.GetListenAddresses() {
		if u, ok := a.(*net.UDPAddr); ok {
			return u.Port
		}
	}
	return 0
}

// Close releases the sockets.
func (m *Media) Close() {
	if m.out != nil {
		m.out.stop()
	}
	if m.UDP != nil {
		_ = m.UDP.Close()
	}
	if m.shared != nil {
		_ = m.shared.close()
	}
	if m.TCP != nil {
		_ = m.TCP.Close()
	}
}
