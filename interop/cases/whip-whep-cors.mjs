// npm whip-whep (Medooze WHIPClient / WHEPClient) in Chromium, from a page served on a different
// origin (127.0.0.1:8090, wisp on :8080) with bearer tokens, so CORS preflights and auth are
// exercised. whip-whep POSTs before ICE gathering (no candidates) and then PATCHes; wisp learns the
// browser's address from its STUN checks. Checks: a wrong publish token is refused (401, seen by
// the client through CORS), the publisher publishes, a viewer in a second context decodes ≥ 60
// frames with videoWidth > 0, and both clients' DELETEs end their sessions. The same page from an
// origin not in -cors-origins cannot publish at all (its preflight is refused).
import { join } from "node:path";
import { assert, interopDir, launchChromium, logPage, pending, runCase, startWisp, streamInfo, waitFor, waitLive } from "../lib/harness.mjs";
import { serveStatic } from "../lib/static-server.mjs";

runCase(async ({ procs, log, defer }) => {
  const mounts = { "/whip-whep/": join(interopDir, "node_modules", "whip-whep"), "/": join(interopDir, "www") };
  const site = await serveStatic(8090, mounts);
  defer(site.close);
  const otherSite = await serveStatic(8091, mounts); // an origin wisp does not allow
  defer(otherSite.close);
  const base = await startWisp(procs, {
    publishKeys: { medooze: "pub-token" }, watchKeys: { medooze: "watch-token" }, corsOrigins: [site.origin],
  });
  const browser = await launchChromium();
  defer(() => browser.close());

  const open = async (label, origin = site.origin) => {
    const ctx = await browser.newContext({ permissions: ["camera", "microphone"] });
    const page = await ctx.newPage();
    logPage(page, label, log);
    await page.goto(`${origin}/whip-whep.html`);
    await page.waitForFunction(() => window.interop);
    return page;
  };

  const pub = await open("whip");
  const refused = await pub.evaluate((u) => window.interop.publish(u, "wrong-token").then(() => "accepted", (e) => e.message), `${base}/whip/medooze`);
  assert(/401/.test(refused), `publishing with a wrong token: ${refused}, want a 401 rejection`);

  const foreign = await open("whip-foreign-origin", otherSite.origin);
  const blocked = await foreign.evaluate((u) => window.interop.publish(u, "pub-token").then(() => "accepted", (e) => e.message), `${base}/whip/medooze`);
  assert(/fetch/i.test(blocked), `publishing from a disallowed origin: ${blocked}, want a CORS failure`);
  assert(!(await streamInfo(base, "medooze"))?.live, "a publisher from a disallowed origin went live");

  const pub2 = await open("whip");
  const whipLocation = await pub2.evaluate((u) => window.interop.publish(u, "pub-token"), `${base}/whip/medooze`);
  log(`WHIP session ${whipLocation}`);
  assert(whipLocation.startsWith(`${base}/whip/medooze/`), `WHIP Location ${whipLocation}`);
  await waitLive(base, "medooze");

  const view = await open("whep");
  const whepLocation = await view.evaluate((u) => window.interop.view(u, "watch-token"), `${base}/whep/medooze`);
  log(`WHEP session ${whepLocation}`);
  const s = await waitFor("WHEPClient viewer framesDecoded ≥ 60 and videoWidth > 0", async () => {
    const st = await view.evaluate(() => window.interop.stats());
    return st.framesDecoded >= 60 && st.videoWidth > 0 ? st : pending(st);
  }, { timeoutMs: 30000, intervalMs: 500 });
  log(`viewer stats: ${JSON.stringify(s)}`);
  assert(s.audioPackets > 0, "the viewer received no audio packets");
  assert((await streamInfo(base, "medooze")).viewers === 1, "wisp does not count the viewer");

  await view.evaluate(() => window.interop.stop());
  await waitFor("viewer count 0 after WHEPClient.stop()", async () => (await streamInfo(base, "medooze"))?.viewers === 0, { timeoutMs: 5000 });
  await pub2.evaluate(() => window.interop.stop());
  await waitFor("stream offline after WHIPClient.stop()", async () => !(await streamInfo(base, "medooze"))?.live, { timeoutMs: 5000 });

  // What the clients sent: whip-whep PATCHes its candidates after the POST (wisp: 204; whep.js
  // sends no If-Match, accepted by the default -lenient-if-match) and DELETEs on stop. Both stop() methods close the
  // PeerConnection first, so the DTLS close_notify usually ends the session before the DELETE
  // arrives: then 404 (COMMON-18: an ended session). DELETE → 200 on a live session is asserted
  // by the GStreamer viewer cases.
  const whipReqs = await pub2.evaluate(() => window.interop.requests);
  const whepReqs = await view.evaluate(() => window.interop.requests);
  log(`whip requests: ${JSON.stringify(whipReqs)}`);
  log(`whep requests: ${JSON.stringify(whepReqs)}`);
  const statuses = (reqs, method) => reqs.filter((r) => r.method === method).map((r) => r.status ?? r.error);
  // whep.js also POSTs its event list to the server-sent-events URL (WHEPX-02): 201 as well.
  const sessionPosts = whepReqs.filter((r) => r.method === "POST" && !r.url.endsWith("/events"));
  assert(JSON.stringify(sessionPosts.map((r) => r.status ?? r.error)) === "[201]", `WHEP POSTs ${statuses(whepReqs, "POST")}`);
  const events = whepReqs.filter((r) => r.method === "POST" && r.url.endsWith("/events"));
  assert(events.length <= 1 && events.every((r) => r.status === 201), `WHEP event POSTs ${JSON.stringify(events)}`);
  assert(/^\[(200|404)\]$/.test(JSON.stringify(statuses(whepReqs, "DELETE"))), `WHEP DELETEs ${statuses(whepReqs, "DELETE")}`);
  assert(JSON.stringify(statuses(whipReqs, "POST")) === "[201]", `WHIP POSTs ${statuses(whipReqs, "POST")}`);
  assert(/^\[(200|404)\]$/.test(JSON.stringify(statuses(whipReqs, "DELETE"))), `WHIP DELETEs ${statuses(whipReqs, "DELETE")}`);
  for (const r of [...whipReqs, ...whepReqs].filter((r) => r.method === "PATCH")) {
    assert(r.status === 204, `PATCH ${r.url}: ${r.status ?? r.error}, want 204 (trickle, COMMON-21)`);
  }
});
