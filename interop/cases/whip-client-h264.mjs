// simple-whip-client (GStreamer webrtcbin + libnice) publishes H.264 (x264enc) + Opus; a GStreamer
// WHEP viewer decodes ≥ 60 frames and the audio. See lib/gst-publish-case.mjs.
import { runCase } from "../lib/harness.mjs";
import { gstPublishCase } from "../lib/gst-publish-case.mjs";

runCase((ctx) => gstPublishCase(ctx, "h264"));
