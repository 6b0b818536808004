// Drives the npm whip-whep clients (Medooze WHIPClient / WHEPClient) as a user's page would.
// Served by the interop case from another origin than wisp, so every WHIP/WHEP request is a CORS
// request with an Authorization header (preflighted). The case calls window.interop.* from
// Playwright and reads the results.
import { WHIPClient } from "/whip-whep/whip.js";
import { WHEPClient } from "/whip-whep/whep.js";

// Every request the clients make, with its response status (or the error), for the case to check.
const requests = [];
const realFetch = window.fetch.bind(window);
window.fetch = async (url, init = {}) => {
  const entry = { method: init.method || "GET", url: String(url) };
  requests.push(entry);
  try {
    const res = await realFetch(url, init);
    entry.status = res.status;
    return res;
  } catch (e) {
    entry.error = e.message;
    throw e;
  }
};

window.interop = {
  requests,

  // publish captures the fake camera and microphone and publishes them with WHIPClient.
  async publish(url, token) {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    const pc = new RTCPeerConnection();
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    const client = new WHIPClient();
    await client.publish(pc, url, token);
    window.interop.client = client;
    window.interop.pc = pc;
    return client.resourceURL.href;
  },

  // view plays a stream with WHEPClient (recvonly video + audio).
  async view(url, token) {
    const pc = new RTCPeerConnection();
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    const player = document.getElementById("player");
    const remote = new MediaStream();
    pc.ontrack = (e) => {
      remote.addTrack(e.track);
      player.srcObject = remote;
    };
    const client = new WHEPClient();
    await client.view(pc, url, token);
    window.interop.client = client;
    window.interop.pc = pc;
    return client.resourceURL.href;
  },

  // stats returns the inbound video counters and the player's picture size.
  async stats() {
    const out = { connectionState: window.interop.pc?.connectionState, framesDecoded: 0, frameWidth: 0, audioPackets: 0 };
    if (window.interop.pc) {
      (await window.interop.pc.getStats()).forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "video") Object.assign(out, { framesDecoded: r.framesDecoded || 0, frameWidth: r.frameWidth || 0 });
        if (r.type === "inbound-rtp" && r.kind === "audio") out.audioPackets = r.packetsReceived || 0;
      });
    }
    const v = document.getElementById("player");
    return { ...out, videoWidth: v.videoWidth, videoHeight: v.videoHeight };
  },

  // stop ends the session with the client's own DELETE.
  async stop() {
    await window.interop.client.stop();
  },
};
