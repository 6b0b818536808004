// Fast start in a real browser (issue #5): Chromium joins, mid-GOP, a publisher that ignores
// keyframe requests, and must decode a picture before that publisher's next keyframe could have
// reached it, then play at full rate without a freeze, with the jitter buffer back at live latency.
//
// Publisher: the load tool (cmd/wisp-load publish) sends testdata/media/h264-720p.h264 (1280x720,
// 30 fps, IDR at frames 0 and 60 of 120: a keyframe every 2 s, looped) paced in real time. It is
// PLI-deaf like OBS and ffmpeg: it builds client.PublishOptions without HonorPLI, so a PLI or FIR
// is only counted (client/pace.go). This case checks that from the outside: 1.5 s after the
// browser joined, a second viewer (wisp-load view -pli) sends a PLI, which wisp passes on; the
// publisher must report ≥ 2 keyframe requests (that one and the one wisp sends when the video track
// starts), and yet the browser must decode keyframes only on the 2 s cadence predicted below. With
// HonorPLI switched on in the load tool the case fails (a keyframe at join + 1.65 s).
//
// The GOP phase comes from the server: GET /api/streams lists the stream's video codec once wisp
// has read the first video packet, which is frame 0 (an IDR). Polling every 10 ms puts the first
// keyframe's arrival T0 in (send time of the last poll without video, receipt of the first poll
// with it); we take the early end, so every predicted keyframe time is at or before the true one.
// The publisher paces on an absolute schedule (client/pace.go), so its keyframes arrive at
// T0 + 2 s·k.
//
// The watch page (wisp's own /watch/{stream}) is opened first; its WHEP POST is held by a route
// and released at T0 + 2 s·k + 0.6 s: the publisher's next keyframe is then 1.4 s away (asserted
// ≥ 0.8 s). Without fast start the first frame it can decode is that keyframe. The deadline for
// the first decoded frame is that keyframe's send time minus MARGIN_MS (300 ms, far above the T0
// uncertainty, asserted < 100 ms, and the 20 ms stats probe): about 1.1 s after the join. The
// browser's own later keyframes (keyFramesDecoded) must land on the predicted cadence, which
// checks the phase estimate and that no keyframe came on request.
import { join } from "node:path";
import { assert, env, interopDir, launchChromium, logPage, pending, runCase, sleep, startWisp, streamInfo, waitFor } from "../lib/harness.mjs";

const STREAM = "faststart";
const CLIP = join(interopDir, "..", "testdata", "media", "h264-720p.h264");
const FPS = 30;
const GOP_MS = 2000; // IDR every 60 frames at 30 fps
const JOIN_PHASE_MS = 600; // join 0.6 s into a GOP
const MIN_AHEAD_MS = 800; // the publisher's next keyframe must be at least this far from the join
const MARGIN_MS = 300; // the first frame must come this much before that keyframe is sent
const WINDOW_MS = 5000; // playback window after the first frame
const MIN_FRAMES = Math.ceil(0.9 * FPS * WINDOW_MS / 1000); // 135
const MAX_FREEZE_S = 0.2;
const MAX_JITTER_MS = 200;
const PLI_AT_MS = 1500; // when the keyframe-requesting viewer starts, after the join

// Page-side probe, installed before the page's scripts: every 20 ms, the inbound video stats of
// the page's current RTCPeerConnection (window.wisp.pc), stamped with Date.now() after getStats
// resolved (so a stamp is never earlier than what it reports).
function installProbe() {
  const probe = { samples: [], keyframes: [], connectedAt: 0, notYetAt: 0, pcs: 0 };
  window.__probe = probe;
  let pc = null;
  let busy = false;
  setInterval(async () => {
    const cur = window.wisp?.pc;
    if (!cur || busy) return;
    if (cur !== pc) {
      pc = cur;
      probe.pcs++;
      const seen = pc;
      seen.addEventListener("connectionstatechange", () => {
        if (seen.connectionState === "connected" && !probe.connectedAt) probe.connectedAt = Date.now();
      });
    }
    busy = true;
    try {
      const report = await pc.getStats();
      const t = Date.now();
      let decoded = false;
      report.forEach((r) => {
        if (r.type !== "inbound-rtp" || r.kind !== "video") return;
        const s = {
          t, framesDecoded: r.framesDecoded || 0, keyFramesDecoded: r.keyFramesDecoded || 0,
          freezeCount: r.freezeCount || 0, totalFreezesDuration: r.totalFreezesDuration || 0,
          jitterBufferDelay: r.jitterBufferDelay || 0, jitterBufferEmittedCount: r.jitterBufferEmittedCount || 0,
          packetsLost: r.packetsLost || 0, pliCount: r.pliCount || 0, nackCount: r.nackCount || 0,
          framesDropped: r.framesDropped || 0, frameWidth: r.frameWidth || 0, frameHeight: r.frameHeight || 0,
        };
        const prev = probe.samples.at(-1);
        if (s.keyFramesDecoded > (prev?.keyFramesDecoded || 0)) probe.keyframes.push([t, s.keyFramesDecoded]);
        probe.samples.push(s);
        decoded = s.framesDecoded > 0;
      });
      if (!decoded) probe.notYetAt = t; // the last stats without a decoded frame

    } catch {
      // a closed pc may refuse getStats
    } finally {
      busy = false;
    }
  }, 20);
}

runCase(async ({ procs, log, defer }) => {
  const base = await startWisp(procs);

  // 1. The PLI-deaf publisher, and T0 from the server.
  const pub = procs.start("wisp-load-publish", env.wispLoad,
    ["publish", "-whip", `${base}/whip/${STREAM}`, "-video", CLIP, "-fps", String(FPS), "-duration", "120s"], { capture: true });
  let prevSent = 0;
  const live = await waitFor(`stream ${STREAM} live with video (first video packet at wisp)`, async () => {
    assert(pub.exitCode === null && pub.signalCode === null, `wisp-load exited (${pub.exitCode ?? pub.signalCode}); see wisp-load-publish.log`);
    const sent = Date.now();
    const s = await streamInfo(base, STREAM);
    const recv = Date.now();
    if (s?.live && s.video) return { s, sent, recv, prevSent };
    prevSent = sent;
    return null;
  }, { timeoutMs: 15000, intervalMs: 10 });
  assert(live.prevSent > 0, "the stream had video at the first poll: T0 unknown");
  const T0 = live.prevSent;
  const t0Uncertainty = live.recv - live.prevSent;
  assert(t0Uncertainty < 100, `T0 known only within ${t0Uncertainty} ms`);
  assert(live.s.video === "video/h264", `stream video ${live.s.video}`);
  log(`publisher live: ${JSON.stringify(live.s)}; first keyframe at wisp T0 within [${T0}, ${live.recv}] (${t0Uncertainty} ms)`);

  // 2. The watch page, its WHEP POST held until the chosen phase.
  const browser = await launchChromium();
  defer(() => browser.close());
  log(`chromium ${browser.version()}`);
  const ctx = await browser.newContext();
  await ctx.addInitScript(installProbe);
  const page = await ctx.newPage();
  logPage(page, "watch", log);
  let postedAt = 0;
  let joinAt = 0;
  let release;
  const released = new Promise((r) => { release = r; });
  await page.route((url) => url.pathname === `/whep/${STREAM}`, async (route) => {
    if (route.request().method() !== "POST" || joinAt) return route.continue();
    postedAt = Date.now();
    await released;
    joinAt = Date.now();
    await route.continue();
  });
  await page.goto(`${base}/watch/${STREAM}`);
  await waitFor("the watch page to POST its WHEP offer", () => postedAt, { timeoutMs: 10000, intervalMs: 10 });

  const k = Math.max(1, Math.ceil((Date.now() + 50 - T0 - JOIN_PHASE_MS) / GOP_MS));
  const target = T0 + k * GOP_MS + JOIN_PHASE_MS;
  await sleep(target - Date.now()); // pacing to the chosen GOP phase, not a wait for a result
  release();
  await waitFor("the held POST to be released", () => joinAt, { timeoutMs: 2000, intervalMs: 5 });
  const phase = (joinAt - T0) % GOP_MS;
  const nextKey = joinAt + (GOP_MS - phase); // send time of the publisher's next keyframe (≤ true)
  const deadline = nextKey - MARGIN_MS;
  log(`join (POST released) at T0 + ${joinAt - T0} ms: ${phase} ms into the GOP; the publisher's next keyframe ` +
    `is sent at join + ${nextKey - joinAt} ms; first-frame deadline join + ${deadline - joinAt} ms`);
  assert(nextKey - joinAt >= MIN_AHEAD_MS, `joined ${phase} ms into the GOP: next keyframe only ${nextKey - joinAt} ms away`);

  // 3. The first decoded frame, before the publisher's next keyframe could have arrived.
  const probe = () => page.evaluate(() => window.__probe);
  const first = await waitFor("the watch page's first decoded frame", async () => {
    const p = await probe();
    const s = p.samples.find((x) => x.framesDecoded >= 1);
    return s && { ...s, notYetAt: p.notYetAt };
  }, { timeoutMs: 10000, intervalMs: 20 });
  const firstMs = first.t - joinAt;
  log(`first decoded frame by join + ${firstMs} ms (none yet at join + ${first.notYetAt - joinAt} ms): ${JSON.stringify(first)}`);
  assert(first.t <= deadline, `first frame decoded at join + ${firstMs} ms, after the deadline join + ${deadline - joinAt} ms ` +
    `(the publisher's next keyframe is sent at join + ${nextKey - joinAt} ms): no fast start`);
  assert(first.keyFramesDecoded >= 1, `first decoded frame without a keyframe: ${JSON.stringify(first)}`);

  // A keyframe request in mid-GOP: a second viewer (the load tool) sends one PLI when its video
  // starts, about join + 1.65 s, 0.25 s into the next GOP; wisp passes it to the publisher. A
  // publisher that honoured it would send a keyframe at once, off the 2 s cadence checked below.
  await sleep(joinAt + PLI_AT_MS - Date.now()); // pacing, not a wait for a result
  const pliViewer = procs.start("wisp-load-view-pli", env.wispLoad, ["view", "-whep", `${base}/whep/${STREAM}`, "-n", "1",
    "-pli", "-audio-track=false", "-settle", "0s", "-duration", "1s"], { capture: true });
  const pliAt = Date.now();

  // 4. Playback over the next WINDOW_MS, and the jitter buffer 3–4 s after the join.
  const end = Math.max(first.t + WINDOW_MS, joinAt + 4000) + 50;
  const p = await waitFor(`stats up to join + ${end - joinAt} ms`, async () => {
    const v = await probe();
    return v.samples.at(-1)?.t >= end && v;
  }, { timeoutMs: end - Date.now() + 5000, intervalMs: 100 });
  assert(p.pcs === 1, `the watch page used ${p.pcs} RTCPeerConnections: it reconnected`);
  const at = (t) => p.samples.find((s) => s.t >= t);
  const w = at(first.t + WINDOW_MS);
  const frames = w.framesDecoded - first.framesDecoded;
  const a = at(joinAt + 3000);
  const b = at(a.t + 1000);
  const jitterMs = (1000 * (b.jitterBufferDelay - a.jitterBufferDelay)) / (b.jitterBufferEmittedCount - a.jitterBufferEmittedCount);
  const keys = p.keyframes.map(([t, n]) => `#${n}@join+${t - joinAt}`).join(" ");
  const m = {
    connectMs: p.connectedAt - joinAt, firstFrameMs: firstMs, deadlineMs: deadline - joinAt, nextKeyMs: nextKey - joinAt,
    framesIn5s: frames, windowMs: w.t - first.t, freezeCount: w.freezeCount, totalFreezesDuration: w.totalFreezesDuration,
    jitterBufferMs: Math.round(jitterMs), size: `${w.frameWidth}x${w.frameHeight}`, packetsLost: w.packetsLost,
    framesDropped: w.framesDropped, pliSent: w.pliCount, nackSent: w.nackCount,
  };
  log(`keyframes decoded (browser clock): ${keys}`);
  log(`FAST START TIMING ${JSON.stringify(m)}`);
  assert(w.frameWidth === 1280 && w.frameHeight === 720, `decoded ${m.size}, want 1280x720`);
  assert(frames >= MIN_FRAMES, `${frames} frames decoded in the ${m.windowMs} ms after the first, want ≥ ${MIN_FRAMES}`);
  assert(w.freezeCount === 0 || w.totalFreezesDuration < MAX_FREEZE_S,
    `${w.freezeCount} freezes, ${w.totalFreezesDuration} s frozen in the window`);
  assert(b.jitterBufferEmittedCount > a.jitterBufferEmittedCount && jitterMs < MAX_JITTER_MS,
    `jitter buffer delay ${jitterMs.toFixed(1)} ms per frame between join + ${a.t - joinAt} and + ${b.t - joinAt} ms, want < ${MAX_JITTER_MS}`);

  // The keyframes after the first are the publisher's own, on the predicted 2 s cadence: none
  // came early (so no keyframe request was honoured) and the phase estimate holds.
  const live2 = p.keyframes.slice(1);
  assert(live2.length >= 2, `only ${p.keyframes.length} keyframes decoded by join + ${end - joinAt} ms`);
  for (const [i, [t]] of live2.entries()) {
    const sent = nextKey + i * GOP_MS;
    assert(t >= sent - 20 && t <= sent + 700,
      `keyframe ${i + 2} decoded at join + ${t - joinAt} ms; the publisher sends it at join + ${sent - joinAt} ms`);
  }

  // The publisher received keyframe requests and ignored them (its JSON report, at SIGTERM): the
  // one wisp sends when the video track starts and the PLI viewer's.
  await waitFor("the PLI viewer to exit", () => pliViewer.exitCode !== null || pliViewer.signalCode !== null,
    { timeoutMs: 15000, intervalMs: 50 });
  const pv = JSON.parse(pliViewer.stdoutText);
  log(`PLI viewer started at join + ${pliAt - joinAt} ms: ${JSON.stringify({ connected: pv.connected, joinConnectedMs: pv.joinConnectedMs, joinFirstKeyframeMs: pv.joinFirstKeyframeMs, errors: pv.errors })}`);
  assert(pliViewer.exitCode === 0 && pv.connected === 1, `the PLI viewer failed (exit ${pliViewer.exitCode}): ${pliViewer.stdoutText}`);
  const info = await waitFor("wisp to list only the browser viewer", async () => {
    const s = await streamInfo(base, STREAM);
    return s?.viewers === 1 ? s : pending({ stream: s });
  }, { timeoutMs: 10000, intervalMs: 100 });
  assert(info.live, `wisp lists ${JSON.stringify(info)}`);
  process.kill(pub.pid, "SIGTERM");
  const exit = await waitFor("wisp-load to exit after SIGTERM", () => pub.exitCode !== null || pub.signalCode !== null,
    { timeoutMs: 10000, intervalMs: 50 }).then(() => ({ code: pub.exitCode, signal: pub.signalCode }));
  assert(exit.code === 0, `wisp-load exited ${JSON.stringify(exit)}`);
  const report = JSON.parse(pub.stdoutText);
  const requests = report.stats.PLI + report.stats.FIR;
  log(`publisher report: ${JSON.stringify(report)}`);
  assert(requests >= 2, `the publisher received ${requests} keyframe requests, want ≥ 2 (wisp's and the PLI viewer's): ${JSON.stringify(report.stats)}`);
  const summary = `join → first frame ${m.firstFrameMs} ms (connected ${m.connectMs} ms; deadline ${m.deadlineMs} ms, ` +
    `next publisher keyframe ${m.nextKeyMs} ms); ${frames} frames in ${m.windowMs} ms; freezes ${m.freezeCount} ` +
    `(${m.totalFreezesDuration} s); jitter buffer ${m.jitterBufferMs} ms; publisher ignored ${requests} keyframe requests`;
  log(summary);
  console.log(`  ${summary}`);
});

