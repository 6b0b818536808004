package wish

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// COMMON-15: one Link line per server, STUN first, TURN with expiring shared-secret credentials
// that hold none of , ; " (OBS's parser splits on them).
func TestICEServerLinks(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := ICEServers{
		URLs:   []string{"turn:turn.example:3478?transport=udp", "stun:stun.example:3478", "turns:turn.example:5349"},
		Secret: "s3cret", TTL: time.Hour, Now: func() time.Time { return now },
	}
	h := http.Header{}
	s.AddLinks(h)
	links := h.Values("Link")
	if len(links) != 3 {
		t.Fatalf("%d Link lines, want 3: %q", len(links), links)
	}
	if links[0] != `<stun:stun.example:3478>; rel="ice-server"` {
		t.Fatalf("first link %q, want the STUN server without credentials", links[0])
	}
	user := "1700003600:wisp"
	mac := hmac.New(sha1.New, []byte("s3cret"))
	mac.Write([]byte(user))
	cred := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	want := `<turn:turn.example:3478?transport=udp>; rel="ice-server"; username="` + user + `"; credential="` + cred + `"; credential-type="password"`
	if links[1] != want {
		t.Fatalf("turn link\n got %s\nwant %s", links[1], want)
	}
	if strings.ContainsAny(cred, `,;"`) {
		t.Fatalf("credential %q has a separator", cred)
	}
	if !strings.HasPrefix(links[2], "<turns:turn.example:5349>") {
		t.Fatalf("third link %q", links[2])
	}
	// Without a secret, TURN servers carry no credentials; without servers, no Link at all.
	if l := (ICEServers{URLs: []string{"turn:t:3478"}}).Links(); len(l) != 1 || strings.Contains(l[0], "username") {
		t.Fatalf("links without secret: %q", l)
	}
	if l := (ICEServers{}).Links(); len(l) != 0 {
		t.Fatalf("links without servers: %q", l)
	}
}

// The built-in TURN server's URLs are made for the host the client used (COMMON-15): turn: over
// UDP and TCP, turns: over TLS, bracketed for an IPv6 literal, after the configured servers.
func TestICEServersForHost(t *testing.T) {
	s := ICEServers{URLs: []string{"stun:stun.test:3478"}, Secret: "s", Builtin: &BuiltinTURN{UDPPort: 3478, TCPPort: 3478, TLSPort: 5349}}
	got := s.ForHost("live.example.com").URLs
	want := []string{"stun:stun.test:3478", "turn:live.example.com:3478?transport=udp", "turn:live.example.com:3478?transport=tcp", "turns:live.example.com:5349?transport=tcp"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := (ICEServers{Builtin: &BuiltinTURN{UDPPort: 1}}).ForHost("::1").URLs; len(got) != 1 || got[0] != "turn:[::1]:1?transport=udp" {
		t.Fatalf("IPv6: %q", got)
	}
	if len(s.URLs) != 1 {
		t.Fatal("ForHost changed the receiver's URLs")
	}
	r := httptest.NewRequest(http.MethodOptions, "http://10.0.0.5:8080/whep/x", nil)
	if got := (Endpoint{ICEServers: s}).ICEFor(r).URLs; len(got) != 4 || got[1] != "turn:10.0.0.5:3478?transport=udp" {
		t.Fatalf("ICEFor: %q", got)
	}
	if got := (Endpoint{ICEServers: s, BaseURL: "https://live.example.com"}).ICEFor(r).URLs; got[3] != "turns:live.example.com:5349?transport=tcp" {
		t.Fatalf("ICEFor with a base URL: %q", got)
	}
}
