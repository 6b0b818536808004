// Fast start for VP9, AV1 (Chromium) and H.265 (GStreamer) (issue 15): the load tool publishes a
// 10 s clip with one keyframe, looped (testdata/media/{vp9,av1}-gop10s.ivf, h265-gop10s.h265:
// keyframes 10 s apart) and ignores keyframe requests, as OBS and ffmpeg do. A viewer joins 3 s
// into a GOP; the publisher's next keyframe is 7 s away. wisp recognises each codec's keyframes
// (stream/keyframe_{vp9,av1,h265}.go) and starts the viewer from the cached one, so its first
// frame must be decoded within FIRST_MS (3 s) of the join: 4 s before the next keyframe could
// arrive. Without a detector for the codec the first frame comes only with that keyframe and the
// case fails. Then the viewer keeps decoding (≥ 30 more frames).
//
// T0 (the first keyframe's arrival at wisp) comes from GET /api/streams, polled every 10 ms, as
// in fast-start.mjs; the publisher paces on an absolute schedule, so its keyframes arrive at
// T0 + 10 s·k. The join is timed from page.goto (Chromium) or the viewer's start (GStreamer),
// both before the WHEP POST, so the measured delay is an upper bound.
import { join } from "node:path";
import { assert, env, gstViewer, interopDir, launchChromium, logPage, pending, runCase, sleep, startWisp, streamInfo, waitFor } from "../lib/harness.mjs";

const GOP_MS = 10000;
const JOIN_PHASE_MS = 3000;
const FIRST_MS = 3000;
const media = (f) => join(interopDir, "..", "testdata", "media", f);

// startPublisher starts the PLI-deaf load tool on clip and returns it with T0.
async function startPublisher(procs, base, stream, clip, mime) {
  const pub = procs.start(`wisp-load-${stream}`, env.wispLoad,
    ["publish", "-whip", `${base}/whip/${stream}`, "-video", media(clip), "-fps", "30", "-duration", "60s"], { capture: true });
  let prevSent = 0;
  const live = await waitFor(`stream ${stream} live with video`, async () => {
    assert(pub.exitCode === null && pub.signalCode === null, `wisp-load exited (${pub.exitCode ?? pub.signalCode}); see wisp-load-${stream}.log`);
    const sent = Date.now();
    const s = await streamInfo(base, stream);
    if (s?.live && s.video) return { s, recv: Date.now(), prevSent };
    prevSent = sent;
    return null;
  }, { timeoutMs: 15000, intervalMs: 10 });
  assert(live.prevSent > 0 && live.recv - live.prevSent < 100, `T0 unknown (${JSON.stringify(live)})`);
  assert(live.s.video === mime, `stream video ${live.s.video}, want ${mime}`);
  return { pub, T0: live.prevSent };
}

// untilJoin waits (pacing, not a wait for a result) until JOIN_PHASE_MS into the next GOP that leaves room.
async function untilJoin(T0) {
  const k = Math.max(0, Math.ceil((Date.now() + 50 - T0 - JOIN_PHASE_MS) / GOP_MS));
  await sleep(T0 + k * GOP_MS + JOIN_PHASE_MS - Date.now());
  return Date.now();
}

runCase(async ({ procs, log, defer }) => {
  const base = await startWisp(procs);
  const browser = await launchChromium();
  defer(() => browser.close());
  const results = [];

  for (const [codec, clip, mime] of [["VP9", "vp9-gop10s.ivf", "video/vp9"], ["AV1", "av1-gop10s.ivf", "video/av1"]]) {
    const stream = `fs-${codec.toLowerCase()}`;
    const { pub, T0 } = await startPublisher(procs, base, stream, clip, mime);
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    logPage(page, `watch ${codec}`, log);
    const joinAt = await untilJoin(T0);
    await page.goto(`${base}/watch/${stream}`);
    const stats = () => page.evaluate(() => window.wisp.stats());
    const first = await waitFor(`${codec}: the first decoded frame`, async () => {
      const s = await stats();
      return s.framesDecoded >= 1 && s.frameWidth > 0 ? { ...s, t: Date.now() } : pending(s);
    }, { timeoutMs: GOP_MS + 5000, intervalMs: 50 });
    const firstMs = first.t - joinAt;
    const nextKeyMs = GOP_MS - ((joinAt - T0) % GOP_MS);
    log(`${codec}: joined ${(joinAt - T0) % GOP_MS} ms into the GOP; first frame by join + ${firstMs} ms; next keyframe at join + ${nextKeyMs} ms; ${JSON.stringify(first)}`);
    assert(first.videoCodec.toLowerCase() === mime, `${codec}: the page decodes ${first.videoCodec}`);
    assert(firstMs <= FIRST_MS, `${codec}: first frame at join + ${firstMs} ms, want ≤ ${FIRST_MS} ms (the publisher's next keyframe is at join + ${nextKeyMs} ms): no fast start`);
    assert(first.frameWidth === 320 && first.frameHeight === 240, `${codec}: ${first.frameWidth}x${first.frameHeight}`);
    const more = await waitFor(`${codec}: 30 more frames`, async () => {
      const s = await stats();
      return s.framesDecoded >= first.framesDecoded + 30 ? s : pending(s);
    }, { timeoutMs: 5000, intervalMs: 100 });
    results.push(`${codec} (Chromium) first frame ${firstMs} ms after the join, next keyframe ${nextKeyMs} ms`);
    log(`${codec}: ${more.framesDecoded} frames decoded`);
    await ctx.close();
    process.kill(pub.pid, "SIGTERM");
  }

  // H.265: Chromium on Linux has no H.265 decoder for WebRTC; GStreamer (avdec_h265) plays it.
  const { pub, T0 } = await startPublisher(procs, base, "fs-h265", "h265-gop10s.h265", "video/h265");
  const joinAt = await untilJoin(T0);
  const gst = await gstViewer(procs, { url: `${base}/whep/fs-h265`, minFrames: 30, minAudio: 0, timeoutS: 20, videoCodecs: "H265", name: "gst-viewer-h265" });
  const nextKeyMs = GOP_MS - ((joinAt - T0) % GOP_MS);
  log(`H265: joined ${(joinAt - T0) % GOP_MS} ms into the GOP; ${JSON.stringify(gst)}`);
  assert(gst.ok && gst.codecs.includes("H265"), `GStreamer H.265 viewer failed: ${JSON.stringify(gst)}`);
  assert(gst.width === 320 && gst.height === 240, `H265: ${gst.width}x${gst.height}`);
  const firstMs = Math.round(gst.firstFrameAfter * 1000);
  assert(firstMs <= FIRST_MS, `H265: first frame ${firstMs} ms after the viewer started, want ≤ ${FIRST_MS} ms (next keyframe at + ${nextKeyMs} ms)`);
  results.push(`H265 (GStreamer) first frame ${firstMs} ms after the viewer started, next keyframe ${nextKeyMs} ms`);
  process.kill(pub.pid, "SIGTERM");
  log(`FAST START CODECS ${results.join("; ")}`);
  console.log(`  ${results.join("; ")}`);
});
