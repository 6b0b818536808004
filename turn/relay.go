package turn

import (
	"errors"
	"log/slog"
	"net"
	"slices"
	"sync/atomic"

	pturn "github.com/pion/turn/v5"
)

// errNotWisp is what a relay socket answers a write to anywhere but wisp's media address.
var errNotWisp = errors.New("turn: relaying only to wisp's media address")

// errNoTCPRelay refuses RFC 6062 TCP allocations: wisp's media is relayed over UDP only.
var errNoTCPRelay = errors.New("turn: TCP relays are not offered")

// relayGenerator makes the relay sockets of allocations, each confined to wisp's media address,
// and is the permission handler that refuses any other peer (pturn.RelayAddressGenerator).
type relayGenerator struct {
	// set at construction
	media  *net.UDPAddr
	public []net.IP
	log    *slog.Logger

	refused atomic.Int64 // permissions refused and packets dropped
}

func newRelayGenerator(media *net.UDPAddr, public []net.IP, log *slog.Logger) *relayGenerator {
	return &relayGenerator{media: media, public: public, log: log}
}

// Validate implements pturn.RelayAddressGenerator.
func (g *relayGenerator) Validate() error { return nil }

// AllocatePacketConn opens a relay socket on the media IP; the allocation's address is its own.
func (g *relayGenerator) AllocatePacketConn(conf pturn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	if conf.Network != "udp4" {
		return nil, nil, errNoTCPRelay
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: g.media.IP, Port: conf.RequestedPort})
	if err != nil {
		return nil, nil, err
	}
	return &confined{UDPConn: c, g: g}, c.LocalAddr(), nil
}

// AllocateListener refuses TCP relays.
func (g *relayGenerator) AllocateListener(pturn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errNoTCPRelay
}

// AllocateConn refuses TCP relays.
func (g *relayGenerator) AllocateConn(pturn.AllocateConnConfig) (net.Conn, error) {
	return nil, errNoTCPRelay
}

// permit is the permission handler (CreatePermission, ChannelBind): only wisp's media IP or its
// public IPs; the port is checked on every packet (confined.WriteTo).
func (g *relayGenerator) permit(client net.Addr, peer net.IP) bool {
	if g.mediaIP(peer) {
		return true
	}
	g.refused.Add(1)
	g.log.Debug("TURN permission refused", "client", client.String(), "peer", peer.String())
	return false
}

// mediaIP reports whether ip is wisp's media IP or one of its public IPs.
func (g *relayGenerator) mediaIP(ip net.IP) bool {
	return ip.Equal(g.media.IP) || slices.ContainsFunc(g.public, ip.Equal)
}

// confined is a relay socket that sends only to wisp's media address: a public IP of wisp on the
// media port goes to the media socket itself, and the media socket's answers are reported as
// coming from the first public IP (so the client's permission and ICE checks match).
type confined struct {
	*net.UDPConn
	g *relayGenerator
}

// WriteTo sends p to wisp's media socket if addr is wisp's media address, else drops it.
func (c *confined) WriteTo(p []byte, addr net.Addr) (int, error) {
	u, ok := addr.(*net.UDPAddr)
	if !ok || u.Port != c.g.media.Port || !c.g.mediaIP(u.IP) {
		c.g.refused.Add(1)
		return 0, errNotWisp
	}
	return c.UDPConn.WriteTo(p, c.g.media)
}

// ReadFrom reads the next packet, reporting wisp's media socket as its first public address.
func (c *confined) ReadFrom(p []byte) (int, net.Addr, error) {
	n, from, err := c.UDPConn.ReadFrom(p)
	if err == nil && len(c.g.public) > 0 {
		if u, ok := from.(*net.UDPAddr); ok && u.Port == c.g.media.Port && u.IP.Equal(c.g.media.IP) {
			from = &net.UDPAddr{IP: c.g.public[0], Port: u.Port}
		}
	}
	return n, from, err
}
