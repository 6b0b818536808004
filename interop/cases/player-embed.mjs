// <wisp-player> on another site (issue 17, Done-when 4): a page served from another origin
// (127.0.0.1:8090) loads wisp's /player.js as a module (CORS on the redirect, the module and its
// import) and puts a <wisp-player> in the page. Chromium decodes frames in it, the publisher's
// data-channel message arrives as a "message" DOM event on the element, and after the publisher
// stops and starts again (a new WHIP session on the same stream) the player decodes frames again
// without any help from the page. /embed/{stream} in an <iframe> of that site plays too. wisp runs
// its built-in TURN server (-turn) and the element has the relay attribute: it may use only relay
// candidates, from the TURN server it learnt of by itself (the endpoint's ice-server Links).
import { join } from "node:path";
import { assert, interopDir, launchChromium, logPage, pending, runCase, startWisp, waitFor } from "../lib/harness.mjs";
import { openPublisher } from "../lib/browser.mjs";
import { serveStatic } from "../lib/static-server.mjs";

const STREAM = "embed";

runCase(async ({ procs, log, defer }) => {
  const site = await serveStatic(8090, { "/": join(interopDir, "www") });
  defer(site.close);
  const base = await startWisp(procs, {
    publishKeys: { [STREAM]: "pub-key" }, corsOrigins: [site.origin], args: ["-turn", "-turn-addr", "127.0.0.1:3478"],
  });
  const browser = await launchChromium();
  defer(() => browser.close());

  const { page: pub } = await openPublisher(browser, base, STREAM, "pub-key", log);

  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  logPage(page, "site", log);
  await page.goto(`${site.origin}/player.html?wisp=${encodeURIComponent(base)}&stream=${STREAM}&relay=1`);
  await page.waitForFunction(() => window.interop && (window.interop.player || window.interop.error));
  const err = await page.evaluate(() => window.interop.error);
  assert(!err, `loading the player from wisp: ${err}`);

  const stats = () => page.evaluate(() => window.interop.stats());
  const first = await waitFor("<wisp-player> framesDecoded ≥ 60 and videoWidth > 0", async () => {
    const s = await stats();
    return s.framesDecoded >= 60 && s.videoWidth > 0 ? s : pending(s);
  }, { timeoutMs: 30000, intervalMs: 500 });
  log(`player: ${JSON.stringify(first)}`);
  assert(first.candidate === "relay/udp", `the relay-only player plays over ${first.candidate}, want relay/udp (wisp's TURN)`);

  // A data message from the publish page arrives as a DOM event on the element.
  await pub.fill("#message", "hello from the publisher");
  await pub.click("#send");
  await waitFor("the relayed message as a 'message' event", async () => {
    const m = await page.evaluate(() => window.interop.messages);
    return m.includes("hello from the publisher") || pending({ messages: m });
  }, { timeoutMs: 10000 });

  // The publisher restarts: Stop, then Start again (a new WHIP session on the same stream).
  await pub.click("#stop");
  await waitFor("publish page stopped", async () => (await pub.getAttribute("#state", "data-state")) === "closed", { timeoutMs: 5000 });
  const before = await stats();
  await pub.click("#start");
  await waitFor("publish page connected again", async () => (await pub.getAttribute("#state", "data-state")) === "connected", { timeoutMs: 20000 });
  const after = await waitFor("<wisp-player> decoding again after the publisher restart (60 more frames)", async () => {
    const s = await stats();
    const more = s.pcs > before.pcs ? s.framesDecoded : s.framesDecoded - before.framesDecoded;
    return more >= 60 && s.videoWidth > 0 ? { ...s, more } : pending({ ...s, more });
  }, { timeoutMs: 30000, intervalMs: 500 });
  log(`after the publisher restart: ${JSON.stringify(after)}; phases ${JSON.stringify(await page.evaluate(() => window.interop.phases))}`);

  // The iframe page of the same stream, framed by the allowed site.
  await page.evaluate(({ base, stream }) => {
    const f = document.createElement("iframe");
    f.src = `${base}/embed/${stream}`;
    f.width = 320;
    f.height = 240;
    document.body.append(f);
  }, { base, stream: STREAM });
  const frame = await waitFor("the /embed iframe", async () => page.frames().find((f) => f.url().includes("/embed/")) || null, { timeoutMs: 5000 });
  await waitFor("/embed/{stream} decodes ≥ 30 frames in its iframe", async () => {
    const s = await frame.evaluate(async () => {
      const p = window.wisp;
      let n = 0;
      if (p?.pc) (await p.pc.getStats()).forEach((r) => { if (r.type === "inbound-rtp" && r.kind === "video") n = r.framesDecoded || 0; });
      return { framesDecoded: n, videoWidth: p?.videoWidth || 0 };
    });
    return s.framesDecoded >= 30 && s.videoWidth > 0 ? s : pending(s);
  }, { timeoutMs: 30000, intervalMs: 500 });
});
