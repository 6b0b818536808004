// interop-timeout: 150
// Simulcast layer switches of VP9 and AV1 (issue 15), as chromium-simulcast.mjs does for VP8:
// Chromium publishes its fake camera as two encodings of the codec (rid "l" 320x240 and "h"
// 640x480, scalabilityMode L1T1, through wisp.js's whipWhepPost). wisp, run with
// -auto-layers=false, forwards the layer with the most bits, switching only at a keyframe of the target layer (stream.KeyframeStart, now for
// VP9 and AV1 too): the watch page must reach 640x480 and keep decoding; when the publisher stops
// "h", the same viewer connection must move to 320x240 and keep decoding. A switch at a packet
// that is not the start of a keyframe leaves the viewer's decoder without a picture to start from:
// no new size, no further frames, and the case fails.
import { assert, launchChromium, logPage, pending, runCase, startWisp, waitFor, waitLive } from "../lib/harness.mjs";
import { openWatcher, watchStats } from "../lib/browser.mjs";

runCase(async ({ procs, log, defer }) => {
  const base = await startWisp(procs, { args: ["-auto-layers=false"] }); // the stream-wide layer
  const browser = await launchChromium();
  defer(() => browser.close());
  const results = [];

  for (const codec of ["VP9", "AV1"]) {
    const stream = `sim-${codec.toLowerCase()}`;
    const pubCtx = await browser.newContext({ permissions: ["camera", "microphone"] });
    const pub = await pubCtx.newPage();
    logPage(pub, `publisher ${codec}`, log);
    await pub.goto(`${base}/`);
    const offer = await pub.evaluate(async ({ url, codec }) => {
      const { whipWhepPost } = await import("/static/wisp.js");
      const media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, frameRate: 30 }, audio: false });
      const pc = new RTCPeerConnection();
      const video = pc.addTransceiver(media.getVideoTracks()[0], {
        direction: "sendonly", streams: [media],
        sendEncodings: [
          { rid: "l", scaleResolutionDownBy: 2, maxBitrate: 250000, scalabilityMode: "L1T1" },
          { rid: "h", scaleResolutionDownBy: 1, maxBitrate: 1500000, scalabilityMode: "L1T1" },
        ],
      });
      const only = RTCRtpSender.getCapabilities("video").codecs.filter((c) => c.mimeType.toLowerCase() === `video/${codec.toLowerCase()}`);
      video.setCodecPreferences(only);
      window.__pub = { pc, video };
      await pc.setLocalDescription(await pc.createOffer());
      const sdp = pc.localDescription.sdp;
      await whipWhepPost(url, pc);
      return sdp;
    }, { url: `${base}/whip/${stream}`, codec });
    assert(/a=simulcast:send l;h/.test(offer), `${codec}: Chromium's offer has no a=simulcast:send l;h line`);
    const live = await waitLive(base, stream, { audio: false });
    assert(live.video === `video/${codec.toLowerCase()}`, `${codec}: wisp lists ${live.video}`);

    const { ctx: watchCtx, page: watch } = await openWatcher(browser, base, stream, log, `watch ${codec}`);
    const high = await waitFor(`${codec}: the watch page to decode the 640x480 layer`, async () => {
      const s = await watchStats(watch);
      return s.frameWidth === 640 && s.framesDecoded > 0 ? s : pending({ frameWidth: s.frameWidth, framesDecoded: s.framesDecoded });
    }, { timeoutMs: 30000, intervalMs: 250 });
    const high2 = await waitFor(`${codec}: 30 more frames of the 640x480 layer`, async () => {
      const s = await watchStats(watch);
      return s.framesDecoded >= high.framesDecoded + 30 ? s : pending({ framesDecoded: s.framesDecoded });
    }, { timeoutMs: 10000, intervalMs: 250 });
    const pcBefore = await watch.evaluate(() => { window.__pcBefore = window.wisp.pc; return window.wisp.reconnects; });

    await pub.evaluate(async () => {
      const sender = window.__pub.video.sender;
      const params = sender.getParameters();
      params.encodings.find((e) => e.rid === "h").active = false;
      await sender.setParameters(params);
    });
    const low = await waitFor(`${codec}: the watch page to decode the 320x240 layer after 'h' stopped`, async () => {
      const s = await watchStats(watch);
      return s.frameWidth === 320 ? s : pending({ frameWidth: s.frameWidth, framesDecoded: s.framesDecoded });
    }, { timeoutMs: 15000, intervalMs: 250 });
    const low2 = await waitFor(`${codec}: 30 more frames of the 320x240 layer`, async () => {
      const s = await watchStats(watch);
      return s.framesDecoded >= low.framesDecoded + 30 && s.frameWidth === 320 ? s : pending({ framesDecoded: s.framesDecoded, frameWidth: s.frameWidth });
    }, { timeoutMs: 10000, intervalMs: 250 });
    const same = await watch.evaluate((n) => window.wisp.pc === window.__pcBefore && window.wisp.reconnects === n, pcBefore);
    assert(same, `${codec}: the viewer reconnected: the layer switch must happen on its connection`);
    assert(low2.videoCodec.toLowerCase() === `video/${codec.toLowerCase()}`, `${codec}: the page decodes ${low2.videoCodec}`);
    const line = `${codec}: 640x480 (${high2.framesDecoded} frames) → 320x240 (${low2.framesDecoded} frames, lost ${low2.packetsLost}) on one connection`;
    log(line);
    results.push(line);
    await watchCtx.close();
    await pubCtx.close();
  }
  console.log(`  ${results.join("; ")}`);
});
