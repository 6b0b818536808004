// interop-timeout: 150
// Firefox both ways (issue 15): Debian's firefox-esr, headless through WebDriver BiDi
// (puppeteer-core), with its fake camera and microphone. Firefox publishes from wisp's publish
// page and Chromium decodes it on the watch page; Chromium publishes and Firefox decodes it on
// the watch page. Video is judged by frames decoded with a picture size, audio by samples
// decoded (getStats totalSamplesReceived, one second's worth at least) and, in Chromium, heard (a
// WebAudio analyser on the received track finds Firefox's fake-microphone tone above -70 dB).
// Headless Firefox has no audio output device here, so its AudioContext never leaves
// "suspended": its audio is judged by decoded samples alone. Firefox's offers differ from Chromium's (msid with
// {uuid}s, extmap directions, session-level attributes): this is the case that runs them.
import { assert, launchChromium, launchFirefox, logPage, pending, runCase, startWisp, streamInfo, waitFor } from "../lib/harness.mjs";
import { openPublisher, openWatcher, waitDecoded } from "../lib/browser.mjs";

// In a watch page: window.wisp.stats() plus the audio of the current pc: samples decoded
// (getStats) and the strongest frequency and its level through a WebAudio analyser on the
// received track (a silent track stays below -100 dB).
async function playing(withTone) {
  const s = await window.wisp.stats();
  const out = { ...s, samples: 0, toneHz: 0, toneDb: -Infinity };
  const pc = window.wisp.pc;
  const report = await pc?.getStats();
  report?.forEach((r) => {
    if (r.type === "inbound-rtp" && (r.kind || r.mediaType) === "audio") out.samples = r.totalSamplesReceived || 0;
  });
  const track = pc?.getReceivers().map((r) => r.track).find((t) => t.kind === "audio");
  if (!track || !withTone) return out;
  if (window.__level?.track !== track) {
    const ctx = new AudioContext();
    await ctx.resume();
    const an = ctx.createAnalyser();
    an.fftSize = 2048;
    ctx.createMediaStreamSource(new MediaStream([track])).connect(an);
    window.__level = { track, ctx, an };
  }
  const { ctx, an } = window.__level;
  const bins = new Float32Array(an.frequencyBinCount);
  an.getFloatFrequencyData(bins);
  let best = 1;
  for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
  out.toneHz = Math.round((best * ctx.sampleRate) / an.fftSize);
  out.toneDb = Math.round(bins[best]);
  return out;
}

runCase(async ({ procs, log, defer }) => {
  const base = await startWisp(procs);
  const firefox = await launchFirefox();
  defer(() => firefox.close());
  log(`firefox ${await firefox.version()}`);
  const chromium = await launchChromium();
  defer(() => chromium.close());

  // 1. Firefox publishes from /publish/ff; Chromium watches.
  const ffPub = await firefox.newPage();
  logPage(ffPub, "firefox publish", log);
  await ffPub.goto(`${base}/publish/ff`);
  await ffPub.click("#start");
  await waitFor("Firefox's publish page connected", async () => {
    const st = await ffPub.$eval("#state", (e) => e.dataset.state);
    const status = await ffPub.$eval("#status", (e) => e.textContent);
    return st === "connected" || pending({ state: st, status });
  }, { timeoutMs: 20000 });
  const live = await waitFor("stream ff live with video and audio", async () => {
    const s = await streamInfo(base, "ff");
    return s?.live && s.video && s.audio ? s : pending({ stream: s });
  }, { timeoutMs: 10000 });
  log(`firefox publishes ${live.video} + ${live.audio}`);
  const { page: crWatch } = await openWatcher(chromium, base, "ff", log, "chromium watch");
  const cr = await waitFor("Chromium to decode Firefox's video and audio", async () => {
    const s = await crWatch.evaluate(playing, true);
    return s.framesDecoded >= 60 && s.frameWidth > 0 && s.samples > 48000 && s.toneDb > -70 ? s : pending(s);
  }, { timeoutMs: 30000, intervalMs: 500 });
  log(`chromium watching firefox: ${JSON.stringify(cr)}`);

  // 2. Chromium publishes H.264 (the publish page's automatic choice), which this Firefox cannot
  // decode: wisp refuses its WHEP offer with 422 naming H264, and the watch page shows that in
  // place of a black player (issue 15).
  await openPublisher(chromium, base, "h264", null, log);
  await waitFor("stream h264 live", async () => {
    const s = await streamInfo(base, "h264");
    return s?.live && s.video === "video/h264" ? s : pending({ stream: s });
  }, { timeoutMs: 10000 });
  const ffRefused = await firefox.newPage();
  logPage(ffRefused, "firefox watch h264", log);
  await ffRefused.goto(`${base}/watch/h264`);
  const notice = await waitFor("Firefox's watch page to show why it cannot play H.264", async () => {
    // #player is <wisp-player>: its <video> (open shadow root) must take no room.
    const n = await ffRefused.evaluate(() => ({
      phase: window.wisp.phase, notice: document.querySelector("#notice").textContent,
      noticeShown: !document.querySelector("#notice").hidden,
      videoBox: document.querySelector("#player").shadowRoot.querySelector("video").getBoundingClientRect().height,
    }));
    return n.phase === "unplayable" && n.noticeShown && n.videoBox === 0 ? n : pending(n);
  }, { timeoutMs: 15000, intervalMs: 250 });
  log(`firefox on an H.264 stream: ${JSON.stringify(notice)}`);
  assert(/H264 video/.test(notice.notice), `the notice does not name H264: ${notice.notice}`);
  await ffRefused.close();

  // 3. Chromium publishes VP8, chosen in the publish page's codec picker; Firefox watches.
  await openPublisher(chromium, base, "cr", null, log, { codec: "video/vp8" });
  const crLive = await waitFor("stream cr live with video and audio", async () => {
    const s = await streamInfo(base, "cr");
    return s?.live && s.video && s.audio ? s : pending({ stream: s });
  }, { timeoutMs: 10000 });
  assert(crLive.video === "video/vp8", `Chromium publishes ${crLive.video} with VP8 picked`);
  const ffWatch = await firefox.newPage();
  logPage(ffWatch, "firefox watch", log);
  await ffWatch.goto(`${base}/watch/cr`);
  const ff = await waitFor("Firefox to decode Chromium's video and audio", async () => {
    const s = await ffWatch.evaluate(playing, false);
    const v = await ffWatch.$eval("#player", (e) => ({ w: e.videoWidth, h: e.videoHeight }));
    const r = { ...s, videoWidth: v.w, videoHeight: v.h };
    return s.framesDecoded >= 60 && v.w > 0 && s.samples > 48000 ? r : pending(r);
  }, { timeoutMs: 30000, intervalMs: 500 });
  log(`firefox watching chromium (${crLive.video} + ${crLive.audio}): ${JSON.stringify(ff)}`);
  console.log(`  Firefox → Chromium: ${live.video} ${cr.frameWidth}x${cr.frameHeight}, ${cr.framesDecoded} frames, ${cr.samples} audio samples, tone ${cr.toneHz} Hz at ${cr.toneDb} dB; ` +
    `Chromium → Firefox: ${crLive.video} ${ff.videoWidth}x${ff.videoHeight}, ${ff.framesDecoded} frames, ${ff.samples} audio samples decoded`);
});
