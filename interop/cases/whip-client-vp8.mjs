// simple-whip-client (GStreamer webrtcbin + libnice) publishes VP8 + Opus; a GStreamer WHEP
// viewer decodes ≥ 60 frames and the audio. See lib/gst-publish-case.mjs.
import { runCase } from "../lib/harness.mjs";
import { gstPublishCase } from "../lib/gst-publish-case.mjs";

runCase((ctx) => gstPublishCase(ctx, "vp8"));
