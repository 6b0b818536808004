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
)

// browserPage publishes the fake camera to WHIP and watches it over WHEP from another origin, with
// bearer tokens: POST without candidates, then trickle by PATCH with the exposed ETag (the
// Medooze / MediaMTX publisher.js way), wait for decoded frames, DELETE both, report to /result.
const browserPage = `<!doctype html><meta charset="utf-8"><title>wisp cross-origin</title><script>
const base = "WISP_BASE";
async function session(pc, url, token) {
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/sdp", "Authorization": "Bearer " + token}, body: offer.sdp});
  if (r.status !== 201) throw new Error(url + " POST " + r.status + " " + await r.text());
  const loc = r.headers.get("Location"), etag = r.headers.get("ETag");
  if (!loc || !etag) throw new Error("Location or ETag not exposed to the page");
  await pc.setRemoteDescription({type: "answer", sdp: await r.text()});
  await new Promise(ok => { if (pc.iceGatheringState === "complete") ok(); pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && ok(); });
  const sdp = pc.localDescription.sdp;
  const ufrag = sdp.match(/a=ice-ufrag:(.*)\r\n/)[1], pwd = sdp.match(/a=ice-pwd:(.*)\r\n/)[1];
  const mid = sdp.match(/a=mid:(.*)\r\n/)[1];
  const cands = sdp.split("\r\n").filter(l => l.startsWith("a=candidate:"));
  const frag = "a=ice-ufrag:" + ufrag + "\r\na=ice-pwd:" + pwd + "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:" + mid + "\r\n" + cands.join("\r\n") + (cands.length ? "\r\n" : "") + "a=end-of-candidates\r\n";
  const p = await fetch(loc, {method: "PATCH", headers: {"Content-Type": "application/trickle-ice-sdpfrag", "If-Match": etag, "Authorization": "Bearer " + token}, body: frag});
  return {loc, patch: p.status, candidates: cands.length};
}
async function frames(pc) {
  for (let i = 0; i < 300; i++) {
    const stats = await pc.getStats();
    let n = 0;
    stats.forEach(s => { if (s.type === "inbound-rtp" && s.kind === "video") n = s.framesDecoded || 0; });
    if (n >= 15) return n;
    await new Promise(ok => setTimeout(ok, 100));
  }
  throw new Error("no frames decoded in 30 s");
}
async function run() {
  const cam = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
  const pub = new RTCPeerConnection();
  cam.getTracks().forEach(t => pub.addTransceiver(t, {direction: "sendonly", streams: [cam]}));
  const p = await session(pub, base + "/whip/cam", "PUBKEY");
  const view = new RTCPeerConnection();
  view.addTransceiver("video", {direction: "recvonly"});
  view.addTransceiver("audio", {direction: "recvonly"});
  const v = await session(view, base + "/whep/cam", "WATCHKEY");
  const n = await frames(view);
  const d1 = await fetch(v.loc, {method: "DELETE", headers: {"Authorization": "Bearer WATCHKEY"}});
  const d2 = await fetch(p.loc, {method: "DELETE", headers: {"Authorization": "Bearer PUBKEY"}});
  return {frames: n, publishPatch: p.patch, viewPatch: v.patch, deletes: [d1.status, d2.status]};
}
run().then(r => r, e => ({error: String(e)})).then(r => fetch("/result", {method: "POST", body: JSON.stringify(r)}));
</script>`

// TestBrowserCrossOrigin: headless Chromium on another origin publishes its fake camera and
// watches it with bearer tokens, trickling by PATCH with the ETag it can read only if exposed
// (COMMON-11, COMMON-12, COMMON-16, COMMON-17, COMMON-21, COMMON-24, COMMON-34).
func TestBrowserCrossOrigin(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is required in CI (apt-get install chromium)")
		}
		t.Skip("chromium not installed; make test installs it")
	}
	results := make(chan string, 1)
	page := httptest.NewUnstartedServer(nil) // its address, the page's origin, is known before it starts
	defer page.Close()
	pageURL := "http://" + page.Listener.Addr().String()
	srv := startServer(t, func(c *config) {
		c.PublishKeys = keyMap{"cam": "pub-key"}
		c.WatchKeys = keyMap{"cam": "watch-key"}
		c.CORSOrigins = []string{pageURL}
	})
	html := strings.NewReplacer("WISP_BASE", srv.base, "PUBKEY", "pub-key", "WATCHKEY", "watch-key").Replace(browserPage)
	page.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/result" {
			b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
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

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection",
		"--user-data-dir="+t.TempDir(), pageURL+"/")
	inOwnGroup(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Chromium's child processes outlive a kill of the browser process and keep writing into the
	// user data dir, which t.TempDir then fails to remove: end the whole group first.
	defer killGroup(t, cmd)

	var res struct {
		Error                   string
		Frames                  int
		PublishPatch, ViewPatch int
		Deletes                 []int
	}
	select {
	case r := <-results:
		if err := json.Unmarshal([]byte(r), &res); err != nil {
			t.Fatalf("result %q: %v", r, err)
		}
	case <-ctx.Done():
		t.Fatal("no result from the browser in 90 s")
	}
	if res.Error != "" {
		t.Fatalf("browser: %s", res.Error)
	}
	t.Logf("browser result %+v", res)
	if res.Frames < 15 || res.PublishPatch != 204 || res.ViewPatch != 204 || len(res.Deletes) != 2 || res.Deletes[0] != 200 || res.Deletes[1] != 200 {
		t.Fatalf("browser result %+v", res)
	}
	waitFor(t, 5*time.Second, "sessions gone", func() bool { return srv.whip.Len()+srv.whep.Len() == 0 })
}
