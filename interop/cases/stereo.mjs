// Stereo Opus end to end (issue 15): a publisher of testdata/media/opus-stereo.ogg (440 Hz left,
// 1000 Hz right; the load tool, pion) and two players that must decode two *different* channels:
// Chromium on wisp's watch page, measured by a WebAudio analyser per channel (ChannelSplitter on
// the received track), and the GStreamer webrtcbin viewer, measured by zero crossings per channel
// of its decoded audio. A mono decode fails both: Chrome and GStreamer upmix mono to two equal
// channels. Without stereo=1 in wisp's answer (rtc.StereoOpus) Chromium decodes mono.
import { join } from "node:path";
import { assert, env, gstViewer, interopDir, launchChromium, pending, runCase, startWisp, streamInfo, waitFor } from "../lib/harness.mjs";
import { openWatcher } from "../lib/browser.mjs";

const STREAM = "stereo";
const CLIP = join(interopDir, "..", "testdata", "media", "opus-stereo.ogg");
const LEFT = 440;
const RIGHT = 1000;

// In the watch page: the strongest frequency of each channel of the received audio track.
async function channelPeaks() {
  const pc = window.wisp.pc;
  const track = pc?.getReceivers().map((r) => r.track).find((t) => t.kind === "audio");
  if (!track) return { error: "no audio track yet" };
  if (!window.__tone) {
    const ctx = new AudioContext({ sampleRate: 48000 });
    await ctx.resume();
    const src = ctx.createMediaStreamSource(new MediaStream([track]));
    const split = ctx.createChannelSplitter(2);
    src.connect(split);
    const an = [0, 1].map((ch) => {
      const a = ctx.createAnalyser();
      a.fftSize = 4096;
      split.connect(a, ch);
      return a;
    });
    window.__tone = { ctx, an, channels: src.channelCount };
  }
  const { ctx, an, channels } = window.__tone;
  const peak = (a) => {
    const bins = new Float32Array(a.frequencyBinCount);
    a.getFloatFrequencyData(bins);
    let best = 0;
    for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
    return { hz: Math.round((best * ctx.sampleRate) / a.fftSize), db: Math.round(bins[best]) };
  };
  return { state: ctx.state, channels, left: peak(an[0]), right: peak(an[1]) };
}

runCase(async ({ procs, log, defer }) => {
  const base = await startWisp(procs);
  const pub = procs.start("wisp-load-publish", env.wispLoad,
    ["publish", "-whip", `${base}/whip/${STREAM}`, "-audio", CLIP, "-duration", "60s"], { capture: true });
  await waitFor(`stream ${STREAM} live with Opus`, async () => {
    assert(pub.exitCode === null, `wisp-load exited (${pub.exitCode}); see wisp-load-publish.log`);
    const s = await streamInfo(base, STREAM);
    return s?.live && s.audio === "audio/opus" ? s : pending({ stream: s });
  }, { timeoutMs: 15000, intervalMs: 100 });

  // Chromium: the watch page, then a WebAudio analyser per channel.
  const browser = await launchChromium();
  defer(() => browser.close());
  const { page } = await openWatcher(browser, base, STREAM, log);
  const near = (p, hz) => p && Math.abs(p.hz - hz) <= 50 && p.db > -80; // bins are 11.7 Hz wide
  const tone = await waitFor("Chromium to decode 440 Hz left and 1000 Hz right", async () => {
    const t = await page.evaluate(channelPeaks);
    return near(t.left, LEFT) && near(t.right, RIGHT) ? t : pending(t);
  }, { timeoutMs: 20000, intervalMs: 250 });
  log(`chromium channels: ${JSON.stringify(tone)}`);
  const answer = await page.evaluate(() => window.wisp.pc.remoteDescription.sdp);
  log(`answer to Chromium:\n${answer}`);
  const opusLine = answer.match(/^a=fmtp:111 (.*)$/m)?.[1] || ""; // Chromium's Opus is 111; it re-serialises the parameters
  assert(/(^|;)stereo=1(;|$)/.test(opusLine) && /(^|;)sprop-stereo=1(;|$)/.test(opusLine),
    `wisp's answer to Chromium: Opus fmtp "${opusLine}" lacks stereo=1;sprop-stereo=1`);

  // GStreamer: the webrtcbin viewer's decoded channels.
  const gst = await gstViewer(procs, { url: `${base}/whep/${STREAM}`, minFrames: 0, minAudio: 50, timeoutS: 30 });
  log(`gst viewer: ${JSON.stringify(gst)}`);
  assert(gst.ok && gst.exitCode === 0, `GStreamer viewer failed: ${JSON.stringify(gst)}`);
  assert(gst.channels === 2, `GStreamer decoded ${gst.channels} channels`);
  assert(Math.abs(gst.freqLeft - LEFT) <= 25 && Math.abs(gst.freqRight - RIGHT) <= 25,
    `GStreamer channels at ${gst.freqLeft} Hz and ${gst.freqRight} Hz, want ${LEFT} and ${RIGHT}`);
  console.log(`  Chromium: left ${tone.left.hz} Hz, right ${tone.right.hz} Hz; GStreamer: left ${gst.freqLeft} Hz, right ${gst.freqRight} Hz`);
});
