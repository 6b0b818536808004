// The GStreamer webrtcbin WHEP viewer (python3-gi: recvonly video + audio, full offer, POST,
// apply the answer, decode, count frames, DELETE the Location) watching a Chromium publisher on
// wisp's /publish page. A browser sends a keyframe only when asked: this passes only if the
// viewer's keyframe request (FIR/PLI) reaches the browser through wisp.
import { assert, gstViewer, launchChromium, runCase, startWisp, streamInfo, waitFor, waitLive } from "../lib/harness.mjs";
import { openPublisher } from "../lib/browser.mjs";

runCase(async ({ procs, log, defer }) => {
  const base = await startWisp(procs, { watchKeys: { web: "watch-key" } });
  const browser = await launchChromium();
  defer(() => browser.close());
  await openPublisher(browser, base, "web", "", log);
  const live = await waitLive(base, "web");
  log(`live: ${JSON.stringify(live)}`);

  const refused = await fetch(`${base}/whep/web`, { method: "POST", headers: { "Content-Type": "application/sdp" }, body: "v=0\r\n" });
  assert(refused.status === 401, `WHEP POST without the watch key: ${refused.status}, want 401`);

  const v = await gstViewer(procs, { url: `${base}/whep/web`, token: "watch-key", minFrames: 60 });
  log(`gst viewer: ${JSON.stringify(v)}`);
  assert(v.videoFrames >= 60, `viewer decoded ${v.videoFrames} frames, want ≥ 60: ${v.error}`);
  assert(v.width > 0 && v.height > 0, `decoded picture ${v.width}x${v.height}`);
  assert(v.audioBuffers >= 25, `viewer decoded ${v.audioBuffers} audio buffers, want ≥ 25`);
  assert(v.ok && v.deleteStatus === 200, `viewer: ${v.error}, DELETE ${v.deleteStatus}`);
  await waitFor("viewer count 0 after DELETE", async () => (await streamInfo(base, "web"))?.viewers === 0, { timeoutMs: 5000 });
});
