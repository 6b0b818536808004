package turn

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // RFC 8489 long-term credentials and the TURN REST scheme are HMAC-SHA1
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	pturn "github.com/pion/turn/v5"
)

// DefaultRealm is the TURN realm.
const DefaultRealm = "wisp"

// Config says where the TURN server listens and what it may relay to.
type Config struct {
	// Secret is the shared secret of the TURN REST credentials (required).
	Secret string
	// Realm of the long-term credentials (default DefaultRealm).
	Realm string
	// UDP and TCP are listen addresses (host:port, "" = off); TLS too, with TLSConfig.
	UDP, TCP, TLS string
	// TLSConfig serves the TLS listener (its certificate).
	TLSConfig *tls.Config
	// Media is wisp's own media address as the relay sockets reach it (the IP its media sockets
	// answer on, and the media UDP port). Relay sockets are bound on Media's IP.
	Media *net.UDPAddr
	// PublicIPs are addresses wisp announces for that socket (NAT 1:1): relaying to one of them
	// on the media port goes to Media, and Media's answers come back as from the first of them.
	PublicIPs []net.IP
	// MaxAllocations and MaxPerIP cap the allocations on the server and from one client IP
	// (defaults DefaultMaxAllocations, DefaultMaxPerIP); past them a client gets 486.
	MaxAllocations, MaxPerIP int
	// Now is the clock of credential expiry (nil: time.Now).
	Now func() time.Time
	// Logger gets pion's lines at debug level and refusals.
	Logger *slog.Logger
}

// Server is a running TURN server; Close stops it.
type Server struct {
	srv       *pturn.Server
	udp       net.PacketConn
	tcp, tlsL net.Listener
	relay     *relayGenerator
}

// Start opens the listeners and serves TURN until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.Secret == "" {
		return nil, errors.New("turn: a shared secret is required")
	}
	if cfg.Media == nil || cfg.Media.IP == nil || cfg.Media.Port == 0 {
		return nil, errors.New("turn: wisp's media address is required")
	}
	if cfg.TLS != "" && cfg.TLSConfig == nil {
		return nil, errors.New("turn: a TLS listener needs a certificate")
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("side", "turn")
	s := &Server{relay: newRelayGenerator(cfg.Media, cfg.PublicIPs, log)}
	q := newQuota(cfg.MaxAllocations, cfg.MaxPerIP)
	sc := pturn.ServerConfig{
		Realm:         cfg.Realm,
		AuthHandler:   authHandler(cfg.Secret, cfg.Now),
		QuotaHandler:  q.allow,
		EventHandler:  q.events(),
		LoggerFactory: pionLogs{log},
	}
	permit := s.relay.permit
	if cfg.UDP != "" {
		c, err := net.ListenPacket("udp4", cfg.UDP)
		if err != nil {
			return nil, fmt.Errorf("turn: listen udp %s: %w", cfg.UDP, err)
		}
		s.udp = c
		sc.PacketConnConfigs = append(sc.PacketConnConfigs, pturn.PacketConnConfig{PacketConn: c, RelayAddressGenerator: s.relay, PermissionHandler: permit})
	}
	listen := func(addr string, wrap func(net.Listener) net.Listener) (net.Listener, error) {
		l, err := net.Listen("tcp4", addr)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("turn: listen tcp %s: %w", addr, err)
		}
		if wrap != nil {
			l = wrap(l)
		}
		sc.ListenerConfigs = append(sc.ListenerConfigs, pturn.ListenerConfig{Listener: l, RelayAddressGenerator: s.relay, PermissionHandler: permit})
		return l, nil
	}
	var err error
	if cfg.TCP != "" {
		if s.tcp, err = listen(cfg.TCP, nil); err != nil {
			return nil, err
		}
	}
	if cfg.TLS != "" {
		if s.tlsL, err = listen(cfg.TLS, func(l net.Listener) net.Listener { return tls.NewListener(l, cfg.TLSConfig) }); err != nil {
			return nil, err
		}
	}
	if len(sc.PacketConnConfigs)+len(sc.ListenerConfigs) == 0 {
		return nil, errors.New("turn: no listener configured")
	}
	if s.srv, err = pturn.NewServer(sc); err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("turn: %w", err)
	}
	log.Info("TURN listening", "udp", addrOf(s.udp), "tcp", addrOf(s.tcp), "tls", addrOf(s.tlsL), "relays_to", cfg.Media.String())
	return s, nil
}

// UDPPort, TCPPort and TLSPort are the ports bound (0 when that listener is off).
func (s *Server) UDPPort() int { return portOf(s.udp) }

// TCPPort is the TCP listener's port (0 when off).
func (s *Server) TCPPort() int { return portOf(s.tcp) }

// TLSPort is the TLS listener's port (0 when off).
func (s *Server) TLSPort() int { return portOf(s.tlsL) }

// Refused counts packets an allocation tried to relay to an address that is not wisp's.
func (s *Server) Refused() int64 { return s.relay.refused.Load() }

// Close stops the server, its listeners and every allocation.
func (s *Server) Close() error {
	return s.srv.Close() // closes the listeners and packet conns it was given
}

func (s *Server) closeListeners() {
	if s.udp != nil {
		_ = s.udp.Close()
	}
	if s.tcp != nil {
		_ = s.tcp.Close()
	}
	if s.tlsL != nil {
		_ = s.tlsL.Close()
	}
}

// authHandler checks TURN REST credentials: the username is "<expiry unix time>:<anything>", the
// password base64(HMAC-SHA1(secret, username)); expired or malformed usernames are refused.
func authHandler(secret string, now func() time.Time) pturn.AuthHandler {
	return func(ra *pturn.RequestAttributes) (string, []byte, bool) {
		exp, _, _ := strings.Cut(ra.Username, ":")
		t, err := strconv.ParseInt(exp, 10, 64)
		if err != nil || t < now().Unix() {
			return "", nil, false
		}
		mac := hmac.New(sha1.New, []byte(secret))
		mac.Write([]byte(ra.Username))
		password := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		return ra.Username, pturn.GenerateAuthKey(ra.Username, ra.Realm, password), true
	}
}

func addrOf(c any) string {
	switch v := c.(type) {
	case net.PacketConn:
		if v != nil {
			return v.LocalAddr().String()
		}
	case net.Listener:
		if v != nil {
			return v.Addr().String()
		}
	}
	return ""
}

func portOf(c any) int {
	_, p, err := net.SplitHostPort(addrOf(c))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

// Allocations is the number of live TURN allocations.
func (s *Server) Allocations() int { return s.srv.AllocationCount() }
