package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/wisp-media/wisp/client"
	"github.com/wisp-media/wisp/token"
)

const testJWTSecret = "a test secret that is 32 bytes!!"

// testToken signs a token granting action on stream, expiring after exp (negative: expired).
func testToken(t testing.TB, m jwt.SigningMethod, key any, kid, stream, action string, exp time.Duration) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, token.Claims{Stream: stream, Action: action,
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(exp))}})
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testJWKS serves one ES256 public key as a JWK Set; rotate replaces it.
type testJWKS struct {
	mu   sync.Mutex
	body []byte
}

func (j *testJWKS) rotate(t testing.TB, kid string, key *ecdsa.PrivateKey) {
	t.Helper()
	jwk, err := jwkset.NewJWKFromKey(key.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: jwkset.AlgES256, USE: jwkset.UseSig}})
	if err != nil {
		t.Fatal(err)
	}
	store := jwkset.NewMemoryStorage()
	if err := store.KeyWrite(context.Background(), jwk); err != nil {
		t.Fatal(err)
	}
	raw, err := store.JSONPublic(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	j.mu.Lock()
	j.body = raw
	j.mu.Unlock()
}

func (j *testJWKS) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	j.mu.Lock()
	defer j.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(j.body)
}

// COMMON-16 with signed tokens: an HS256 token publishes and a JWKS-signed ES256 token watches
// (frames arrive); expired, tampered, wrong-stream and wrong-action tokens get 401 or 403 and
// change nothing; a static key still works beside them; when the JWKS server rotates its key the
// new key is followed and the old one refused; no token ever appears in the log.
func TestSignedTokens(t *testing.T) {
	keyA, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keyB, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := &testJWKS{}
	jwks.rotate(t, "a", keyA)
	jwksSrv := httptest.NewServer(jwks)
	defer jwksSrv.Close()
	logs := &syncBuffer{}
	srv := startServerLog(t, func(c *config) {
		c.Access.JWTSecret, c.Access.JWKSURL = testJWTSecret, jwksSrv.URL
		c.PublishKeys = keyMap{"keyed": "static-key"}
		c.LogLevel = -8 // everything, debug included
	}, logs)
	base := runtime.NumGoroutine() // the server's own (JWKS refresh included) end at its shutdown
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	hs := func(stream, action string, exp time.Duration) string {
		return testToken(t, jwt.SigningMethodHS256, []byte(testJWTSecret), "", stream, action, exp)
	}
	es := func(kid string, key *ecdsa.PrivateKey, stream, action string) string {
		return testToken(t, jwt.SigningMethodES256, key, kid, stream, action, time.Hour)
	}
	pubTok, viewTok := hs("cam", "publish", time.Hour), es("a", keyA, "cam", "watch")
	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Audio: m.audio, Loop: true, Token: pubTok})
	if err != nil {
		t.Fatalf("publish with an HS256 token: %v", err)
	}
	v, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true, Audio: true, Token: viewTok})
	if err != nil {
		t.Fatalf("watch with a JWKS token: %v", err)
	}
	recvFrames(t, v, m, 30, 20*time.Second)

	expired := hs("cam", "publish", -time.Hour)
	p := strings.Split(hs("cam", "publish", time.Hour), ".")
	otherPayload := strings.Split(hs("*", "publish", time.Hour), ".")[1]
	tampered := p[0] + "." + otherPayload + "." + p[2]
	pubOffer, viewOffer := readOffer(t, "chrome-publish.sdp"), readOffer(t, "chrome-recvonly.sdp")
	for _, tc := range []struct {
		name, url, offer, token string
		status                  int
		invalid                 bool // WWW-Authenticate names error="invalid_token"
	}{
		{"no token", srv.whipURL("cam"), pubOffer, "", 401, false},
		{"expired", srv.whipURL("cam"), pubOffer, expired, 401, true},
		{"tampered", srv.whipURL("cam"), pubOffer, tampered, 401, true},
		{"signed by an unknown key", srv.whepURL("cam"), viewOffer, es("a", keyB, "cam", "watch"), 401, true},
		{"wrong stream", srv.whipURL("cam"), pubOffer, hs("other", "publish", time.Hour), 403, false},
		{"wrong action (watch token publishes)", srv.whipURL("cam"), pubOffer, viewTok, 403, false},
		{"wrong action (publish token watches)", srv.whepURL("cam"), viewOffer, pubTok, 403, false},
		{"not a key", srv.whepURL("cam"), viewOffer, "undefined", 401, false},
	} {
		h := map[string]string{}
		if tc.token != "" {
			h["Authorization"] = "Bearer " + tc.token
		}
		r, _ := postSDP(t, tc.url, tc.offer, h)
		if r.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, r.StatusCode, tc.status)
		}
		wa := r.Header.Get("WWW-Authenticate")
		if tc.status == 401 && (!strings.HasPrefix(wa, "Bearer") || strings.Contains(wa, "invalid_token") != tc.invalid) {
			t.Errorf("%s: WWW-Authenticate %q", tc.name, wa)
		}
		if n, w := srv.whip.Len(), srv.whep.Len(); n != 1 || w != 1 {
			t.Fatalf("%s: %d publishers, %d viewers after a refused POST, want 1 and 1", tc.name, n, w)
		}
	}
	if recvFrames(t, v, m, 10, 10*time.Second); v.Stats().Video.Frames == 0 {
		t.Fatal("the viewer stopped receiving")
	}

	// A static key works beside the tokens.
	r, _ := postSDP(t, srv.whipURL("keyed"), pubOffer, map[string]string{"Authorization": "Bearer static-key"})
	if r.StatusCode != 201 {
		t.Fatalf("static key: %d", r.StatusCode)
	}
	do(t, http.MethodDelete, r.Header.Get("Location"), "", nil)

	// The JWKS server rotates from key a to key b.
	jwks.rotate(t, "b", keyB)
	r, _ = postSDP(t, srv.whepURL("cam"), viewOffer, map[string]string{"Authorization": "Bearer " + es("b", keyB, "cam", "watch")})
	if r.StatusCode != 201 {
		t.Fatalf("token of the rotated-in key: %d", r.StatusCode)
	}
	do(t, http.MethodDelete, r.Header.Get("Location"), "", nil)
	if r, _ = postSDP(t, srv.whepURL("cam"), viewOffer, map[string]string{"Authorization": "Bearer " + viewTok}); r.StatusCode != 401 {
		t.Fatalf("token of the rotated-out key: %d, want 401", r.StatusCode)
	}

	srv.closeAll(t, base, v, pub)
	out := logs.String()
	for _, tok := range []string{pubTok, viewTok, expired, tampered, "static-key", testJWTSecret} {
		if strings.Contains(out, tok) || strings.Contains(out, strings.Split(tok, ".")[len(strings.Split(tok, "."))-1]) {
			t.Fatalf("the log holds a token or secret")
		}
	}
	if !strings.Contains(out, "level=") {
		t.Fatal("no log captured: the check above proves nothing")
	}
}

// webhookSite is the site's backend in the webhook tests: the auth hook admits publish and watch
// on stream "ok" only, blocks on "slow" until wisp gives up, and records the events it is told.
type webhookSite struct {
	admits chan map[string]string
	events chan map[string]string
}

func newWebhookSite() *webhookSite {
	return &webhookSite{admits: make(chan map[string]string, 16), events: make(chan map[string]string, 16)}
}

func (s *webhookSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]string
	if err := decodeJSON(r, &body); err != nil || r.Method != http.MethodPost {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if r.URL.Path == "/events" {
		s.events <- body
		return
	}
	s.admits <- body
	switch body["stream"] {
	case "ok":
		w.WriteHeader(http.StatusOK)
	case "slow":
		<-r.Context().Done()
	default:
		w.WriteHeader(http.StatusForbidden)
	}
}

// The auth webhook (Done-when 3 of issue 17): a site allows stream "ok" and denies others (403,
// nothing changes); a hook slower than -auth-webhook-timeout and a hook that is down both give
// 503 + Retry-After (fail closed); the event webhook hears the publisher start and stop.
func TestAuthAndEventWebhooks(t *testing.T) {
	site := newWebhookSite()
	hook := httptest.NewServer(site)
	defer hook.Close()
	srv := startServer(t, func(c *config) {
		c.Access.AuthWebhook, c.Access.EventWebhook = hook.URL+"/auth", hook.URL+"/events"
		c.Access.AuthWebhookTimeout = 500 * time.Millisecond
	})
	base := runtime.NumGoroutine() // the server's own (the event sender included) end at its shutdown
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	pub, err := client.Publish(ctx, srv.whipURL("ok"), client.PublishOptions{Video: m.video, Loop: true, Token: "site-token"})
	if err != nil {
		t.Fatalf("publish to an allowed stream: %v", err)
	}
	if a := <-site.admits; a["action"] != "publish" || a["stream"] != "ok" || a["token"] != "site-token" ||
		!strings.HasPrefix(a["remote_addr"], "127.0.0.1:") || a["user_agent"] == "" {
		t.Fatalf("auth hook asked %v", a)
	}
	ev := <-site.events
	if ev["type"] != "stream.started" || ev["stream"] != "ok" || ev["session"] != path.Base(pub.Location()) || ev["time"] == "" {
		t.Fatalf("start event %v (session %s)", ev, path.Base(pub.Location()))
	}
	v, err := client.View(ctx, srv.whepURL("ok"), client.ViewOptions{Video: true})
	if err != nil {
		t.Fatalf("watch an allowed stream: %v", err)
	}
	if a := <-site.admits; a["action"] != "watch" || a["stream"] != "ok" || a["token"] != "" {
		t.Fatalf("auth hook asked %v", a)
	}
	recvFrames(t, v, m, 10, 20*time.Second)

	offer := readOffer(t, "chrome-publish.sdp")
	for _, tc := range []struct {
		stream string
		status int
	}{{"denied", 403}, {"slow", 503}} {
		r, _ := postSDP(t, srv.whipURL(tc.stream), offer, nil)
		<-site.admits
		if r.StatusCode != tc.status || (tc.status == 503) != (r.Header.Get("Retry-After") != "") {
			t.Errorf("%s: %d Retry-After %q, want %d", tc.stream, r.StatusCode, r.Header.Get("Retry-After"), tc.status)
		}
		if srv.whip.Len() != 1 || srv.whep.Len() != 1 || srv.registry.Len() != 1 {
			t.Fatalf("%s: sessions changed after a refused POST", tc.stream)
		}
	}

	// A hook that is down: fail closed.
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	t.Run("hook down", func(t *testing.T) { // its own server, shut down at the subtest's end
		srv2 := startServer(t, func(c *config) { c.Access.AuthWebhook = downURL })
		r, _ := postSDP(t, srv2.whipURL("ok"), offer, nil)
		if r.StatusCode != 503 || r.Header.Get("Retry-After") == "" {
			t.Errorf("hook down: %d Retry-After %q, want 503 with it", r.StatusCode, r.Header.Get("Retry-After"))
		}
		if srv2.whip.Len() != 0 {
			t.Fatal("a session was opened with the hook down")
		}
	})

	srv.closeAll(t, base, v, pub)
	if ev := <-site.events; ev["type"] != "stream.stopped" || ev["session"] != path.Base(pub.Location()) {
		t.Fatalf("stop event %v", ev)
	}
}

var errNotJSON = errors.New("not a JSON object")

// decodeJSON reads a flat JSON object of strings.
func decodeJSON(r *http.Request, v *map[string]string) error {
	var raw map[string]any
	if err := jsonDecode(r, &raw); err != nil {
		return errNotJSON
	}
	*v = map[string]string{}
	for k, x := range raw {
		if s, ok := x.(string); ok {
			(*v)[k] = s
		}
	}
	return nil
}

func jsonDecode(r *http.Request, v any) error { return json.NewDecoder(r.Body).Decode(v) }

// The JWKS refresher and the event sender are the server's: their goroutines end with it.
func TestAccessGoroutinesEndWithServer(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := &testJWKS{}
	jwks.rotate(t, "a", key)
	jwksSrv := httptest.NewServer(jwks)
	defer jwksSrv.Close()
	hook := httptest.NewServer(newWebhookSite())
	defer hook.Close()
	base := runtime.NumGoroutine()
	t.Run("server", func(t *testing.T) {
		srv := startServer(t, func(c *config) { c.Access.JWKSURL, c.Access.EventWebhook = jwksSrv.URL, hook.URL+"/events" })
		if srv.access.tokens == nil || srv.access.events == nil {
			t.Fatal("no token verifier or event sender")
		}
	})
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, 10*time.Second, "goroutines back to the count before the server (no slack)", func() bool {
		return runtime.NumGoroutine() <= base
	})
}
