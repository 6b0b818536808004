package main

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pion/transport/v4"
	"github.com/pion/transport/v4/stdnet"
)

// moveNet is the socket layer of a viewer whose network changes under it, as when a phone moves
// from Wi-Fi to LTE: the viewer has one interface with one IPv4 address, and its sockets bind to
// that address. move kills every socket made so far (each datagram either way is dropped; the
// socket stays open, as it does when the old network silently vanishes) and gives the interface a
// new address, which the sockets made from then on bind to.
//
// The interface is the host's loopback interface, lent its index and flags but shown with one
// address only. Every 127/8 address is local on Linux, so a viewer moved to 127.0.0.2 can still
// reach wisp's media socket on 127.0.0.1, from a source address wisp has never seen.
type moveNet struct {
	*stdnet.Net
	lo net.Interface

	mu    sync.Mutex
	ip    net.IP      // guarded by mu
	conns []*moveConn // guarded by mu
}

func newMoveNet(t testing.TB, ip net.IP) *moveNet {
	t.Helper()
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	ifcs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifc := range ifcs {
		if ifc.Flags&net.FlagLoopback != 0 && ifc.Flags&net.FlagUp != 0 {
			return &moveNet{Net: n, lo: ifc, ip: ip}
		}
	}
	t.Fatal("no loopback interface")
	return nil
}

// Interfaces shows the loopback interface with the current address only.
func (n *moveNet) Interfaces() ([]*transport.Interface, error) {
	n.mu.Lock()
	ip := n.ip
	n.mu.Unlock()
	ifc := transport.NewInterface(n.lo)
	ifc.AddAddress(&net.IPNet{IP: ip, Mask: net.CIDRMask(8, 32)})
	return []*transport.Interface{ifc}, nil
}

// InterfaceByIndex is Interfaces' interface looked up by index.
func (n *moveNet) InterfaceByIndex(index int) (*transport.Interface, error) {
	return n.interfaceWhere(func(ifc *transport.Interface) bool { return ifc.Index == index })
}

// InterfaceByName is Interfaces' interface looked up by name.
func (n *moveNet) InterfaceByName(name string) (*transport.Interface, error) {
	return n.interfaceWhere(func(ifc *transport.Interface) bool { return ifc.Name == name })
}

func (n *moveNet) interfaceWhere(match func(*transport.Interface) bool) (*transport.Interface, error) {
	ifcs, _ := n.Interfaces()
	if match(ifcs[0]) {
		return ifcs[0], nil
	}
	return nil, transport.ErrInterfaceNotFound
}

// ListenUDP makes the host-candidate sockets (mDNS is off and there is no TURN, so pion's ICE
// opens no others).
func (n *moveNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	mc := &moveConn{UDPConn: c}
	n.mu.Lock()
	n.conns = append(n.conns, mc)
	n.mu.Unlock()
	return mc, nil
}

// move kills every socket made so far, returns them, and makes ip the interface's address.
func (n *moveNet) move(ip net.IP) []*moveConn {
	n.mu.Lock()
	defer n.mu.Unlock()
	old := n.conns
	n.conns, n.ip = nil, ip
	for _, c := range old {
		c.dead.Store(true)
	}
	return old
}

// moveConn is one socket of a moveNet. pion/ice reads and writes a host candidate's socket only
// through ReadFrom and WriteTo (its allocation-free AddrPort path is taken for a bare
// *net.UDPConn only), so those two are all a dead socket has to silence.
type moveConn struct {
	transport.UDPConn
	dead                  atomic.Bool
	in, out               atomic.Int64 // datagrams passed
	droppedIn, droppedOut atomic.Int64 // datagrams dropped once dead
}

// ReadFrom returns the next datagram, discarding all of them once the socket is dead.
func (c *moveConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		k, from, err := c.UDPConn.ReadFrom(b)
		if err != nil || !c.dead.Load() {
			if err == nil {
				c.in.Add(1)
			}
			return k, from, err
		}
		c.droppedIn.Add(1)
	}
}

// WriteTo sends b, or drops it once the socket is dead.
func (c *moveConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.dead.Load() {
		c.droppedOut.Add(1)
		return len(b), nil
	}
	c.out.Add(1)
	return c.UDPConn.WriteTo(b, addr)
}
