package rtc

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
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
	// Logger receives the UDP muxes' pion logs as APIConfig.Logger does. Nil keeps pion's
	// default (errors to stderr).
	Logger *slog.Logger
}

// Media is the one UDP socket (and optional ICE-TCP listener) that carries every session's media.
type Media struct {
	UDP ice.UDPMux
	TCP ice.TCPMux // nil without ICE-TCP

	shared *udpSocket // the wildcard socket under UDP when Host is ""
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
		if u, ok := conn.(*net.UDPConn); ok {
			_ = u.SetReadBuffer(mediaBuffer)
			_ = u.SetWriteBuffer(mediaBuffer)
		}
		m.UDP = webrtc.NewICEUDPMux(nil, conn)
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
	s, err := openUDPSocket(cfg.Port, addrs)
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
	m.UDP, m.shared = ice.NewMultiUDPMuxDefault(muxes...), s
	return nil
}

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
