package main

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"

	"github.com/wisp-media/wisp/turn"
	"github.com/wisp-media/wisp/wish"
)

// turnConfig is the built-in TURN server's part of the config.
type turnConfig struct {
	Enabled bool   // -turn
	Addr    string // UDP and TCP listen address (-turn-addr)
	TLS     string // TLS listen address ("" = off; -turn-tls)
}

// startTURN starts the built-in TURN server, relaying only to the media socket wisp's relay
// sockets reach (mediaIP, the media port); it fills in the TURN secret when none is set (the
// credentials in the Links are made from it).
func (s *server) startTURN() error {
	c := s.cfg.TURN
	if !c.Enabled {
		return nil
	}
	if s.cfg.TURNSecret == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		s.cfg.TURNSecret = hex.EncodeToString(b)
	}
	var public []net.IP
	for _, ip := range s.cfg.PublicIPs {
		public = append(public, net.ParseIP(ip))
	}
	cfg := turn.Config{Secret: s.cfg.TURNSecret, UDP: c.Addr, TCP: c.Addr,
		Media: &net.UDPAddr{IP: mediaIP(s.cfg.ICEHost), Port: s.media.Port()}, PublicIPs: public, Logger: s.log}
	if c.TLS != "" {
		tc := s.turnTLS()
		if tc == nil {
			return fmt.Errorf("-turn-tls %s: needs wisp's HTTPS certificate", c.TLS)
		}
		cfg.TLS, cfg.TLSConfig = c.TLS, tc
	}
	t, err := turn.Start(cfg)
	if err != nil {
		return err
	}
	s.turn = t
	return nil
}

// builtinTURN is what the Links announce of the built-in TURN server (nil when it is off).
func (s *server) builtinTURN() *wish.BuiltinTURN {
	if s.turn == nil {
		return nil
	}
	return &wish.BuiltinTURN{UDPPort: s.turn.UDPPort(), TCPPort: s.turn.TCPPort(), TLSPort: s.turn.TLSPort()}
}

// mediaIP is the address at which the TURN relay sockets reach wisp's media socket: -ice-host,
// else the first non-loopback IPv4 address of an interface that is up, else loopback.
func mediaIP(iceHost string) net.IP {
	if iceHost != "" {
		return net.ParseIP(iceHost)
	}
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLinkLocalUnicast() {
				return n.IP.To4()
			}
		}
	}
	return net.IPv4(127, 0, 0, 1)
}

// turnTLS is the TLS configuration of the TURN TLS listener: wisp's HTTPS certificate (files or
// ACME), the one source of certificates; nil without HTTPS.
func (s *server) turnTLS() *tls.Config {
	if s.https == nil {
		return nil
	}
	return s.https.config
}

// check refuses TURN settings that cannot work.
func (c turnConfig) check(tls tlsConfig) error {
	switch {
	case c.TLS != "" && !c.Enabled:
		return errors.New("-turn-tls needs -turn")
	case c.TLS != "" && !tls.enabled():
		return errors.New("-turn-tls needs wisp's HTTPS certificate: -tls-cert/-tls-key or -acme-domain")
	}
	return nil
}
