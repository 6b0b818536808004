package wish

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RelICEServer is the Link relation of a STUN or TURN server (RFC 9725 §4.6).
const RelICEServer = "ice-server"

// DefaultTURNTTL is how long TURN credentials made from a shared secret stay valid.
const DefaultTURNTTL = time.Hour

// ICEServers are the STUN/TURN servers told to clients in Link headers (COMMON-14, COMMON-15).
type ICEServers struct {
	// URLs are stun:, turn: and turns: URIs (RFC 7064, RFC 7065).
	URLs []string
	// Secret, if set, is the TURN server's shared secret (the "TURN REST API" scheme of coturn's
	// use-auth-secret): each response gets a username "<expiry unix time>:wisp" and the credential
	// base64(HMAC-SHA1(secret, username)), so credentials expire after TTL and hold none of , ; ".
	Secret string
	// TTL is the lifetime of those credentials (default DefaultTURNTTL).
	TTL time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Builtin, if set, is wisp's own TURN server: ForHost adds its URLs for the host a client
	// reached wisp by, so no address needs configuring.
	Builtin *BuiltinTURN
}

// BuiltinTURN are the ports of wisp's own TURN listeners (0 = that listener is off).
type BuiltinTURN struct {
	UDPPort, TCPPort, TLSPort int
}

// ForHost returns the servers with the built-in TURN server's URLs for host (a name or an IP
// address, without port) added: turn: over UDP and TCP, turns: over TLS (RFC 7065).
func (s ICEServers) ForHost(host string) ICEServers {
	b := s.Builtin
	if b == nil || host == "" {
		return s
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]" // an IPv6 literal
	}
	urls := slices.Clone(s.URLs)
	add := func(scheme string, port int, transport string) {
		if port > 0 {
			urls = append(urls, scheme+":"+host+":"+strconv.Itoa(port)+"?transport="+transport)
		}
	}
	add("turn", b.UDPPort, "udp")
	add("turn", b.TCPPort, "tcp")
	add("turns", b.TLSPort, "tcp")
	s.URLs = urls
	return s
}

// Links returns one Link value per server, STUN first (GStreamer and live777 keep one ice-server
// per header line; OBS uses them in order).
func (s ICEServers) Links() []string {
	urls := slices.Clone(s.URLs)
	slices.SortStableFunc(urls, func(a, b string) int { return boolInt(!isSTUN(a)) - boolInt(!isSTUN(b)) })
	var user, cred string
	if s.Secret != "" {
		now, ttl := time.Now, s.TTL
		if s.Now != nil {
			now = s.Now
		}
		if ttl <= 0 {
			ttl = DefaultTURNTTL
		}
		user = strconv.FormatInt(now().Add(ttl).Unix(), 10) + ":wisp"
		mac := hmac.New(sha1.New, []byte(s.Secret))
		mac.Write([]byte(user))
		cred = base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	links := make([]string, 0, len(urls))
	for _, u := range urls {
		l := "<" + u + `>; rel="` + RelICEServer + `"`
		if !isSTUN(u) && user != "" {
			l += `; username="` + user + `"; credential="` + cred + `"; credential-type="password"`
		}
		links = append(links, l)
	}
	return links
}

// AddLinks adds the servers' Link lines to h, one header line each.
func (s ICEServers) AddLinks(h http.Header) {
	for _, l := range s.Links() {
		h.Add("Link", l)
	}
}

func isSTUN(u string) bool { return strings.HasPrefix(strings.ToLower(u), "stun") }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
