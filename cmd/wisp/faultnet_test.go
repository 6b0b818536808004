package main

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v4"
	"github.com/pion/transport/v4/stdnet"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// faultNet is the socket layer of a test peer on a bad network: every UDP datagram, in either
// direction, is lost with probability loss (a seeded random, so a run can be repeated) and the
// survivors are delayed by delay. Dead drops everything, as when a cable is pulled. It stands in
// for netem, which this kernel lacks; it sits under pion's ICE, so ICE, DTLS, SRTP, RTCP (NACK,
// PLI) and SCTP all cross the same faulty path.
type faultNet struct {
	*stdnet.Net
	loss  float64
	delay time.Duration
	dead  atomic.Bool

	mu  sync.Mutex
	rnd *rand.Rand // guarded by mu

	lost, passed atomic.Int64
	alerts       atomic.Int64 // DTLS alert records received (content type 21, RFC 6347 §4.1)
}

func newFaultNet(t testing.TB, seed uint64, loss float64, delay time.Duration) *faultNet {
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	return &faultNet{Net: n, loss: loss, delay: delay, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// drop decides the fate of one datagram.
func (n *faultNet) drop() bool {
	if n.dead.Load() {
		n.lost.Add(1)
		return true
	}
	n.mu.Lock()
	lost := n.rnd.Float64() < n.loss
	n.mu.Unlock()
	if lost {
		n.lost.Add(1)
	} else {
		n.passed.Add(1)
	}
	return lost
}

// api is a pion API like client.NewLoopbackAPI's (default codecs and interceptors, IPv4 UDP host
// candidates with loopback, mDNS off) on this faulty socket layer.
func (n *faultNet) api(t testing.TB) *webrtc.API { return netAPI(t, n) }

// netAPI is a pion API like client.NewLoopbackAPI's on the socket layer n.
func netAPI(t testing.TB, n transport.Net) *webrtc.API {
	api, err := client.NewAPI(client.APIOptions{Net: n})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// ListenUDP wraps the host-candidate sockets.
func (n *faultNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	fc := &faultConn{UDPConn: c, n: n, in: make(chan datagram, 4096), out: make(chan datagram, 4096), closed: make(chan struct{})}
	fc.wg.Add(2)
	go fc.readLoop()
	go fc.writeLoop()
	return fc, nil
}

type datagram struct {
	b   []byte
	to  net.Addr // destination (out) or source (in)
	due time.Time
}

// faultConn applies its faultNet's loss and delay to one socket. Two goroutines, owned by the
// conn and ended by Close, move datagrams: readLoop from the socket to in, writeLoop from out to
// the socket; both queues are FIFO with one fixed delay, so order is kept.
type faultConn struct {
	transport.UDPConn
	n         *faultNet
	in, out   chan datagram
	closed    chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

func (c *faultConn) readLoop() {
	defer c.wg.Done()
	defer close(c.in)
	buf := make([]byte, 1500)
	for {
		k, from, err := c.UDPConn.ReadFrom(buf)
		if err != nil {
			return
		}
		if c.n.drop() {
			continue
		}
		if k > 0 && buf[0] == 21 {
			c.n.alerts.Add(1)
		}
		select {
		case c.in <- datagram{append([]byte(nil), buf[:k]...), from, time.Now().Add(c.n.delay)}:
		default: // a full queue is a congested link: lost
		}
	}
}

func (c *faultConn) writeLoop() {
	defer c.wg.Done()
	for {
		select {
		case d := <-c.out:
			if !wait(d.due, c.closed) {
				return
			}
			_, _ = c.UDPConn.WriteTo(d.b, d.to)
		case <-c.closed:
			return
		}
	}
}

// wait sleeps until t unless stop closes first; it reports whether t was reached.
func wait(t time.Time, stop <-chan struct{}) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-stop:
		return false
	}
}

// ReadFrom returns the next datagram once its delay has passed.
func (c *faultConn) ReadFrom(b []byte) (int, net.Addr, error) {
	d, ok := <-c.in
	if !ok || !wait(d.due, c.closed) {
		return 0, nil, net.ErrClosed
	}
	return copy(b, d.b), d.to, nil
}

// WriteTo queues b for sending after the delay, unless it is lost.
func (c *faultConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.n.drop() {
		return len(b), nil
	}
	select {
	case c.out <- datagram{append([]byte(nil), b...), addr, time.Now().Add(c.n.delay)}:
	case <-c.closed:
		return 0, net.ErrClosed
	default: // congested: lost
	}
	return len(b), nil
}

// Close closes the socket and waits for the conn's goroutines.
func (c *faultConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		err = c.UDPConn.Close()
		c.wg.Wait()
	})
	return err
}
