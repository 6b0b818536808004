package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wisp-media/wisp/client"
)

// turnPage watches a stream once per advertised TURN server, each time with only that server and
// iceTransportPolicy "relay": it reads the ice-server Links of a non-preflight OPTIONS (parsed by
// wisp's own parseICELinks), POSTs a WHEP offer, waits for decoded frames, reports the selected
// pair's local candidate (type and relay protocol), and DELETEs.
const turnPage = `<!doctype html><meta charset="utf-8"><title>wisp TURN</title><script type="module">
const base = "WISP_BASE";
const { parseICELinks, waitGatheringComplete } = await import(base + "/static/wisp.js");
async function watch(server) {
  const pc = new RTCPeerConnection({ iceServers: [server], iceTransportPolicy: "relay" });
  pc.addTransceiver("video", { direction: "recvonly" });
  await pc.setLocalDescription(await pc.createOffer());
  await waitGatheringComplete(pc, 5000);
  const r = await fetch(base + "/whep/cam", { method: "POST", headers: { "Content-Type": "application/sdp" }, body: pc.localDescription.sdp });
  if (r.status !== 201) throw new Error("POST " + r.status + " " + await r.text());
  const loc = r.headers.get("Location");
  await pc.setRemoteDescription({ type: "answer", sdp: await r.text() });
  let frames = 0, local = {};
  for (let i = 0; i < 300 && frames < 30; i++) {
    await new Promise((ok) => setTimeout(ok, 100));
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") frames = s.framesDecoded || 0;
      if (s.type === "transport" && s.selectedCandidatePairId) {
        const pair = stats.get(s.selectedCandidatePairId);
        const c = pair && stats.get(pair.localCandidateId);
        if (c) local = { type: c.candidateType, relayProtocol: c.relayProtocol || "" };
      }
    });
  }
  await fetch(loc, { method: "DELETE" });
  pc.close();
  return { url: server.urls, frames, ...local };
}
async function run() {
  const o = await fetch(base + "/whep/cam", { method: "OPTIONS" });
  const servers = parseICELinks(o.headers.get("Link") || "");
  const out = [];
  for (const s of servers) out.push(await watch(s));
  return { servers: servers.length, results: out };
}
run().then((r) => r, (e) => ({ error: String(e) })).then((r) => fetch("/result", { method: "POST", body: JSON.stringify(r) }));
</script>`

// TestBrowserTURN (issue 17, Done-when 1): headless Chromium, on another origin, watches a stream
// once over each TURN server wisp advertises (UDP, TCP, TLS), with only that server and
// iceTransportPolicy "relay": frames are decoded every time, over a relay candidate of the
// expected protocol. Chromium does not know the test CA, so it runs with --ignore-certificate-errors
// (for wisp's HTTPS and the turns: server alike).
func TestBrowserTURN(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is required in CI (apt-get install chromium)")
		}
		t.Skip("chromium not installed; make test installs it")
	}
	dir := t.TempDir()
	certPath, keyPath := writePair(t, dir, pemPair(systemCA.issue(t, 8, "127.0.0.1", "localhost")))
	results := make(chan string, 1)
	page := httptest.NewUnstartedServer(nil)
	defer page.Close()
	pageURL := "http://" + page.Listener.Addr().String()
	srv := startServer(t, func(c *config) {
		c.TLS = tlsConfig{CertFile: certPath, KeyFile: keyPath}
		c.TURN = turnConfig{Enabled: true, Addr: "127.0.0.1:0", TLS: "127.0.0.1:0"}
		c.CORSOrigins = []string{pageURL}
	})
	html := strings.NewReplacer("WISP_BASE", srv.base).Replace(turnPage)
	page.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/result" {
			b, _ := io.ReadAll(io.LimitReader(r.Body, 8192))
			select {
			case results <- string(b):
			default:
			}
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, html)
	})
	page.Start()

	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Loop: true, HTTPClient: systemCA.httpsClient(t)})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	defer pub.Close()

	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--ignore-certificate-errors", "--allow-loopback-in-peer-connection",
		"--user-data-dir="+t.TempDir(), pageURL+"/")
	inOwnGroup(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer killGroup(t, cmd)

	var res struct {
		Error   string
		Servers int
		Results []struct {
			URL                 string
			Frames              int
			Type, RelayProtocol string
		}
	}
	select {
	case r := <-results:
		if err := json.Unmarshal([]byte(r), &res); err != nil {
			t.Fatalf("result %q: %v", r, err)
		}
	case <-ctx.Done():
		t.Fatal("no result from the browser in 120 s")
	}
	t.Logf("browser result %+v", res)
	if res.Error != "" {
		t.Fatalf("browser: %s", res.Error)
	}
	want := map[string]string{"turn:": "udp", "turn:?transport=tcp": "tcp", "turns:": "tls"}
	if res.Servers != 3 || len(res.Results) != 3 {
		t.Fatalf("%d servers, %d results; want 3", res.Servers, len(res.Results))
	}
	for _, r := range res.Results {
		key := r.URL[:strings.Index(r.URL, ":")+1]
		if key == "turn:" && strings.HasSuffix(r.URL, "transport=tcp") {
			key = "turn:?transport=tcp"
		}
		if r.Frames < 30 || r.Type != "relay" || r.RelayProtocol != want[key] {
			t.Errorf("%s: %d frames over a %q candidate (relay protocol %q); want ≥ 30 over relay/%s", r.URL, r.Frames, r.Type, r.RelayProtocol, want[key])
		}
	}
}
