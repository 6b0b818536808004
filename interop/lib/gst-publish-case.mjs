// The body shared by the simple-whip-client cases: GStreamer publishes videotestsrc with the given
// codec plus Opus through simple-whip-client (with a bearer token), and the GStreamer webrtcbin
// WHEP viewer (gst/whep_viewer.py, with its own token) must decode ≥ 60 video frames of the right
// size and Opus audio, then DELETE its session (200) and leave the viewer count at 0.
import { assert, gstViewer, startWhipClient, startWisp, streamInfo, waitFor, waitLive } from "./harness.mjs";

export async function gstPublishCase({ procs, log }, codec) {
  const base = await startWisp(procs, { publishKeys: { demo: "pub-key" }, watchKeys: { demo: "watch-key" } });
  const pub = startWhipClient(procs, { url: `${base}/whip/demo`, token: "pub-key", codec });
  const live = await waitLive(base, "demo", { publisher: pub });
  log(`live: ${JSON.stringify(live)}`);
  assert(live.video === `video/${codec}` && live.audio === "audio/opus", `stream codecs ${live.video} ${live.audio}, want video/${codec} audio/opus`);

  const v = await gstViewer(procs, { url: `${base}/whep/demo`, token: "watch-key", minFrames: 60 });
  log(`gst viewer: ${JSON.stringify(v)}`);
  assert(v.postStatus === 201, `viewer POST status ${v.postStatus}: ${v.error}`);
  assert(v.videoFrames >= 60, `viewer decoded ${v.videoFrames} video frames, want ≥ 60 (${v.error})`);
  assert(v.width === 320 && v.height === 240, `decoded ${v.width}x${v.height}, want 320x240`);
  assert(v.codecs.includes(codec.toUpperCase()) && v.codecs.includes("OPUS"), `viewer got ${v.codecs}, want ${codec.toUpperCase()} and OPUS`);
  assert(v.audioBuffers >= 25, `viewer decoded ${v.audioBuffers} audio buffers, want ≥ 25`);
  assert(v.deleteStatus === 200, `viewer DELETE status ${v.deleteStatus}, want 200`);
  assert(v.ok && v.exitCode === 0, `viewer failed: ${v.error}`);
  await waitFor("viewer count back to 0 after DELETE", async () => (await streamInfo(base, "demo"))?.viewers === 0, { timeoutMs: 5000 });
  assert(pub.exitCode === null && pub.signalCode === null, `whip-client exited early (${pub.exitCode ?? pub.signalCode})`);
}
