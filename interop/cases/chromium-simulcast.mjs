// Chromium as a simulcast WHIP publisher (RFC 8853, WHIP-03): the fake camera at 640x480 sent as
// two VP8 encodings, rid "l" (scaled down 2×, 320x240) and rid "h" (640x480), through wisp.js's
// whipWhepPost from a page of wisp's origin. wisp, run with -auto-layers=false, forwards one layer to
// every viewer, the one that carries the most bits (whip/simulcast.go): wisp's /watch page must end up decoding 640x480.
// Then the publisher switches "h" off (encodings[1].active = false, what a browser does to its top
// layer under congestion): the viewer must move to 320x240 on the same connection and keep
// decoding. Judged by the watch page's decoded frames and picture size, and by wisp's log.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assert, launchChromium, logPage, pending, runCase, startWisp, waitFor, waitLive } from "../lib/harness.mjs";
import { openWatcher, watchStats } from "../lib/browser.mjs";

const STREAM = "sim";

runCase(async ({ procs, log, dir, defer }) => {
  const base = await startWisp(procs, { args: ["-auto-layers=false"] }); // the stream-wide layer
  const browser = await launchChromium();
  defer(() => browser.close());

  const pubCtx = await browser.newContext({ permissions: ["camera", "microphone"] });
  const pub = await pubCtx.newPage();
  logPage(pub, "publisher", log);
  await pub.goto(`${base}/`);
  const offer = await pub.evaluate(async (url) => {
    const { whipWhepPost } = await import("/static/wisp.js");
    const media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, frameRate: 30 }, audio: true });
    const pc = new RTCPeerConnection();
    const video = pc.addTransceiver(media.getVideoTracks()[0], {
      direction: "sendonly", streams: [media],
      sendEncodings: [
        { rid: "l", scaleResolutionDownBy: 2, maxBitrate: 250000 },
        { rid: "h", scaleResolutionDownBy: 1, maxBitrate: 1500000 },
      ],
    });
    const vp8 = RTCRtpSender.getCapabilities("video").codecs.filter((c) => /vp8/i.test(c.mimeType));
    video.setCodecPreferences(vp8);
    pc.addTransceiver(media.getAudioTracks()[0], { direction: "sendonly", streams: [media] });
    window.__pub = { pc, video };
    await pc.setLocalDescription(await pc.createOffer());
    const sdp = pc.localDescription.sdp;
    await whipWhepPost(url, pc);
    return sdp;
  }, `${base}/whip/${STREAM}`);
  assert(/a=simulcast:send l;h/.test(offer), "Chromium's offer has no a=simulcast:send l;h line");
  await waitLive(base, STREAM);

  const { page: watch } = await openWatcher(browser, base, STREAM, log);

  // wisp moves the viewer to the layer carrying the most bits: 640x480, and frames keep coming.
  const high = await waitFor("the watch page to decode the 640x480 layer", async () => {
    const s = await watchStats(watch);
    return s.frameWidth === 640 && s.framesDecoded > 0 ? s : pending({ frameWidth: s.frameWidth, framesDecoded: s.framesDecoded });
  }, { timeoutMs: 30000, intervalMs: 250 });
  const high2 = await waitFor("30 more frames of the 640x480 layer", async () => {
    const s = await watchStats(watch);
    assert(s.frameWidth === 640, `the viewer left the 640x480 layer while both are sent: ${s.frameWidth}x${s.frameHeight}`);
    return s.framesDecoded >= high.framesDecoded + 30 ? s : pending({ framesDecoded: s.framesDecoded });
  }, { timeoutMs: 10000, intervalMs: 250 });
  log(`high layer: ${high2.frameWidth}x${high2.frameHeight}, framesDecoded ${high.framesDecoded} → ${high2.framesDecoded}`);
  const pcBefore = await watch.evaluate(() => { window.__pcBefore = window.wisp.pc; return window.wisp.reconnects; });

  // The publisher stops its top layer: the viewer moves to 320x240 on the same connection.
  await pub.evaluate(async () => {
    const sender = window.__pub.video.sender;
    const params = sender.getParameters();
    params.encodings.find((e) => e.rid === "h").active = false;
    await sender.setParameters(params);
  });
  const low = await waitFor("the watch page to decode the 320x240 layer after 'h' stopped", async () => {
    const s = await watchStats(watch);
    return s.frameWidth === 320 ? s : pending({ frameWidth: s.frameWidth, framesDecoded: s.framesDecoded });
  }, { timeoutMs: 15000, intervalMs: 250 });
  const low2 = await waitFor("30 more frames of the 320x240 layer", async () => {
    const s = await watchStats(watch);
    return s.framesDecoded >= low.framesDecoded + 30 && s.frameWidth === 320 ? s : pending({ framesDecoded: s.framesDecoded, frameWidth: s.frameWidth });
  }, { timeoutMs: 10000, intervalMs: 250 });
  const same = await watch.evaluate((n) => window.wisp.pc === window.__pcBefore && window.wisp.reconnects === n, pcBefore);
  assert(same, "the viewer reconnected: the layer switch must happen on its connection");
  log(`low layer: ${low2.frameWidth}x${low2.frameHeight}, framesDecoded ${low.framesDecoded} → ${low2.framesDecoded}, packetsLost ${low2.packetsLost}`);

  const wispLog = readFileSync(join(dir, "wisp.log"), "utf8");
  assert(/(simulcast layer|msg=track).*rid=h/.test(wispLog), "wisp's log shows no layer h forwarded");
  assert(/simulcast layer.*rid=l/.test(wispLog), "wisp's log has no switch to layer l");
});
