package rtc

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
)

// Why one wildcard socket. pion's usual way to serve every interface is one UDP socket per
// interface address (ice.NewMultiUDPMuxFromPort). That refuses to start when one address sits on
// two interfaces (bind: address already in use: 127.0.0.1 on lo and on a veth in a network
// namespace; a load balancer's virtual IP on lo), and needs a socket and a goroutine per address.
// Binding 0.0.0.0 once always starts, but a plain wildcard socket loses two things ICE needs:
// which local address a datagram came in on (each host candidate is its own ICE endpoint), and
// sending from that address (a reply from any other source fails the peer's connectivity check,
// RFC 8445 §7.2.5.2.1; the kernel would pick the route's preferred source, not a secondary
// address or a virtual IP). IP_PKTINFO gives both: every datagram read carries its destination
// address, and every datagram written carries the source address to use.
//
// So udpSocket is one wildcard socket split into one localConn per local address. Each localConn
// is a net.PacketConn that reads only the datagrams sent to its address and writes from that
// address; pion runs one ice.UDPMuxDefault on each, exactly as it would on a socket bound to the
// address, and ice.MultiUDPMuxDefault joins them. The same address on two interfaces is one
// localConn; the kernel delivers its datagrams to the one socket whichever interface they came by.

// receiveMTU is the largest datagram read, as in pion's UDP mux (larger ones are truncated).
const receiveMTU = 8192

// localQueue bounds the datagrams read for one address that its mux has not taken yet. The
// mux only hands each datagram to its session's buffer, so the queue is short-lived; when it is
// full the reader waits, and the kernel's socket buffer (mediaBuffer) absorbs the burst, as it
// does for a socket per address.
const localQueue = 128

// udpSocket is one wildcard-bound UDP socket shared by one localConn per local address.
type udpSocket struct {
	conn   *net.UDPConn
	out    *egress                   // every localConn's writes (batched during fan-out passes)
	locals map[netip.Addr]*localConn // fixed at open
	pool   sync.Pool                 // *datagram
	dead   chan struct{}             // closed when the reader has exited (socket closed or failed)

	// stray counts datagrams to a local address that is not announced (added after start,
	// broadcast): dropped, as a socket bound per address would never have read them.
	stray atomic.Uint64
}

// datagram is one datagram read, on its way to its localConn.
type datagram struct {
	buf  [receiveMTU]byte
	n    int
	from netip.AddrPort
}

// openUDPSocket binds 0.0.0.0:port, asks for each datagram's destination address, and makes a
// localConn for each of addrs (IPv4, duplicates ignored); batch says whether its egress batches.
// It starts the one reader goroutine, which exits when close is called.
func openUDPSocket(port int, addrs []netip.Addr, batch bool) (*udpSocket, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero, Port: port})
	if err != nil {
		return nil, fmt.Errorf("listen udp 0.0.0.0:%d: %w", port, err)
	}
	_ = conn.SetReadBuffer(mediaBuffer)
	_ = conn.SetWriteBuffer(mediaBuffer)
	if err := ipv4.NewPacketConn(conn).SetControlMessage(ipv4.FlagDst, true); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("udp 0.0.0.0:%d: ask for destination addresses (IP_PKTINFO): %w", port, err)
	}
	out, err := newEgress(conn, batch)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	bound := conn.LocalAddr().(*net.UDPAddr).Port
	s := &udpSocket{conn: conn, out: out, locals: make(map[netip.Addr]*localConn, len(addrs)), dead: make(chan struct{})}
	s.pool.New = func() any { return new(datagram) }
	for _, a := range addrs {
		a = a.Unmap()
		if !a.Is4() || s.locals[a] != nil {
			continue
		}
		oob := (&ipv4.ControlMessage{Src: a.AsSlice()}).Marshal()
		s.locals[a] = &localConn{
			s: s, addr: &net.UDPAddr{IP: a.AsSlice(), Port: bound}, oob: oob,
			queue: make(chan *datagram, localQueue), closed: make(chan struct{}),
		}
	}
	go s.read()
	return s, nil
}

// read hands each datagram to the localConn of the address it was sent to, until the socket is
// closed.
func (s *udpSocket) read() {
	defer close(s.dead)
	oob := ipv4.NewControlMessage(ipv4.FlagDst)
	var cm ipv4.ControlMessage
	for {
		d := s.pool.Get().(*datagram)
		n, oobn, _, from, err := s.conn.ReadMsgUDPAddrPort(d.buf[:], oob)
		if err != nil {
			s.pool.Put(d)
			if isTemporary(err) {
				continue
			}
			return // closed (or broken: every localConn then reports it closed)
		}
		cm.Dst = cm.Dst[:0]
		if err := cm.Parse(oob[:oobn]); err != nil || len(cm.Dst) < net.IPv4len {
			s.pool.Put(d)
			s.stray.Add(1)
			continue
		}
		dst, _ := netip.AddrFromSlice(cm.Dst.To4())
		l := s.locals[dst]
		if l == nil {
			s.pool.Put(d)
			s.stray.Add(1)
			continue
		}
		d.n, d.from = n, netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		select {
		case l.queue <- d:
		case <-l.closed:
			s.pool.Put(d)
		}
	}
}

// isTemporary reports a read error worth retrying (none is expected on an unconnected UDP socket
// but a timeout, and no deadline is set; a closed socket is final).
func isTemporary(err error) bool {
	var ne net.Error
	return !errors.Is(err, net.ErrClosed) && errors.As(err, &ne) && ne.Timeout()
}

// conns returns the localConns in the order of the addresses given (the order candidates are
// announced in), each once.
func (s *udpSocket) conns(order []netip.Addr) []*localConn {
	out := make([]*localConn, 0, len(s.locals))
	seen := make(map[netip.Addr]bool, len(s.locals))
	for _, a := range order {
		a = a.Unmap()
		if l := s.locals[a]; l != nil && !seen[a] {
			seen[a] = true
			out = append(out, l)
		}
	}
	return out
}

// close closes the socket and waits for the reader to exit.
func (s *udpSocket) close() error {
	err := s.conn.Close()
	<-s.dead
	return err
}

// localConn is the share of a udpSocket for one local address: a net.PacketConn (and pion's
// allocation-free ice.AddrPortReaderWriter) that reads the datagrams sent to the address and
// writes from it.
type localConn struct {
	s     *udpSocket
	addr  *net.UDPAddr // the local address and the socket's port
	oob   []byte       // IP_PKTINFO naming addr as the source, built once: writes allocate nothing
	queue chan *datagram

	closeOnce sync.Once
	closed    chan struct{}
}

// ReadFromAddrPort returns the next datagram sent to this address, after letting the session
// the previous one went to take it (see yieldToSessions).
func (l *localConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	yieldToSessions()
	select {
	case d := <-l.queue:
		n, from := copy(b, d.buf[:d.n]), d.from
		l.s.pool.Put(d)
		return n, from, nil
	case <-l.closed:
	case <-l.s.dead:
	}
	return 0, netip.AddrPort{}, net.ErrClosed
}

// WriteToAddrPort sends b to addr from this address (SRTP media of a fan-out pass in the pass's
// batch: see egress).
func (l *localConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	select {
	case <-l.closed:
		return 0, net.ErrClosed
	default:
	}
	return l.s.out.write(b, l.oob, netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()))
}

// ReadFrom is ReadFromAddrPort for net.PacketConn.
func (l *localConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := l.ReadFromAddrPort(b)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// WriteTo is WriteToAddrPort for net.PacketConn.
func (l *localConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	u, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("write to %v: not a UDP address", addr)
	}
	return l.WriteToAddrPort(b, u.AddrPort())
}

// Close stops this address's reads and writes; the shared socket stays open until
// udpSocket.close.
func (l *localConn) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

// LocalAddr is the local address and the shared port.
func (l *localConn) LocalAddr() net.Addr { return l.addr }

// SetDeadline, SetReadDeadline and SetWriteDeadline are not supported: the socket is shared, so
// one session's deadline must not cut off the others. pion's UDP mux sets a write deadline only
// to abort a write whose context ended; it logs the error and the write completes (a UDP write
// waits only while the kernel's send buffer is full).
func (l *localConn) SetDeadline(time.Time) error { return errNoDeadline }

// SetReadDeadline: see SetDeadline.
func (l *localConn) SetReadDeadline(time.Time) error { return errNoDeadline }

// SetWriteDeadline: see SetDeadline.
func (l *localConn) SetWriteDeadline(time.Time) error { return errNoDeadline }

var errNoDeadline = errors.New("deadlines are not supported on a shared media socket")
