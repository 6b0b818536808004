package main

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v4"
	"github.com/pion/transport/v4/stdnet"
)

// countNet is the socket layer of one viewer. Every SRTP packet that arrives is counted from its
// header, which SRTP leaves in the clear (RFC 3711 §3.1): bytes, packets, and sequence gaps per
// SSRC. Once swallow is set, SRTP packets stop there: pion never decrypts or parses them, so one
// core drives hundreds of viewers. ICE, DTLS, SCTP (data channel) and SRTCP still go through.
type countNet struct {
	*stdnet.Net
	swallow atomic.Bool
	c       counter
	// twcc, when set (-twcc with -count), records every SRTP packet's transport-wide sequence
	// number for the viewer's feedback (twcc.go). Set before the first packet.
	twcc *twccFeedback
	// feedback counts the transport-cc feedback datagrams the viewer sent, whoever built them.
	feedback atomic.Int64
}

func newCountNet() (*countNet, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return &countNet{Net: n}, nil
}

// ListenUDP wraps the host-candidate sockets.
func (n *countNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	fast, _ := c.(*net.UDPConn)
	if fast != nil {
		_ = fast.SetReadBuffer(1 << 20) // room for a fast-start burst while this core is busy
	}
	return &countConn{UDPConn: c, fast: fast, n: n}, nil
}

type countConn struct {
	transport.UDPConn
	fast *net.UDPConn
	n    *countNet
}

// ReadFromAddrPort is the read pion/ice prefers.
func (c *countConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		var (
			n    int
			addr netip.AddrPort
			err  error
		)
		if c.fast != nil {
			n, addr, err = c.fast.ReadFromUDPAddrPort(b)
		} else {
			var a *net.UDPAddr
			n, a, err = c.UDPConn.ReadFromUDP(b)
			if a != nil {
				addr = a.AddrPort()
			}
		}
		if err != nil || !c.n.inspect(b[:n]) {
			return n, addr, err
		}
	}
}

// WriteTo counts the transport-cc feedback the viewer sends (SRTCP's first header is clear).
func (c *countConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if isTWCCFeedback(b) {
		c.n.feedback.Add(1)
	}
	return c.UDPConn.WriteTo(b, addr)
}

// ReadFrom serves callers that do not use ReadFromAddrPort.
func (c *countConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.UDPConn.ReadFrom(b)
		if err != nil || !c.n.inspect(b[:n]) {
			return n, addr, err
		}
	}
}

// inspect counts an SRTP packet and reports whether to swallow it.
func (n *countNet) inspect(b []byte) bool {
	// RFC 7983: first byte 128–191 is RTP or RTCP; RTCP packet types are 192–223 (RFC 5761 §4).
	if len(b) < 12 || b[0] < 128 || b[0] > 191 || (b[1] >= 192 && b[1] <= 223) {
		return false
	}
	seq := uint16(b[2])<<8 | uint16(b[3])
	ssrc := uint32(b[8])<<24 | uint32(b[9])<<16 | uint32(b[10])<<8 | uint32(b[11])
	n.c.add(ssrc, seq, len(b))
	if n.twcc != nil {
		n.twcc.record(b, ssrc)
	}
	return n.swallow.Load()
}

// counter holds what a viewer's socket saw; guarded by mu (one reader goroutine writes it).
type counter struct {
	mu      sync.Mutex
	first   time.Time
	packets int64
	bytes   int64
	lost    int64
	streams [4]seqLine
	// gap is the longest silence of any SSRC since resetGap (a frozen picture when it is video's).
	gap time.Duration
}

type seqLine struct {
	ssrc uint32
	last uint16
	used bool
	at   time.Time // when its last packet arrived
}

func (c *counter) add(ssrc uint32, seq uint16, size int) { c.addAt(time.Now(), ssrc, seq, size) }

func (c *counter) addAt(now time.Time, ssrc uint32, seq uint16, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.packets == 0 {
		c.first = now
	}
	c.packets++
	c.bytes += int64(size)
	for i := range c.streams {
		l := &c.streams[i]
		if l.used && l.ssrc != ssrc {
			continue
		}
		if !l.used {
			*l = seqLine{ssrc: ssrc, last: seq, used: true, at: now}
			return
		}
		if g := now.Sub(l.at); g > c.gap {
			c.gap = g
		}
		l.at = now
		if d := seq - l.last; d != 0 && d < 0x8000 {
			c.lost += int64(d - 1)
			l.last = seq
		}
		return
	}
}

func (c *counter) snapshot() (first time.Time, packets, bytes, lost int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.first, c.packets, c.bytes, c.lost
}

// resetGap starts measuring the longest silence anew at now (the measurement window's start).
func (c *counter) resetGap(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gap = 0
	for i := range c.streams {
		if c.streams[i].used {
			c.streams[i].at = now
		}
	}
}

// longestGap is the longest silence of any SSRC since resetGap, counting one still running at now.
func (c *counter) longestGap(now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.gap
	for _, l := range c.streams {
		if l.used && now.Sub(l.at) > g {
			g = now.Sub(l.at)
		}
	}
	return g
}
