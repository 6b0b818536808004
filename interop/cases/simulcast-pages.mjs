// interop-timeout: 150
// Simulcast from the publish page's #simulcast box (issue 15), in Firefox (VP8, its automatic
// codec here) and in Chromium (H.264, its automatic codec): the offer carries
// a=simulcast:send l;h; wisp's /api/streams lists two video feeds, rid "l" and "h", whose picture
// sizes wisp read from their keyframes (stream.keyframeSize) and "h" twice as wide as "l"; a
// Chromium watch page decodes the layer carrying the most bits, "h", at that width.
import { assert, launchChromium, launchFirefox, logPage, pending, runCase, startWisp, streamInfo, waitFor } from "../lib/harness.mjs";
import { openPublisher, openWatcher, watchStats } from "../lib/browser.mjs";

// waitLayers waits until wisp lists both layers of stream with their sizes, and returns them.
function waitLayers(base, stream) {
  return waitFor(`${stream}: two video feeds l and h with picture sizes`, async () => {
    const s = await streamInfo(base, stream);
    const video = (s?.feeds || []).filter((f) => f.kind === "video");
    const l = video.find((f) => f.rid === "l");
    const h = video.find((f) => f.rid === "h");
    return l?.width && h?.width && h.active ? { s, l, h } : pending({ feeds: video });
  }, { timeoutMs: 20000, intervalMs: 250 });
}

runCase(async ({ procs, log, defer }) => {
  const base = await startWisp(procs);
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
  assert(/a=simulcast:send l;h/.test(ffOffer), "Firefox's offer has no a=simulcast:send l;h");

  // Chromium: the same box.
  const { page: cr } = await openPublisher(chromium, base, "crsim", null, log, { simulcast: true });
  const crOffer = await cr.evaluate(() => window.wisp.pc.localDescription.sdp);
  assert(/a=simulcast:send l;h/.test(crOffer), "Chromium's offer has no a=simulcast:send l;h");

  for (const [who, stream] of [["Firefox", "ffsim"], ["Chromium", "crsim"]]) {
    const { s, l, h } = await waitLayers(base, stream);
    log(`${who}: ${JSON.stringify(s.feeds)}`);
    assert(Math.abs(h.width - 2 * l.width) <= 16 && Math.abs(h.height - 2 * l.height) <= 16,
      `${who}: layer sizes l ${l.width}x${l.height}, h ${h.width}x${h.height}: want h twice l`);
    const { page } = await openWatcher(chromium, base, stream, log, `watch ${stream}`);
    const w = await waitFor(`${who}: the watch page to decode layer h (${h.width}x${h.height})`, async () => {
      const x = await watchStats(page);
      return x.frameWidth === h.width && x.framesDecoded >= 30 ? x : pending({ frameWidth: x.frameWidth, framesDecoded: x.framesDecoded });
    }, { timeoutMs: 30000, intervalMs: 250 });
    results.push(`${who} (${h.codec}): l ${l.width}x${l.height}, h ${h.width}x${h.height}; viewer decodes ${w.frameWidth}x${w.frameHeight}`);
  }
  log(results.join("; "));
  console.log(`  ${results.join("; ")}`);
});
