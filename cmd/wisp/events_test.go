package main

import (
	"bufio"
	"context"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wisp-media/wisp/client"
)

// sse reads server-sent events from an open event stream into a channel.
type sse struct {
	events chan [2]string // event type, data
	done   chan struct{}  // closed when the server ends the stream
	resp   *http.Response
}

func openSSE(t *testing.T, url string) *sse {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		resp.Body.Close()
		t.Fatalf("GET event stream: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sse{events: make(chan [2]string, 64), done: make(chan struct{}), resp: resp}
	go func() {
		defer close(s.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var typ string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				typ = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				s.events <- [2]string{typ, strings.TrimPrefix(line, "data: ")}
			}
		}
	}()
	return s
}

// next returns the next event, failing after d.
func (s *sse) next(t *testing.T, d time.Duration) [2]string {
	t.Helper()
	select {
	case e := <-s.events:
		return e
	case <-time.After(d):
		t.Fatal("no event in time")
	}
	return [2]string{}
}

// nextBut returns the next event whose type is not skip ("layers" repeats every few seconds).
func (s *sse) nextBut(t *testing.T, d time.Duration, skip string) [2]string {
	t.Helper()
	for {
		if e := s.next(t, d); e[0] != skip {
			return e
		}
	}
}

func (s *sse) waitEnd(t *testing.T, what string) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("event stream still open after %s", what)
	}
}

// TestServerSentEvents: the WHEP events extension on capability URLs (WHEPX-01 to WHEPX-05,
// WHEPX-07): Link on the 201, POST of a type list → 201 + Location, unknown type → 400, only the
// subscribed types, no initial "inactive", DELETE → 200 then 404, streams end with the session.
func TestServerSentEvents(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, func(c *config) { c.WatchKeys = keyMap{"cam": "wk"} })
	m := openMedia(t)

	resp, _ := postSDP(t, srv.whepURL("cam"), readOffer(t, "chrome-recvonly.sdp"), map[string]string{"Authorization": "Bearer wk"})
	if resp.StatusCode != 201 {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	want := "<" + loc + `/events>; rel="urn:ietf:params:whep:ext:core:server-sent-events"; events="active,inactive,layers,viewercount"`
	link := ""
	for _, l := range resp.Header.Values("Link") {
		if strings.Contains(l, "server-sent-events") {
			link = l
		}
	}
	if link != want {
		t.Fatalf("events Link %q, want %q", link, want)
	}
	eventsURL := loc + "/events"

	// WHEPX-02: unknown type → 400; a list → 201 + Location (no Authorization: capability URL).
	if r := do(t, http.MethodPost, eventsURL, `["viewercount","bogus"]`, map[string]string{"Content-Type": "application/json"}); r.StatusCode != 400 {
		t.Fatalf("unknown event type: %d, want 400", r.StatusCode)
	}
	sub := func(body string) string {
		r := do(t, http.MethodPost, eventsURL, body, map[string]string{"Content-Type": "application/json"})
		if r.StatusCode != 201 || !regexp.MustCompile(`^`+regexp.QuoteMeta(eventsURL)+`/[0-9a-f]{32}$`).MatchString(r.Header.Get("Location")) {
			t.Fatalf("subscribe %s: %d Location %q", body, r.StatusCode, r.Header.Get("Location"))
		}
		return r.Header.Get("Location")
	}
	countURL := sub(`["viewercount"]`)
	allURL := sub("")
	counts, all := openSSE(t, countURL), openSSE(t, allURL)

	// Nothing is live: the first event is the count, never an initial "inactive".
	if e := all.next(t, 5*time.Second); e != [2]string{"viewercount", `{"viewercount":1}`} {
		t.Fatalf("first event %v", e)
	}
	if e := counts.next(t, 5*time.Second); e != [2]string{"viewercount", `{"viewercount":1}`} {
		t.Fatalf("first event %v", e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	if e := all.next(t, 5*time.Second); e != [2]string{"active", "{}"} {
		t.Fatalf("after publish: %v, want active", e)
	}
	// WHEPX-05: the layers of m-line 1: the publisher's only, unnamed layer is spatialLayerId 0,
	// listed as soon as it exists and again once it sends (active).
	for oneLayer := regexp.MustCompile(`^\{"1":\[\{"spatialLayerId":0,"bitrate":\d+,.*"active":(true|false)\}\]\}$`); ; {
		e := all.next(t, 5*time.Second)
		if m := oneLayer.FindStringSubmatch(e[1]); e[0] != "layers" || m == nil {
			t.Fatalf("after active: %v, want layers of m-line 1", e)
		} else if m[1] == "true" {
			break
		}
	}
	v2, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true, Token: "wk"})
	if err != nil {
		t.Fatal(err)
	}
	if e := counts.next(t, 5*time.Second); e != [2]string{"viewercount", `{"viewercount":2}`} {
		t.Fatalf("viewercount stream: %v, want 2 (and no other types)", e)
	}
	if e := all.nextBut(t, 5*time.Second, "layers"); e != [2]string{"viewercount", `{"viewercount":2}`} {
		t.Fatalf("all stream: %v", e)
	}
	_ = pub.Close()
	if e := all.nextBut(t, 5*time.Second, "layers"); e != [2]string{"inactive", "{}"} {
		t.Fatalf("after unpublish: %v, want inactive", e)
	}

	// WHEPX-04: DELETE ends that stream; later requests 404.
	if r := do(t, http.MethodDelete, countURL, "", nil); r.StatusCode != 200 {
		t.Fatalf("DELETE event stream: %d", r.StatusCode)
	}
	counts.waitEnd(t, "its DELETE")
	if r := do(t, http.MethodGet, countURL, "", nil); r.StatusCode != 404 {
		t.Fatalf("GET deleted event stream: %d", r.StatusCode)
	}
	// Ending the session destroys its remaining event streams.
	if r := do(t, http.MethodDelete, loc, "", nil); r.StatusCode != 200 {
		t.Fatalf("DELETE session: %d", r.StatusCode)
	}
	all.waitEnd(t, "the session's DELETE")
	if r := do(t, http.MethodGet, allURL, "", nil); r.StatusCode != 404 {
		t.Fatalf("GET event stream of an ended session: %d", r.StatusCode)
	}
	_ = v2.Close()
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, 5*time.Second, "sessions gone", func() bool { return srv.whip.Len()+srv.whep.Len() == 0 })
	checkGoroutines(t, base)
}

// TestEventStreamsEndOnShutdown: an open event stream does not hold up a graceful shutdown
// (startServer's cleanup fails if Shutdown misses its 5 s deadline), and it is ended by it.
func TestEventStreamsEndOnShutdown(t *testing.T) {
	var s *sse
	t.Cleanup(func() { // runs after the server's cleanup (LIFO)
		if s != nil {
			s.waitEnd(t, "server shutdown")
		}
	})
	srv := startServer(t, nil)
	resp, _ := postSDP(t, srv.whepURL("cam"), readOffer(t, "chrome-recvonly.sdp"), nil)
	if resp.StatusCode != 201 {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	r := do(t, http.MethodPost, resp.Header.Get("Location")+"/events", "", nil)
	if r.StatusCode != 201 {
		t.Fatalf("subscribe: %d", r.StatusCode)
	}
	s = openSSE(t, r.Header.Get("Location"))
	if e := s.next(t, 5*time.Second); e[0] != "viewercount" {
		t.Fatalf("first event %v", e)
	}
}
