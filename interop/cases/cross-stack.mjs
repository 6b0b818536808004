// Cross-stack: GStreamer (simple-whip-client, H.264 + Opus) publishes; Chromium on wisp's /watch
// page and the GStreamer webrtcbin WHEP viewer watch at the same time. Both must decode ≥ 60 frames
// (Chromium: getStats framesDecoded and videoWidth; GStreamer: decoded buffers after avdec_h264),
// and wisp must count two viewers while both play.
import { assert, gstViewer, launchChromium, runCase, startWhipClient, startWisp, streamInfo, waitFor, waitLive } from "../lib/harness.mjs";
import { openWatcher, waitDecoded } from "../lib/browser.mjs";

runCase(async ({ procs, log, defer }) => {
  const base = await startWisp(procs, { publishKeys: { mix: "pub-key" } });
  const pub = startWhipClient(procs, { url: `${base}/whip/mix`, token: "pub-key", codec: "h264" });
  await waitLive(base, "mix", { publisher: pub });
  const browser = await launchChromium();
  defer(() => browser.close());

  const watch = await openWatcher(browser, base, "mix", log);
  // The GStreamer viewer runs while Chromium plays; it needs 90 frames so that both overlap.
  const gst = gstViewer(procs, { url: `${base}/whep/mix`, minFrames: 90, timeoutS: 40 });
  await waitFor("wisp to count both viewers", async () => (await streamInfo(base, "mix"))?.viewers === 2, { timeoutMs: 15000 });
  const s = await waitDecoded(watch.page, 60);
  log(`chromium stats: ${JSON.stringify(s)}`);
  assert(s.videoCodec === "video/H264", `chromium decoded ${s.videoCodec}, want video/H264`);
  assert(s.videoWidth === 320, `chromium videoWidth ${s.videoWidth}, want 320`);

  const v = await gst;
  log(`gst viewer: ${JSON.stringify(v)}`);
  assert(v.videoFrames >= 90 && v.width === 320, `GStreamer viewer decoded ${v.videoFrames} frames at ${v.width}x${v.height}: ${v.error}`);
  assert(v.ok && v.deleteStatus === 200, `GStreamer viewer: ${v.error}, DELETE ${v.deleteStatus}`);
  const after = await waitDecoded(watch.page, s.framesDecoded + 30, 10000);
  log(`chromium still decoding after the GStreamer viewer left: ${after.framesDecoded}`);
  assert(pub.exitCode === null && pub.signalCode === null, `whip-client exited early (${pub.exitCode ?? pub.signalCode})`);
});
