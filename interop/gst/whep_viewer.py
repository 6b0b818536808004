#!/usr/bin/python3
"""A WHEP viewer built on GStreamer webrtcbin, for wisp's interop tests.

It offers recvonly video (VP8 and H.264, or the codecs of --video-codecs: VP8, H264, VP9, H265)
and audio (Opus) in one full offer (it waits for ICE
gathering to complete: no trickle), POSTs it, applies the 201 answer, decodes what arrives
(decodebin) and counts *decoded* buffers at fakesinks after the decoders, not packets. Once at least
--min-frames video frames and --min-audio audio buffers were decoded it DELETEs the session
(Location resolved against the POST URL) and exits 0. It prints one JSON line of results on stdout
either way, and exits 1 if the counts were not reached within --timeout seconds.

Decoded audio is converted to interleaved 16-bit samples, and the frequency of each channel is
measured (zero crossings over a second of audio, from the second second on): "channels",
"freqLeft" and "freqRight" in the result tell a stereo stream from mono upmixed to two equal
channels.

Usage: whep_viewer.py --url http://127.0.0.1:8080/whep/demo [--token KEY] [--min-frames 60]
"""

import argparse
import array
import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

FEEDBACK = "rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true,rtcp-fb-nack=(boolean)true"
VIDEO_CODECS = {
    "VP8": "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000," + FEEDBACK,
    "H264": "application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,"
            "packetization-mode=(string)1,profile-level-id=(string)42e01f," + FEEDBACK,
    "VP9": "application/x-rtp,media=video,encoding-name=VP9,payload=98,clock-rate=90000," + FEEDBACK,
    "H265": "application/x-rtp,media=video,encoding-name=H265,payload=116,clock-rate=90000," + FEEDBACK,
}
AUDIO_CAPS = "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000"


class Viewer:
    def __init__(self, args):
        self.args = args
        self.loop = GLib.MainLoop()
        self.lock = threading.Lock()
        self.video_frames = 0
        self.audio_buffers = 0
        self.width = 0
        self.height = 0
        self.codecs = []
        self.location = None
        self.post_status = None
        self.delete_status = None
        self.error = None
        self.done = False
        self.started = time.monotonic()
        self.first_frame_after = None
        self.channels = 0
        self.tone = None  # per channel: [samples seen, zero crossings, last sign], over one second
        self.audio_samples = 0

        self.pipe = Gst.Pipeline.new("whep-viewer")
        self.webrtc = Gst.ElementFactory.make("webrtcbin", "recv")
        self.webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
        self.pipe.add(self.webrtc)
        video_caps = ";".join(VIDEO_CODECS[c] for c in args.video_codecs.split(","))
        for caps in (video_caps, AUDIO_CAPS):
            t = self.webrtc.emit("add-transceiver",
                                 GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                                 Gst.Caps.from_string(caps))
            t.set_property("do-nack", True)
        self.webrtc.connect("notify::ice-gathering-state", self.on_gathering)
        self.webrtc.connect("pad-added", self.on_webrtc_pad)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_bus_error)

    # --- signalling -------------------------------------------------------------------------
    def create_offer(self):
        """Creates the offer once, after PLAYING (on-negotiation-needed may fire more than once)."""
        promise = Gst.Promise.new()
        self.webrtc.emit("create-offer", None, promise)
        promise.wait()
        reply = promise.get_reply()
        offer = reply.get_value("offer") if reply and reply.has_field("offer") else None
        if offer is None:
            self.fail("webrtcbin created no offer: %s" % (reply.to_string() if reply else None))
            return False
        done = Gst.Promise.new()
        self.webrtc.emit("set-local-description", offer, done)
        done.wait()
        return False

    def on_gathering(self, element, _pspec):
        if element.get_property("ice-gathering-state") != GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            return
        if self.location is not None or self.post_status is not None:
            return
        sdp = element.get_property("local-description").sdp.as_text()
        threading.Thread(target=self.post, args=(sdp,), daemon=True).start()

    def headers(self, extra=None):
        h = {"User-Agent": "wisp-interop gst-whep-viewer (GStreamer %s)" % Gst.version_string()}
        if self.args.token:
            h["Authorization"] = "Bearer " + self.args.token
        h.update(extra or {})
        return h

    def post(self, sdp):
        req = urllib.request.Request(self.args.url, data=sdp.encode(), method="POST",
                                     headers=self.headers({"Content-Type": "application/sdp"}))
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                self.post_status = resp.status
                answer = resp.read().decode()
                loc = resp.headers.get("Location")
        except urllib.error.HTTPError as e:
            self.post_status = e.code
            return self.fail("POST %s: HTTP %d %s" % (self.args.url, e.code, e.read()[:200]))
        except OSError as e:
            return self.fail("POST %s: %s" % (self.args.url, e))
        if self.post_status != 201 or not loc:
            return self.fail("POST: status %d, Location %r; want 201 with a Location" % (self.post_status, loc))
        self.location = urllib.parse.urljoin(self.args.url, loc)
        ok, msg = GstSdp.SDPMessage.new_from_text(answer)
        if ok != GstSdp.SDPResult.OK:
            return self.fail("answer is not SDP")
        desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
        GLib.idle_add(lambda: self.webrtc.emit("set-remote-description", desc, Gst.Promise.new()) and False)

    def delete(self):
        req = urllib.request.Request(self.location, method="DELETE", headers=self.headers())
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                self.delete_status = resp.status
        except urllib.error.HTTPError as e:
            self.delete_status = e.code
        except OSError as e:
            self.error = "DELETE %s: %s" % (self.location, e)

    # --- media ------------------------------------------------------------------------------
    def on_webrtc_pad(self, _element, pad):
        if pad.direction != Gst.PadDirection.SRC:
            return
        caps = pad.get_current_caps() or pad.query_caps(None)
        self.codecs.append(caps.get_structure(0).get_string("encoding-name"))
        decode = Gst.ElementFactory.make("decodebin")
        decode.connect("pad-added", self.on_decoded_pad)
        self.pipe.add(decode)
        decode.sync_state_with_parent()
        pad.link(decode.get_static_pad("sink"))

    def on_decoded_pad(self, _decode, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        name = caps.get_structure(0).get_name()
        if not name.startswith(("video/x-raw", "audio/x-raw")):
            return
        chain = [Gst.ElementFactory.make("queue")]
        if name.startswith("audio"):  # interleaved S16 for the per-channel tone measurement
            chain.append(Gst.ElementFactory.make("audioconvert"))
            caps = Gst.ElementFactory.make("capsfilter")
            caps.set_property("caps", Gst.Caps.from_string("audio/x-raw,format=S16LE,layout=interleaved"))
            chain.append(caps)
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        sink.set_property("signal-handoffs", True)
        sink.connect("handoff", self.on_video if name.startswith("video") else self.on_audio)
        chain.append(sink)
        for e in chain:
            self.pipe.add(e)
            e.sync_state_with_parent()
        for a, b in zip(chain, chain[1:]):
            a.link(b)
        pad.link(chain[0].get_static_pad("sink"))

    def on_video(self, _sink, _buf, pad):
        with self.lock:
            self.video_frames += 1
            if self.first_frame_after is None:
                self.first_frame_after = time.monotonic() - self.started
            if not self.width:
                caps = pad.get_current_caps()
                if caps:
                    s = caps.get_structure(0)
                    self.width = s.get_value("width")
                    self.height = s.get_value("height")
        self.check()

    def on_audio(self, _sink, buf, pad):
        with self.lock:
            self.audio_buffers += 1
            if not self.channels:
                caps = pad.get_current_caps()
                if caps:
                    self.channels = caps.get_structure(0).get_value("channels")
                    self.tone = [[0, 0, 0] for _ in range(self.channels)]
            if self.tone is not None and self.tone[0][0] < 48000:
                self.measure(buf)
        self.check()

    def measure(self, buf):
        """Counts zero crossings per channel over one second of audio, after skipping the first."""
        ok, info = buf.map(Gst.MapFlags.READ)
        if not ok:
            return
        samples = array.array("h", bytes(info.data))
        buf.unmap(info)
        n = self.channels
        self.audio_samples += len(samples) // n
        if self.audio_samples <= 48000:
            return
        for ch in range(n):
            t = self.tone[ch]
            for v in samples[ch::n]:
                sign = 1 if v > 0 else (-1 if v < 0 else t[2])
                if t[2] and sign != t[2]:
                    t[1] += 1
                t[2] = sign
                t[0] += 1

    def freq(self, ch):
        if self.tone is None or ch >= len(self.tone) or self.tone[ch][0] == 0:
            return None
        samples, crossings, _ = self.tone[ch]
        return round(crossings / 2 * 48000 / samples, 1)

    def check(self):
        with self.lock:
            tone_done = not self.args.min_audio or (self.tone is not None and self.tone[0][0] >= 48000)
            if self.done or self.video_frames < self.args.min_frames or self.audio_buffers < self.args.min_audio or not tone_done:
                return
            self.done = True
        GLib.idle_add(self.finish)

    # --- ending -----------------------------------------------------------------------------
    def fail(self, msg):
        self.error = self.error or msg
        GLib.idle_add(self.loop.quit)

    def on_bus_error(self, _bus, message):
        err, dbg = message.parse_error()
        self.fail("GStreamer error: %s (%s)" % (err.message, dbg))

    def finish(self):
        self.loop.quit()
        return False

    def run(self):
        self.pipe.set_state(Gst.State.PLAYING)
        GLib.idle_add(self.create_offer)
        GLib.timeout_add(int(self.args.timeout * 1000), self.finish)
        self.loop.run()
        with self.lock:
            self.done = True
        if self.location:
            self.delete()
        self.pipe.set_state(Gst.State.NULL)
        ok = (self.error is None and self.video_frames >= self.args.min_frames
              and self.audio_buffers >= self.args.min_audio and self.delete_status == 200)
        print(json.dumps({
            "ok": ok, "videoFrames": self.video_frames, "audioBuffers": self.audio_buffers,
            "width": self.width, "height": self.height, "codecs": self.codecs,
            "firstFrameAfter": self.first_frame_after, "postStatus": self.post_status,
            "deleteStatus": self.delete_status, "location": self.location, "error": self.error,
            "channels": self.channels, "freqLeft": self.freq(0), "freqRight": self.freq(1),
        }), flush=True)
        return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True, help="WHEP endpoint, e.g. http://127.0.0.1:8080/whep/demo")
    p.add_argument("--token", default="", help="bearer token")
    p.add_argument("--min-frames", type=int, default=60, help="decoded video frames to wait for")
    p.add_argument("--min-audio", type=int, default=25, help="decoded audio buffers to wait for")
    p.add_argument("--video-codecs", default="VP8,H264", help="video codecs offered, in order: VP8, H264, VP9, H265")
    p.add_argument("--timeout", type=float, default=40, help="seconds before giving up")
    args = p.parse_args()
    Gst.init(None)
    sys.exit(Viewer(args).run())


if __name__ == "__main__":
    main()
