package rtc

import (
	"fmt"
	"net"
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
}

// Media is the one UDP socket (and optional ICE-TCP listener) that carries every session's media.
type Media struct {
	UDP ice.UDPMux
	TCP ice.TCPMux // nil without ICE-TCP
}

// OpenMedia opens the media sockets; Close releases them.
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
		mux, err := ice.NewMultiUDPMuxFromPort(cfg.Port, ice.UDPMuxFromPortWithLoopback(),
			ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4),
			ice.UDPMuxFromPortWithReadBufferSize(mediaBuffer), ice.UDPMuxFromPortWithWriteBufferSize(mediaBuffer))
		if err != nil {
			return nil, fmt.Errorf("listen udp :%d: %w", cfg.Port, err)
		}
		m.UDP = mux
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
	if m.TCP != nil {
		_ = m.TCP.Close()
	}
}
