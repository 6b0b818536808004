// Headless Chromium on wisp's own pages: /publish with the fake camera and a stream key publishes,
// /watch in a second browser context decodes ≥ 60 frames (getStats framesDecoded, videoWidth > 0)
// and shows, in order, the data messages typed on the publish page. A screenshot of the watch page
// is saved as an artefact and checked to be non-blank.
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { assert, checkNotBlank, launchChromium, runCase, startWisp, waitFor, waitLive } from "../lib/harness.mjs";
import { openPublisher, openWatcher, waitDecoded } from "../lib/browser.mjs";

runCase(async ({ procs, log, dir, defer }) => {
  const base = await startWisp(procs, { publishKeys: { cam: "pub-key" } });
  const browser = await launchChromium();
  defer(() => browser.close());
  log(`chromium ${browser.version()}`);

  const pub = await openPublisher(browser, base, "cam", "pub-key", log);
  const live = await waitLive(base, "cam");
  log(`live: ${JSON.stringify(live)}`);

  const watch = await openWatcher(browser, base, "cam", log);
  const s = await waitDecoded(watch.page, 60);
  log(`watch stats: ${JSON.stringify(s)}`);
  assert(s.videoCodec, "no video codec in the watch stats");
  assert(s.audio && s.audio.packetsReceived > 0, `watch page received no audio: ${JSON.stringify(s.audio)}`);

  // The viewer's data channel must be open before messages are sent (the relay mirrors live).
  await waitFor("watch page data channel open", () => watch.page.evaluate(() => window.wisp.dc?.readyState === "open"));
  const texts = ["hello from the publish page", "second message <b>not html</b>", "third: ünïcødé ✓"];
  for (const t of texts) {
    await pub.page.fill("#message", t);
    await pub.page.click("#send");
  }
  const got = await waitFor("watch page to show the 3 messages", async () => {
    const m = await watch.page.evaluate(() => window.wisp.messages.slice());
    return m.length >= texts.length ? m : null;
  }, { timeoutMs: 10000 });
  assert(JSON.stringify(got) === JSON.stringify(texts), `messages ${JSON.stringify(got)}, want ${JSON.stringify(texts)}`);
  const shown = await watch.page.$$eval("#messages li", (lis) => lis.map((li) => li.textContent));
  assert(JSON.stringify(shown) === JSON.stringify(texts), `#messages shows ${JSON.stringify(shown)}`);
  assert((await watch.page.$$("#messages b")).length === 0, "a message was rendered as HTML");

  const phase = await watch.page.getAttribute("#status", "data-phase");
  assert(phase === "live", `watch phase ${phase}, want live`);
  const png = await watch.page.screenshot({ fullPage: true });
  writeFileSync(join(dir, "watch.png"), png);
  const m = await checkNotBlank(browser, png);
  log(`screenshot: ${JSON.stringify(m)}`);
  const player = await watch.page.locator("#player").screenshot();
  writeFileSync(join(dir, "player.png"), player);
  await checkNotBlank(browser, player);
});
