// interop-timeout: 150
// Simulcast from the publish page's #simulcast box (issues 12 and 15), in Firefox (VP8, its
// automatic codec here) and in Chromium (H.264, its automatic codec): the camera asked for at
// 1280x720 and sent as three encodings; the offer carries a=simulcast:send l;m;h; wisp's
// /api/streams lists three video layers, rid l, m and h, whose picture sizes wisp read from their
// keyframes (stream.keyframeSize), each twice as wide and high as the one below; a Chromium watch
// page decodes the layer carrying the most bits, h, at that size, and its layer section lists the
// three layers with h marked as received. wisp runs with -auto-layers=false: this case checks the
// stream-wide choice (simulcast-layers checks the per-viewer one).
import { assert, launchChromium, launchFirefox, logPage, pending, runCase, startWisp, streamInfo, waitFor } from "../lib/harness.mjs";
import { layerView, openPublisher, openWatcher } from "../lib/browser.mjs";

const RIDS = ["l", "m", "h"];

// waitLayers waits until wisp lists the three layers of stream with their sizes, and returns them
// by rid.
function waitLayers(base, stream) {
  return waitFor(`${stream}: three video layers l, m, h with picture sizes`, async () => {
    const s = await streamInfo(base, stream);
    const by = Object.fromEntries((s?.layers || []).map((l) => [l.rid, l]));
    return RIDS.every((r) => by[r]?.width) && by.h.active ? { s, by } : pending({ layers: s?.layers });
  }, { timeoutMs: 20000, intervalMs: 250 });
}

// twice reports whether b is twice a's size, give or take an encoder's 16-pixel alignment.
const twice = (a, b) => Math.abs(b.width - 2 * a.width) <= 16 && Math.abs(b.height - 2 * a.height) <= 16;

runCase(async ({ procs, log, defer }) => {
  const base = await startWisp(procs, { args: ["-auto-layers=false"] });
  const chromium = await launchChromium();
  defer(() => chromium.close());
  const firefox = await launchFirefox();
  defer(() => firefox.close());
  const results = [];

  // Firefox: the publish page with #simulcast ticked.
  const ff = await firefox.newPage();
  logPage(ff, "firefox publish", log);
  await ff.goto(`${base}/publish/ffsim`);
  await ff.click("#simulcast");
  await ff.click("#start");
  await waitFor("Firefox's publish page connected", async () => {
    const st = await ff.$eval("#state", (e) => e.dataset.state);
    return st === "connected" || pending({ state: st, status: await ff.$eval("#status", (e) => e.textContent) });
  }, { timeoutMs: 20000 });
  const ffOffer = await ff.evaluate(() => window.wisp.pc.localDescription.sdp);
  assert(/a=simulcast:send l;m;h/.test(ffOffer), "Firefox's offer has no a=simulcast:send l;m;h");

  // Chromium: the same box.
  const { page: cr } = await openPublisher(chromium, base, "crsim", null, log, { simulcast: true });
  const crOffer = await cr.evaluate(() => window.wisp.pc.localDescription.sdp);
  assert(/a=simulcast:send l;m;h/.test(crOffer), "Chromium's offer has no a=simulcast:send l;m;h");

  for (const [who, stream] of [["Firefox", "ffsim"], ["Chromium", "crsim"]]) {
    const { s, by } = await waitLayers(base, stream);
    const { l, m, h } = by;
    log(`${who}: ${JSON.stringify(s.layers)}`);
    assert(twice(l, m) && twice(m, h), `${who}: layer sizes l ${l.width}x${l.height}, m ${m.width}x${m.height}, h ${h.width}x${h.height}: want each twice the one below`);
    const { page } = await openWatcher(chromium, base, stream, log, `watch ${stream}`);
    const w = await waitFor(`${who}: the watch page to decode layer h (${h.width}x${h.height})`, async () => {
      const x = await layerView(page);
      return x.frameWidth === h.width && x.framesDecoded >= 30 && x.receiving === "h" ? x : pending(x);
    }, { timeoutMs: 30000, intervalMs: 250 });
    assert(w.shown && w.buttons.map((b) => b.rid).join() === ",h,m,l", `${who}: the watch page's layer buttons ${JSON.stringify(w.buttons)}: want Auto, h, m, l`);
    assert(w.rows.find((r) => r.receiving)?.rid === "h", `${who}: the layer table marks ${JSON.stringify(w.rows)}, want h received`);
    results.push(`${who} (${s.video}): l ${l.width}x${l.height}, m ${m.width}x${m.height}, h ${h.width}x${h.height}; viewer decodes ${w.frameWidth}x${w.frameHeight}`);
  }
  log(results.join("; "));
  console.log(`  ${results.join("; ")}`);
});
