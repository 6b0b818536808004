package client

import (
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/pion/transport/v4"
	"github.com/pion/transport/v4/stdnet"
)

// cutNet is the socket layer of a session that owns its API. Kill cuts it before closing the
// PeerConnection, so not one more datagram leaves: no DTLS close_notify, no SCTP ABORT, no
// consent check. The server sees what it would see after kill -9 or a pulled cable.
type cutNet struct {
	*stdnet.Net
	cut atomic.Bool
}

func newCutNet() (*cutNet, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return &cutNet{Net: n}, nil
}

// Cut makes every socket made by n drop what is written to it.
func (n *cutNet) Cut() { n.cut.Store(true) }

// ListenUDP wraps the host-candidate sockets.
func (n *cutNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	fast, _ := c.(*net.UDPConn)
	return &cutConn{UDPConn: c, fast: fast, cut: &n.cut}, nil
}

// ListenPacket wraps relay sockets (used only with TURN servers).
func (n *cutNet) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := n.Net.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}
	return &cutPacketConn{PacketConn: c, cut: &n.cut}, nil
}

// cutConn drops writes once cut. It also offers pion/ice's allocation-free AddrPort methods.
type cutConn struct {
	transport.UDPConn
	fast *net.UDPConn // the same socket when it is a *net.UDPConn, else nil
	cut  *atomic.Bool
}

func (c *cutConn) Write(b []byte) (int, error) {
	if c.cut.Load() {
		return len(b), nil
	}
	return c.UDPConn.Write(b)
}

func (c *cutConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.cut.Load() {
		return len(b), nil
	}
	return c.UDPConn.WriteTo(b, addr)
}

func (c *cutConn) WriteToUDP(b []byte, addr *net.UDPAddr) (int, error) {
	if c.cut.Load() {
		return len(b), nil
	}
	return c.UDPConn.WriteToUDP(b, addr)
}

func (c *cutConn) WriteMsgUDP(b, oob []byte, addr *net.UDPAddr) (int, int, error) {
	if c.cut.Load() {
		return len(b), len(oob), nil
	}
	return c.UDPConn.WriteMsgUDP(b, oob, addr)
}

// WriteToAddrPort is the allocation-free write pion/ice prefers.
func (c *cutConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	switch {
	case c.cut.Load():
		return len(b), nil
	case c.fast != nil:
		return c.fast.WriteToUDPAddrPort(b, addr)
	}
	return c.UDPConn.WriteTo(b, net.UDPAddrFromAddrPort(addr))
}

// ReadFromAddrPort is the allocation-free read pion/ice prefers.
func (c *cutConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	if c.fast != nil {
		return c.fast.ReadFromUDPAddrPort(b)
	}
	n, addr, err := c.UDPConn.ReadFromUDP(b)
	if addr == nil {
		return n, netip.AddrPort{}, err
	}
	return n, addr.AddrPort(), err
}

type cutPacketConn struct {
	net.PacketConn
	cut *atomic.Bool
}

func (c *cutPacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.cut.Load() {
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, addr)
}
