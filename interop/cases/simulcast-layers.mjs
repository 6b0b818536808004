// interop-timeout: 180
// Per-viewer simulcast layers in real browsers (issue 12, Done-when 4; WHEPX-05, WHEPX-06): a
// Chromium publisher on the publish page with #simulcast (the fake camera at 1280x720 sent as
// three encodings l, m, h), two Chromium watch pages on wisp run with -auto-layers=true. One watch
// page runs in its own network namespace behind a tc tbf cap on its veth (lib/netcap.mjs) of 0.85
// of what m carries (the fake camera's simple picture: about 100, 200-280 and 300-500 kbit/s for
// l, m, h against their 150k/500k/1.5M caps), set once wisp measures the layers; the other is not
// capped. The publisher sends video only. Asserted, from each page's getStats (inbound-rtp
// frameWidth) and its layer section:
//   1. the capped page decodes a smaller picture than the uncapped one: it is on the lowest layer,
//      which its section marks as received (Auto pressed), and /api/streams counts it there;
//   2. clicking the capped page's button for the middle layer changes what it decodes to that
//      layer's size (the button pressed), and it keeps decoding it (the cap raised to twice m's
//      rate for this step: through the cap m arrives with heavy losses);
//   3. with the cap back, clicking Auto brings it back to the automatic choice: the lowest layer.
// Time bounds count the uncapped page's decoded frames (the media's own clock, which a loaded
// machine slows down with the media), with a wall-clock net far above them.
import { assert, launchChromium, pending, runCase, startWisp, streamInfo, waitFor } from "../lib/harness.mjs";
import { chooseLayer, layerView, openPublisher, openWatcher, watchStats } from "../lib/browser.mjs";
import { cappedPath } from "../lib/netcap.mjs";
import { join } from "node:path";

const STREAM = "layers";
// Bounds in frames of media decoded by the uncapped page (30 fps): a move down is decided after
// 1 s below the budget, once the viewer's feedback (1-2 s) shows it, and happens at the target
// layer's next keyframe, which wisp asks the publisher for; a pin or Auto is applied within
// 250 ms, at the layer's next keyframe.
const DOWN_FRAMES = 12 * 30;
const SWITCH_FRAMES = 8 * 30;
const HOLD_FRAMES = 30; // frames a page must go on decoding at a size to count as on that layer

runCase(async ({ procs, log, dir, defer }) => {
  const net = cappedPath("", { log });
  defer(() => net.close());
  // wisp's media sockets are on the case's end of the veth, which the publisher and the uncapped
  // page reach locally and the capped page through the cap. Its HTTP listens everywhere: the
  // publish page needs a secure context for the camera, which http://127.0.0.1 is and
  // http://10.77.0.1 is not, and the capped page reaches it at 10.77.0.1 only.
  await startWisp(procs, { http: "0.0.0.0:8080", args: ["-ice-host", net.hostIP, "-auto-layers=true"] });
  const base = "http://127.0.0.1:8080";
  const cappedBase = `http://${net.hostIP}:8080`;
  // Three browsers: the publisher's encoder does not share a process with either viewer.
  defer(async () => { // the viewers' outputs as wisp counted them, for the log
    const s = await streamInfo(base, STREAM).catch(() => null);
    log(`outputs: ${JSON.stringify(s?.outputs || [])}`);
  });
  const pubBrowser = await launchChromium();
  defer(() => pubBrowser.close());
  const browser = await launchChromium();
  defer(() => browser.close());
  const cappedBrowser = await launchChromium({ executablePath: net.chromium(dir) });
  defer(() => cappedBrowser.close());

  const { page: pub } = await openPublisher(pubBrowser, base, STREAM, null, log, { simulcast: true, media: "video" });
  const offer = await pub.evaluate(() => window.wisp.pc.localDescription.sdp);
  assert(/a=simulcast:send l;m;h/.test(offer), "the publish page's offer has no a=simulcast:send l;m;h");

  // wisp measures three layers, each larger than the one below. Chromium starts its estimate of
  // the path to wisp at 300 kbit/s and adds its layers as it grows: h comes last (about 20 s).
  const sizes = await waitFor("three video layers l < m < h with their sizes and rates in /api/streams", async () => {
    const s = await streamInfo(base, STREAM);
    const ls = s?.layers || [];
    const by = Object.fromEntries(ls.map((l) => [l.rid, l]));
    const ok = ls.length === 3 && ["l", "m", "h"].every((r) => by[r]?.width > 0 && by[r].active && by[r].bitrate > 0) &&
      by.l.width < by.m.width && by.m.width < by.h.width;
    return ok ? by : pending({ layers: ls });
  }, { timeoutMs: 60000, intervalMs: 250 });
  log(`layers: ${["l", "m", "h"].map((r) => `${r} ${sizes[r].width}x${sizes[r].height} ${sizes[r].bitrate} bit/s`).join(", ")}`);
  // Then its estimate stops limiting the layers (outbound-rtp qualityLimitationReason leaves
  // "bandwidth"), and wisp's one-second rates of l and m settle apart.
  await waitFor("the publisher's layers no longer limited by its bandwidth estimate", async () => {
    const q = await pub.evaluate(async () => {
      const out = {};
      (await window.wisp.pc.getStats()).forEach((r) => {
        if (r.type === "outbound-rtp" && r.kind === "video") out[r.rid] = r.qualityLimitationReason;
      });
      return out;
    });
    return ["l", "m", "h"].every((r) => q[r] && q[r] !== "bandwidth") ? q : pending(q);
  }, { timeoutMs: 60000, intervalMs: 500 });
  // The cap: 0.85 of what m carries (the fake camera's picture is simple, so each layer carries
  // less than its maxBitrate): l fits with room (m is at least 1.6 l), m does not, though a page
  // that pins it still decodes it (with losses).
  // Chromium gives h what its estimate has left once l and m are at their rates: h at 300 kbit/s
  // means l and m are settled.
  const rates = await waitFor("wisp's rates of the layers: h at 300 kbit/s, m at least 1.6 times l", async () => {
    const s = await streamInfo(base, STREAM);
    const by = Object.fromEntries((s?.layers || []).map((x) => [x.rid, x.bitrate]));
    return by.h >= 300_000 && by.l > 0 && by.m >= 1.6 * by.l ? by : pending(by);
  }, { timeoutMs: 30000, intervalMs: 500 });
  const cap = `${Math.round((0.85 * rates.m) / 1000)}kbit`;
  log(`rates: ${JSON.stringify(rates)}; cap ${cap}`);
  net.shape(cap);

  const { page: free } = await openWatcher(browser, base, STREAM, log, "watch uncapped");
  const { page: capped } = await openWatcher(cappedBrowser, cappedBase, STREAM, log, "watch capped");

  // The capped page's receive statistics, logged every 2 s for the artefacts.
  const inbound = (page) => page.evaluate(async () => {
    let v = null;
    (await window.wisp.pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") v = r;
    });
    if (!v) return null;
    const { packetsReceived, packetsLost, nackCount, pliCount, firCount, framesReceived, framesDecoded, framesDropped, keyFramesDecoded, frameWidth, freezeCount, totalFreezesDuration } = v;
    return { packetsReceived, packetsLost, nackCount, pliCount, firCount, framesReceived, framesDecoded, framesDropped, keyFramesDecoded, frameWidth, freezeCount, totalFreezesDuration };
  }).catch(() => null);
  const statsTimer = setInterval(async () => log(`capped inbound: ${JSON.stringify(await inbound(capped))}`), 2000);
  defer(() => clearInterval(statsTimer));

  // The media clock: frames the uncapped page has decoded.
  const clock = async () => (await watchStats(free)).framesDecoded;
  async function withinFrames(what, frames, fn) {
    const start = await clock();
    return waitFor(`${what} (within ${frames} frames of the uncapped page)`, async () => {
      const now = await clock();
      const r = await fn();
      if (r && !r.__pending) return r;
      assert(now - start <= frames, `${what}: not within ${frames} frames of media; last: ${JSON.stringify(r)}`);
      return r;
    }, { timeoutMs: 60000, intervalMs: 250 });
  }
  // onLayer waits until page decodes rid's size (from its own layer list) and then hold more
  // frames without leaving it; returns the page's view.
  async function onLayer(page, who, rid, frames, hold = HOLD_FRAMES) {
    const first = await withinFrames(`${who} decoding layer ${rid}`, frames, async () => {
      const v = await layerView(page);
      const l = v.layers.find((x) => x.rid === rid);
      return l && v.frameWidth === l.width && v.frameHeight === l.height && v.receiving === rid ? v : pending(v);
    });
    return withinFrames(`${who} holding layer ${rid} for ${hold} frames`, SWITCH_FRAMES, async () => {
      const v = await layerView(page);
      assert(v.receiving === rid, `${who} left layer ${rid} for ${v.receiving} (${v.frameWidth}x${v.frameHeight})`);
      return v.framesDecoded >= first.framesDecoded + hold ? v : pending({ framesDecoded: v.framesDecoded });
    });
  }

  await waitFor("the uncapped page decoding", async () => ((await clock()) >= 30 ? true : pending({})), { timeoutMs: 30000 });

  // 1. Capped: down to the lowest layer by itself; uncapped above it.
  const low = await onLayer(capped, "the capped page", "l", DOWN_FRAMES);
  const up = await watchStats(free);
  assert(up.frameWidth > low.frameWidth,
    `the uncapped page decodes ${up.frameWidth}x${up.frameHeight}, not more than the capped one's ${low.frameWidth}x${low.frameHeight}`);
  assert(low.shown, "the capped page does not show its layer section for a three-layer stream");
  assert(low.buttons.map((b) => b.rid).join() === ",h,m,l", `layer buttons ${JSON.stringify(low.buttons)}: want Auto, h, m, l`);
  assert(low.buttons[0].pressed && low.buttons.slice(1).every((b) => !b.pressed), `Auto is not the pressed button: ${JSON.stringify(low.buttons)}`);
  assert(low.buttons.every((b) => b.label), "a layer button has no accessible label");
  assert(low.rows.find((r) => r.receiving)?.rid === "l", `the capped page's table marks ${JSON.stringify(low.rows)} as received, want l`);
  log(`capped: ${low.frameWidth}x${low.frameHeight} (${low.status}); uncapped: ${up.frameWidth}x${up.frameHeight}`);
  await capped.screenshot({ path: join(dir, "watch-capped.png"), fullPage: true });
  // wisp counts each viewer on the layer its output sends: the capped one on l, the other above.
  await waitFor("/api/streams counting the capped viewer on l and the other on m or h", async () => {
    const s = await streamInfo(base, STREAM);
    const n = Object.fromEntries((s?.layers || []).map((l) => [l.rid, l.viewers]));
    return n.l === 1 && n.m + n.h === 1 ? n : pending(n);
  }, { timeoutMs: 5000 });

  // 2. A layer button changes what the capped page decodes: pin the middle layer. m does not fit
  // the cap (through it the page decodes m with heavy losses, a frame now and then), so the cap is
  // raised to twice m's rate for this step and put back before Auto.
  net.shape(`${Math.round((2 * rates.m) / 1000)}kbit`);
  await chooseLayer(capped, "m");
  const pinned = await onLayer(capped, "the capped page after clicking m", "m", SWITCH_FRAMES);
  assert(pinned.choice === "m" && pinned.buttons.find((b) => b.rid === "m")?.pressed, `m is not pressed after the click: ${JSON.stringify(pinned.buttons)}`);
  assert(pinned.frameWidth > low.frameWidth, `pinned m decodes ${pinned.frameWidth}x${pinned.frameHeight}, not larger than l's`);
  log(`capped, m pinned: ${pinned.frameWidth}x${pinned.frameHeight} (${pinned.status})`);

  // 3. Auto: back to the automatic choice, which the cap (put back) keeps on the lowest layer.
  net.shape(cap);
  await chooseLayer(capped, "");
  const auto = await onLayer(capped, "the capped page after clicking Auto", "l", DOWN_FRAMES);
  assert(auto.choice === "" && auto.buttons[0].pressed, `Auto is not pressed after the click: ${JSON.stringify(auto.buttons)}`);
  const up2 = await watchStats(free);
  log(`capped, Auto: ${auto.frameWidth}x${auto.frameHeight} (${auto.status}); uncapped: ${up2.frameWidth}x${up2.frameHeight}`);
  console.log(`  layers l ${sizes.l.width}x${sizes.l.height}, m ${sizes.m.width}x${sizes.m.height}, h ${sizes.h.width}x${sizes.h.height}; ` +
    `capped ${cap}: ${low.frameWidth} → m pinned ${pinned.frameWidth} → Auto ${auto.frameWidth}; uncapped ${up.frameWidth}`);
});
