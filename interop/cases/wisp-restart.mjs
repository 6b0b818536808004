// A restart of wisp under wisp's own pages in headless Chromium: /publish (fake camera) and
// /watch in a second browser context play; wisp is stopped (SIGTERM, then in a second round
// SIGKILL) and started again on the same HTTP and UDP ports. Without a reload, the publish page
// must re-publish by itself and the watch page must reconnect by itself (a new RTCPeerConnection,
// window.wisp.reconnects up), decode ≥ 60 more frames, and its <video> must keep advancing.
// The time from the new wisp's start to the first frame decoded after it is written to case.log.
import { assert, launchChromium, pending, runCase, startWisp, streamInfo, waitFor } from "../lib/harness.mjs";
import { openPublisher, openWatcher, waitDecoded, watchStats } from "../lib/browser.mjs";

const STREAM = "restart";
const KEY = "pub-key";
const wispOpts = { publishKeys: { [STREAM]: KEY } };

// Page-side probes, installed once per page (they survive only if the page is never reloaded):
// every #state and #status change, the DTLS transport's state and, on the watch page, when each
// RTCPeerConnection decoded its first video frame (checked every 50 ms).
function installProbes(page) {
  return page.evaluate(() => {
    const probe = { states: [], firstFrame: new Map() };
    window.__probe = probe;
    const out = document.querySelector("#state");
    new MutationObserver(() => probe.states.push([Date.now(), out.dataset.state]))
      .observe(out, { attributes: true, attributeFilter: ["data-state"] });
    const status = document.querySelector("#status");
    probe.statuses = [];
    new MutationObserver(() => probe.statuses.push([Date.now(), status.textContent]))
      .observe(status, { childList: true, characterData: true, subtree: true });
    const watching = !!document.querySelector("#player");
    let dtls = "";
    setInterval(async () => {
      const pc = window.wisp.pc;
      if (!pc) return;
      const d = pc.sctp?.transport?.state || pc.getTransceivers()[0]?.receiver.transport?.state || "";
      if (d !== dtls) probe.states.push([Date.now(), `dtls:${(dtls = d)}`]);
      if (!watching || probe.firstFrame.has(pc)) return;
      try {
        const report = await pc.getStats();
        report.forEach((r) => {
          if (r.type === "inbound-rtp" && r.kind === "video" && r.framesDecoded > 0 && !probe.firstFrame.has(pc)) {
            probe.firstFrame.set(pc, Date.now());
          }
        });
      } catch {
        // a closed pc may refuse getStats
      }
    }, 50);
  });
}

// Marks a page's current RTCPeerConnection as the old one.
const markOldPc = (page) => page.evaluate(() => { window.__oldPc = window.wisp.pc; });

function waitExit(child, ms) {
  return waitFor(`${child.name} (pid ${child.pid}) to exit`, () =>
    (child.exitCode !== null || child.signalCode !== null) && { code: child.exitCode, signal: child.signalCode },
  { timeoutMs: ms, intervalMs: 20 });
}

runCase(async ({ procs, log, defer }) => {
  let base = await startWisp(procs, wispOpts);
  let wisp = procs.children.at(-1);
  const browser = await launchChromium();
  defer(() => browser.close());
  log(`chromium ${browser.version()}`);

  const pub = await openPublisher(browser, base, STREAM, KEY, log);
  const watch = await openWatcher(browser, base, STREAM, log);
  const first = await waitDecoded(watch.page, 60);
  log(`before any restart: ${JSON.stringify(first)}`);
  await installProbes(pub.page);
  await installProbes(watch.page);

  const timings = [];
  for (const [round, signal] of ["SIGTERM", "SIGKILL"].entries()) {
    const tag = `${signal} round`;
    const before = {
      reconnects: await watch.page.evaluate(() => window.wisp.reconnects),
      restarts: await pub.page.evaluate(() => window.wisp.restarts),
    };
    await markOldPc(watch.page);
    await markOldPc(pub.page);

    const killedAt = Date.now();
    process.kill(wisp.pid, signal);
    const exit = await waitExit(wisp, 10000);
    log(`${tag}: ${wisp.name} pid ${wisp.pid} exited ${JSON.stringify(exit)} ${Date.now() - killedAt} ms after ${signal}`);
    if (signal === "SIGTERM") assert(exit.code === 0, `wisp exited ${JSON.stringify(exit)} on SIGTERM, want status 0`);
    await fetch(`${base}/api/streams`).then(
      () => assert(false, "something still answers on wisp's port after it exited"),
      () => {},
    );

    const restartedAt = Date.now();
    base = await startWisp(procs, { ...wispOpts, name: `wisp-${round + 2}` });
    wisp = procs.children.at(-1);
    const answeringAt = Date.now();
    log(`${tag}: ${wisp.name} pid ${wisp.pid} answers ${answeringAt - restartedAt} ms after its start, on the same ports`);

    // The watch page on a new pc (never reloaded) decodes its first frame.
    const ff = await waitFor(`${tag}: watch page to decode a frame on a new RTCPeerConnection`, async () => {
      const p = await watch.page.evaluate(() => ({
        newPc: window.wisp.pc !== window.__oldPc, reconnects: window.wisp.reconnects, phase: window.wisp.phase,
        probe: !!window.__probe, firstFrameAt: window.__probe?.firstFrame.get(window.wisp.pc),
        state: document.querySelector("#state").dataset.state,
      }));
      assert(p.probe, "the watch page lost its probe: it was reloaded");
      return p.newPc && p.firstFrameAt ? p : pending(p);
    }, { timeoutMs: 40000, intervalMs: 100 });
    const firstFrameAt = ff.firstFrameAt;
    assert(ff.reconnects > before.reconnects, `${tag}: window.wisp.reconnects ${ff.reconnects}, was ${before.reconnects}`);

    // ≥ 60 more frames on the new session, and the <video> advances.
    const s0 = await watchStats(watch.page);
    const t0 = await watch.page.evaluate(() => document.querySelector("#player").currentTime);
    const s1 = await waitDecoded(watch.page, s0.framesDecoded + 60, 15000);
    const t1 = await waitFor(`${tag}: <video> currentTime to advance past ${t0 + 1} s`, async () => {
      const v = await watch.page.evaluate(() => {
        const p = document.querySelector("#player");
        return { currentTime: p.currentTime, paused: p.paused, readyState: p.readyState };
      });
      return v.currentTime >= t0 + 1 && !v.paused ? v : pending(v);
    }, { timeoutMs: 5000, intervalMs: 100 });
    assert(s1.framesDecoded >= s0.framesDecoded + 60, `${tag}: framesDecoded ${s0.framesDecoded} → ${s1.framesDecoded}`);
    assert(s1.videoWidth > 0, `${tag}: videoWidth ${s1.videoWidth}`);
    await waitFor(`${tag}: watch phase live`, () => watch.page.evaluate(() => window.wisp.phase === "live"), { timeoutMs: 5000 });

    // The publish page re-published by itself, on a new pc, and the new wisp has it live.
    const p = await waitFor(`${tag}: publish page connected on a new RTCPeerConnection`, async () => {
      const v = await pub.page.evaluate(() => ({
        newPc: window.wisp.pc !== window.__oldPc, restarts: window.wisp.restarts, probe: !!window.__probe,
        state: document.querySelector("#state").dataset.state, status: document.querySelector("#status").textContent,
      }));
      assert(v.probe, "the publish page lost its probe: it was reloaded");
      return v.newPc && v.state === "connected" ? v : pending(v);
    }, { timeoutMs: 10000 });
    assert(p.restarts > before.restarts, `${tag}: publish page restarts ${p.restarts}, was ${before.restarts}`);
    const info = await streamInfo(base, STREAM);
    assert(info?.live && info.video && info.audio && info.viewers === 1, `${tag}: new wisp has ${JSON.stringify(info)}`);

    const states = (page) => page.evaluate((t) => window.__probe.states.filter(([at]) => at >= t - 200)
      .map(([at, s]) => `${s}@+${at - t}`).join(" "), killedAt);
    const pubStates = await states(pub.page);
    const watchStates = await states(watch.page);
    const pubConnectedAt = await pub.page.evaluate((t) => window.__probe.states.filter(([at, s]) => at >= t && s === "connected").map(([at]) => at)[0], restartedAt);
    const watchConnectedAt = await watch.page.evaluate((t) => window.__probe.states.filter(([at, s]) => at >= t && s === "connected").map(([at]) => at)[0], restartedAt);
    // Why each page dropped its old session: after SIGTERM wisp sends DTLS close_notify, and the
    // pages must act on it (web/static/wisp.js monitorConnection) instead of waiting for ICE
    // consent to fail. After SIGKILL nothing is sent: the pages notice that no bytes come in,
    // ask their session URL, and the new wisp's 404 ends the session (wisp.js watchSession),
    // seconds before ICE consent would fail.
    const reasons = (page) => page.evaluate((t) => window.__probe.statuses
      .filter(([at, text]) => at >= t && /retrying in|reconnecting in/.test(text)).map(([, text]) => text), killedAt);
    const pubWhy = await reasons(pub.page);
    const watchWhy = await reasons(watch.page);
    log(`${tag}: publish page: ${JSON.stringify(pubWhy)}; watch page: ${JSON.stringify(watchWhy)}`);
    if (signal === "SIGTERM") {
      assert(/^DTLS transport closed/.test(pubWhy[0]), `${tag}: the publish page ended its session because ${JSON.stringify(pubWhy[0])}, want the server's DTLS close`);
      assert(/^DTLS transport closed/.test(watchWhy[0]), `${tag}: the watch page ended its session because ${JSON.stringify(watchWhy[0])}, want the server's DTLS close`);
    } else {
      const gone = /^the server no longer has this session/;
      assert(gone.test(pubWhy[0]), `${tag}: the publish page ended its session because ${JSON.stringify(pubWhy[0])}, want the new server's 404 for its session URL`);
      assert(gone.test(watchWhy[0]), `${tag}: the watch page ended its session because ${JSON.stringify(watchWhy[0])}, want the new server's 404 for its session URL`);
    }
    const m = {
      signal,
      firstFrameMs: firstFrameAt - restartedAt,
      watchConnectedMs: watchConnectedAt - restartedAt,
      publishConnectedMs: pubConnectedAt - restartedAt,
      killToFirstFrameMs: firstFrameAt - killedAt,
    };
    timings.push(m);
    log(`${tag}: publish page states after the kill (ms): ${pubStates}`);
    log(`${tag}: watch page states after the kill (ms): ${watchStates}`);
    log(`${tag}: watch reconnects ${before.reconnects} → ${ff.reconnects}, publish restarts ${before.restarts} → ${p.restarts}; ` +
      `framesDecoded ${s0.framesDecoded} → ${s1.framesDecoded} (${s1.videoWidth}x${s1.videoHeight}), currentTime ${t0.toFixed(2)} → ${t1.currentTime.toFixed(2)} s`);
    log(`${tag}: RESTART TIMING wisp start → publish page connected ${m.publishConnectedMs} ms, → watch page connected ` +
      `${m.watchConnectedMs} ms, → first decoded frame ${m.firstFrameMs} ms (kill → first frame ${m.killToFirstFrameMs} ms)`);
  }
  console.log(timings.map((m) => `  ${m.signal}: wisp restart → first decoded frame ${m.firstFrameMs} ms (publish connected ${m.publishConnectedMs} ms, watch connected ${m.watchConnectedMs} ms)`).join("\n"));
});
