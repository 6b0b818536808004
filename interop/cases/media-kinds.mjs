// Audio-only and video-only streams from the publish page (issue 15): Chromium publishes with
// #media "audio only", then (another stream) "video only"; wisp lists exactly that kind; a Chromium
// watch page decodes it: audio samples for the audio-only stream (and no video frames), video
// frames with a picture size for the video-only one (and no audio).
import { assert, launchChromium, pending, runCase, startWisp, streamInfo, waitFor } from "../lib/harness.mjs";
import { openPublisher, openWatcher } from "../lib/browser.mjs";

// In a watch page: window.wisp.stats() plus the audio samples decoded by the current pc.
async function received() {
  const s = await window.wisp.stats();
  let samples = 0;
  (await window.wisp.pc?.getStats())?.forEach((r) => {
    if (r.type === "inbound-rtp" && (r.kind || r.mediaType) === "audio") samples = r.totalSamplesReceived || 0;
  });
  return { ...s, samples };
}

runCase(async ({ procs, log, defer }) => {
  const base = await startWisp(procs);
  const browser = await launchChromium();
  defer(() => browser.close());
  const results = [];
  for (const kind of ["audio", "video"]) {
    const stream = `${kind}-only`;
    await openPublisher(browser, base, stream, null, log, { media: kind });
    const s = await waitFor(`stream ${stream} live`, async () => {
      const i = await streamInfo(base, stream);
      return i?.live && i[kind] ? i : pending({ stream: i });
    }, { timeoutMs: 10000, intervalMs: 100 });
    assert(!s[kind === "audio" ? "video" : "audio"], `${stream}: wisp lists ${JSON.stringify(s)}`);
    const { page } = await openWatcher(browser, base, stream, log, `watch ${stream}`);
    const r = await waitFor(`the watch page to play ${stream}`, async () => {
      const x = await page.evaluate(received);
      const done = kind === "audio" ? x.samples > 48000 : x.framesDecoded >= 60 && x.frameWidth > 0;
      return done ? x : pending(x);
    }, { timeoutMs: 20000, intervalMs: 250 });
    if (kind === "audio") assert(r.framesDecoded === 0 && r.packetsReceived === 0, `${stream}: video arrived: ${JSON.stringify(r)}`);
    else assert(!r.audio || r.audio.packetsReceived === 0, `${stream}: audio arrived: ${JSON.stringify(r)}`);
    const line = kind === "audio" ? `audio only: ${r.samples} samples decoded, no video` :
      `video only: ${r.framesDecoded} frames at ${r.frameWidth}x${r.frameHeight}, no audio`;
    log(`${line}: ${JSON.stringify(r)}`);
    results.push(line);
  }
  console.log(`  ${results.join("; ")}`);
});
