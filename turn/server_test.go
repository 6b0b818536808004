package turn

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	pturn "github.com/pion/turn/v5"
)

const secret = "turn-test-secret"

// creds are TURN REST credentials as wish.ICEServers makes them.
func creds(secret string, expiry time.Time) (string, string) {
	user := strconv.FormatInt(expiry.Unix(), 10) + ":wisp"
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(user))
	return user, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// echo is a stand-in for wisp's media socket: it sends every packet back.
func echo(t *testing.T, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		b := make([]byte, 1500)
		for {
			n, from, err := c.ReadFrom(b)
			if err != nil {
				return
			}
			_, _ = c.WriteTo(b[:n], from)
		}
	}()
	return c
}

func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wisp.test"},
		DNSNames: []string{"wisp.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}

// dial opens a TURN client over udp, tcp or tls to s.
func dial(t *testing.T, s *Server, transport, user, pass string) *pturn.Client {
	t.Helper()
	var conn net.PacketConn
	var addr string
	switch transport {
	case "udp":
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conn, addr = c, "127.0.0.1:"+strconv.Itoa(s.UDPPort())
	case "tcp":
		addr = "127.0.0.1:" + strconv.Itoa(s.TCPPort())
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn = pturn.NewSTUNConn(c)
	case "tls":
		addr = "127.0.0.1:" + strconv.Itoa(s.TLSPort())
		c, err := tls.Dial("tcp4", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a test's self-signed certificate
		if err != nil {
			t.Fatal(err)
		}
		conn = pturn.NewSTUNConn(c)
	}
	cl, err := pturn.NewClient(&pturn.ClientConfig{TURNServerAddr: addr, STUNServerAddr: addr, Username: user, Password: pass,
		Realm: DefaultRealm, Conn: conn, RTO: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close(); conn.Close() })
	return cl
}

// The built-in TURN server relays to wisp's media address over UDP, TCP and TLS; a permission
// for any other IP is refused and a packet to another port of the media IP is dropped (not an open
// relay); wrong and expired credentials get no allocation.
func TestRelayOnlyToMedia(t *testing.T) {
	media := echo(t, "127.0.0.1")
	otherPort := echo(t, "127.0.0.1")
	otherIP := echo(t, "127.0.0.2")
	mediaAddr := media.LocalAddr().(*net.UDPAddr)
	s, err := Start(Config{Secret: secret, UDP: "127.0.0.1:0", TCP: "127.0.0.1:0", TLS: "127.0.0.1:0", TLSConfig: selfSigned(t), Media: mediaAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	user, pass := creds(secret, time.Now().Add(time.Hour))
	for _, transport := range []string{"udp", "tcp", "tls"} {
		cl := dial(t, s, transport, user, pass)
		relay, err := cl.Allocate()
		if err != nil {
			t.Fatalf("%s: allocate: %v", transport, err)
		}
		if err := cl.CreatePermission(otherIP.LocalAddr()); err == nil {
			t.Fatalf("%s: a permission for 127.0.0.2 was granted", transport)
		}
		refused := s.Refused()
		msg := []byte("via " + transport)
		if _, err := relay.WriteTo([]byte("stray"), otherPort.LocalAddr()); err != nil {
			t.Fatalf("%s: write: %v", transport, err) // the client cannot tell: the server drops it
		}
		if _, err := relay.WriteTo(msg, mediaAddr); err != nil {
			t.Fatalf("%s: write to media: %v", transport, err)
		}
		_ = relay.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 1500)
		n, from, err := relay.ReadFrom(b)
		if err != nil || !bytes.Equal(b[:n], msg) || from.String() != mediaAddr.String() {
			t.Fatalf("%s: echo %q from %v, %v; want %q from %v", transport, b[:n], from, err, msg, mediaAddr)
		}
		// The stray packet went first through the same relay socket: had it been sent, it would
		// be waiting at the other port by now.
		if s.Refused() != refused+1 {
			t.Fatalf("%s: refused %d → %d, want one more (the stray packet)", transport, refused, s.Refused())
		}
		_ = relay.Close()
	}
	_ = otherPort.SetReadDeadline(time.Now())
	if _, _, err := otherPort.ReadFrom(make([]byte, 10)); !errors.Is(err, errTimeout(err)) {
		t.Fatalf("the other port got a packet (err %v)", err)
	}

	for name, c := range map[string][2]string{
		"wrong password": {user, "x" + pass},
		"expired":        func() [2]string { u, p := creds(secret, time.Now().Add(-time.Minute)); return [2]string{u, p} }(),
		"other secret":   func() [2]string { u, p := creds("nope", time.Now().Add(time.Hour)); return [2]string{u, p} }(),
	} {
		cl := dial(t, s, "udp", c[0], c[1])
		if _, err := cl.Allocate(); err == nil {
			t.Fatalf("%s: allocated", name)
		}
	}
}

// errTimeout returns err when it is a timeout (so errors.Is holds), else a sentinel that never matches.
func errTimeout(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	return errors.New("not a timeout")
}

// Allocations are capped per client IP (486 past the cap); one that ends makes room again.
func TestAllocationQuota(t *testing.T) {
	media := echo(t, "127.0.0.1")
	s, err := Start(Config{Secret: secret, UDP: "127.0.0.1:0", Media: media.LocalAddr().(*net.UDPAddr), MaxPerIP: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	user, pass := creds(secret, time.Now().Add(time.Hour))
	var relays []net.PacketConn
	for i := 0; i < 2; i++ {
		r, err := dial(t, s, "udp", user, pass).Allocate()
		if err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		relays = append(relays, r)
	}
	if _, err := dial(t, s, "udp", user, pass).Allocate(); err == nil || !strings.Contains(err.Error(), "486") {
		t.Fatalf("third allocation from one IP: %v, want 486", err)
	}
	_ = relays[0].Close() // a Refresh with lifetime 0 deletes it
	for i := 0; s.Allocations() != 1; i++ {
		if i > 500 {
			t.Fatalf("%d allocations after one was closed", s.Allocations())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := dial(t, s, "udp", user, pass).Allocate(); err != nil {
		t.Fatalf("allocation after one ended: %v", err)
	}
}

// Behind 1:1 NAT: a relay to wisp's public IP on the media port goes to the media socket itself
// (no hairpin through the NAT), and the answer comes back as from that public address, so the
// client's permission and its ICE checks match.
func TestRelayToPublicIP(t *testing.T) {
	media := echo(t, "127.0.0.1")
	mediaAddr := media.LocalAddr().(*net.UDPAddr)
	public := net.IPv4(203, 0, 113, 5)
	s, err := Start(Config{Secret: secret, UDP: "127.0.0.1:0", Media: mediaAddr, PublicIPs: []net.IP{public}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	user, pass := creds(secret, time.Now().Add(time.Hour))
	relay, err := dial(t, s, "udp", user, pass).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	to := &net.UDPAddr{IP: public, Port: mediaAddr.Port}
	if _, err := relay.WriteTo([]byte("via the public address"), to); err != nil {
		t.Fatalf("write to the public address: %v", err)
	}
	_ = relay.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 100)
	n, from, err := relay.ReadFrom(b)
	if err != nil || string(b[:n]) != "via the public address" || from.String() != to.String() {
		t.Fatalf("echo %q from %v, %v; want it from %v", b[:n], from, err, to)
	}
}
