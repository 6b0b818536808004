// Watch page: plays POST /whep/{stream}, shows live stats and the publisher's
// data messages, and reconnects forever (1 s doubling to 8 s) until the page
// is closed. A viewer may connect before the publisher is live; it then
// shows "waiting for publisher" until frames are decoded. A stream this browser
// cannot decode (the server answers 422 naming the codec) shows that message in
// place of the player, and the page keeps retrying in case the publisher changes.
import {
  Backoff, byId, deleteSession, describeError, HttpError, monitorConnection, sleep, watchSession,
  streamNameFromPath, whepURL, whipWhepPost,
} from './wisp.js';

const STATS_INTERVAL_MS = 1000;
const FRAME_STALE_MS = 3000; // no new frame for this long: back to "waiting for publisher"
const MAX_MESSAGES = 1000; // older messages leave the list and window.wisp.messages

const el = {
  name: byId('stream-name'),
  player: byId('player'),
  notice: byId('notice'),
  unmute: byId('unmute'),
  state: byId('state'),
  status: byId('status'),
  messages: byId('messages'),
  resolution: byId('stat-resolution'),
  fps: byId('stat-fps'),
  bitrate: byId('stat-bitrate'),
  lost: byId('stat-lost'),
  decoded: byId('stat-decoded'),
};

const name = streamNameFromPath();

// The contract for browser tests; see web/README.md.
const api = {
  pc: null, // the current RTCPeerConnection, replaced on every reconnect
  dc: null, // its "data" channel
  location: null, // the current WHEP session URL
  phase: 'connecting', // connecting | waiting | live | reconnecting | unplayable | closed
  unplayable: '', // the server's reason this browser cannot play the stream (422), shown in #notice
  reconnects: 0, // sessions started after the first
  messages: [], // received data messages, as shown in #messages
  stats,
};
window.wisp = api;

let run = null; // AbortController of the running reconnect loop
let current = null; // { pc, dc, location } of the live session
let frames = { pc: null, decoded: 0, at: 0 }; // last framesDecoded seen and when it grew
let rate = { pc: null, bytes: 0, ts: 0, bitrate: 0 }; // bitrate from the bytesReceived delta

function setState(state) {
  el.state.textContent = state;
  el.state.dataset.state = state;
}

function setPhase(phase, text) {
  api.phase = phase;
  el.status.dataset.phase = phase;
  el.status.textContent = text;
}

// Shows why the stream cannot be played here in place of the black player, or
// (reason '') the player again.
function setUnplayable(reason) {
  api.unplayable = reason;
  el.notice.textContent = reason;
  el.notice.hidden = !reason;
  el.player.hidden = Boolean(reason);
}

function receiving() {
  return frames.pc === api.pc && frames.at > 0 && performance.now() - frames.at < FRAME_STALE_MS;
}

function showConnectedPhase() {
  if (receiving()) setPhase('live', 'live');
  else setPhase('waiting', 'waiting for publisher');
}

// --- data messages ---
function addMessage(data) {
  let text;
  if (typeof data === 'string') text = data;
  else if (data instanceof ArrayBuffer) text = `[binary ${data.byteLength} bytes]`;
  else if (ArrayBuffer.isView(data)) text = `[binary ${data.byteLength} bytes]`;
  else if (data instanceof Blob) text = `[binary ${data.size} bytes]`;
  else text = String(data);
  const li = document.createElement('li');
  li.textContent = text;
  el.messages.append(li);
  api.messages.push(text);
  while (api.messages.length > MAX_MESSAGES) {
    api.messages.shift();
    el.messages.firstElementChild?.remove();
  }
}

// --- one WHEP session ---

// The offer with stereo=1 on its Opus lines (RFC 7587 §7.1): Chromium sets up
// its Opus decoder from its own (local) description, so without it a stereo
// publisher plays as mono even though wisp's answer says stereo=1.
function stereoOffer(offer) {
  const opus = [...offer.sdp.matchAll(/^a=rtpmap:(\d+) opus\/48000/gim)].map((m) => m[1]);
  let sdp = offer.sdp;
  for (const pt of opus) {
    sdp = sdp.replace(new RegExp(`^(a=fmtp:${pt} )(.*)$`, 'm'), (line, head, params) =>
      /(^|;)\s*stereo=/.test(params) ? line : `${head}${params};stereo=1`);
  }
  return { type: offer.type, sdp };
}

function closeSession(s) {
  s.pc.close();
  if (s.location) deleteSession(s.location);
}

// Runs one session from offer to loss; resolves with the reason it ended.
async function session(signal, backoff) {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  // Created before createOffer so the offer carries m=application: a WHEP
  // answer cannot add m-lines, and the server relays publisher data here.
  const dc = pc.createDataChannel('data');
  dc.binaryType = 'arraybuffer';
  dc.addEventListener('message', (e) => addMessage(e.data));

  const media = new MediaStream();
  pc.addEventListener('track', (e) => {
    media.addTrack(e.track);
    el.player.play().catch(() => {});
  });
  el.player.srcObject = media;

  const s = { pc, dc, location: null };
  current = s;
  api.pc = pc;
  api.dc = dc;
  api.location = null;

  let end;
  const ended = new Promise((resolve) => { end = resolve; });
  const stopMonitor = monitorConnection(pc, {
    onState: setState,
    onConnected: () => {
      backoff.reset();
      setUnplayable('');
      showConnectedPhase();
    },
    onFailed: end,
  });
  const onAbort = () => end('page closed');
  signal.addEventListener('abort', onAbort, { once: true });
  setState(pc.connectionState);
  setPhase('connecting', 'connecting…');

  let stopWatch = () => {};
  try {
    await pc.setLocalDescription(stereoOffer(await pc.createOffer()));
    const { location } = await whipWhepPost(whepURL(name), pc);
    s.location = location;
    if (current === s) api.location = location;
    stopWatch = watchSession(pc, location, { onGone: end });
  } catch (err) {
    // 422: no codec in common with the publisher (the detail names it).
    if (err instanceof HttpError && err.status === 422) setUnplayable(err.detail || describeError(err));
    end(describeError(err));
  }

  const reason = await ended;
  stopMonitor();
  stopWatch();
  signal.removeEventListener('abort', onAbort);
  if (current === s) {
    current = null;
    closeSession(s); // best-effort DELETE of the old session
  }
  return reason;
}

async function loop(signal) {
  const backoff = new Backoff(1000, 8000);
  for (let first = true; !signal.aborted; first = false) {
    if (!first) api.reconnects++;
    const reason = await session(signal, backoff);
    if (signal.aborted) return;
    const delay = backoff.next();
    setState('failed');
    if (api.unplayable) setPhase('unplayable', `cannot play here: ${api.unplayable}; trying again in ${delay / 1000} s`);
    else setPhase('reconnecting', `${reason}; reconnecting in ${delay / 1000} s`);
    await sleep(delay, signal);
  }
}

function startLoop() {
  if (run || !name) return;
  run = new AbortController();
  loop(run.signal);
}

// Stops the loop; the session ends with a keepalive DELETE.
function stopLoop() {
  run?.abort();
  run = null;
  const s = current;
  current = null;
  if (s) closeSession(s);
  setState('closed');
  setPhase('closed', 'closed');
}

// --- stats ---
function inboundVideo(report) {
  let video = null;
  let audio = null;
  let codec = '';
  report.forEach((r) => {
    if (r.type !== 'inbound-rtp') return;
    const kind = r.kind || r.mediaType;
    if (kind === 'video' && !video) video = r;
    if (kind === 'audio' && !audio) audio = r;
  });
  if (video?.codecId) codec = report.get(video.codecId)?.mimeType || '';
  return { video, audio, codec };
}

/**
 * A fresh snapshot of the current session's inbound stats. Fields are 0 or
 * '' while nothing has been received; bitrate (bits/s) comes from the
 * once-a-second sampler.
 */
async function stats() {
  const pc = api.pc;
  const out = {
    connectionState: pc ? pc.connectionState : 'new',
    phase: api.phase,
    location: api.location,
    reconnects: api.reconnects,
    frameWidth: 0,
    frameHeight: 0,
    framesPerSecond: 0,
    framesDecoded: 0,
    framesReceived: 0,
    packetsReceived: 0,
    packetsLost: 0,
    bytesReceived: 0,
    bitrate: rate.pc === pc ? rate.bitrate : 0,
    videoCodec: '',
    audio: null,
  };
  if (!pc) return out;
  let report;
  try {
    report = await pc.getStats();
  } catch {
    return out; // a closed connection may refuse
  }
  const { video, audio, codec } = inboundVideo(report);
  if (video) {
    out.frameWidth = video.frameWidth || 0;
    out.frameHeight = video.frameHeight || 0;
    out.framesPerSecond = video.framesPerSecond || 0;
    out.framesDecoded = video.framesDecoded || 0;
    out.framesReceived = video.framesReceived || 0;
    out.packetsReceived = video.packetsReceived || 0;
    out.packetsLost = video.packetsLost || 0;
    out.bytesReceived = video.bytesReceived || 0;
    out.videoCodec = codec;
  }
  if (audio) {
    out.audio = {
      packetsReceived: audio.packetsReceived || 0,
      packetsLost: audio.packetsLost || 0,
      bytesReceived: audio.bytesReceived || 0,
    };
  }
  return out;
}

function show(node, value, text) {
  node.dataset.value = String(value);
  node.textContent = text;
}

let sampling = false;
async function sample() {
  const pc = api.pc;
  if (!pc || sampling) return;
  sampling = true;
  try {
    const s = await stats();
    if (pc !== api.pc) return;
    const now = performance.now();
    if (rate.pc !== pc) {
      rate = { pc, bytes: s.bytesReceived, ts: now, bitrate: 0 };
    } else if (now > rate.ts) {
      rate.bitrate = Math.max(0, Math.round(((s.bytesReceived - rate.bytes) * 8 * 1000) / (now - rate.ts)));
      rate.bytes = s.bytesReceived;
      rate.ts = now;
    }
    if (frames.pc !== pc) frames = { pc, decoded: 0, at: 0 };
    if (s.framesDecoded > frames.decoded) {
      frames.decoded = s.framesDecoded;
      frames.at = now;
    }

    const size = s.frameWidth && s.frameHeight ? `${s.frameWidth}x${s.frameHeight}` : '–';
    show(el.resolution, size === '–' ? '' : size, size);
    show(el.fps, s.framesPerSecond, s.framesPerSecond ? String(Math.round(s.framesPerSecond)) : '–');
    show(el.bitrate, rate.bitrate, `${Math.round(rate.bitrate / 1000)} kbps`);
    show(el.lost, s.packetsLost, String(s.packetsLost));
    show(el.decoded, s.framesDecoded, String(s.framesDecoded));

    if (pc.connectionState === 'connected' && (api.phase === 'waiting' || api.phase === 'live')) {
      showConnectedPhase();
    }
  } finally {
    sampling = false;
  }
}

// --- wiring ---
el.name.textContent = name || '(no stream name)';
document.title = `Watch ${name} · wisp`;

el.unmute.addEventListener('click', () => {
  el.player.muted = !el.player.muted;
  if (!el.player.muted) el.player.play().catch(() => {});
});
el.player.addEventListener('volumechange', () => {
  el.unmute.textContent = el.player.muted ? 'Unmute' : 'Mute';
  el.unmute.setAttribute('aria-pressed', String(!el.player.muted));
});

window.addEventListener('pagehide', stopLoop);
window.addEventListener('pageshow', (e) => {
  if (e.persisted) startLoop(); // restored from the back/forward cache
});
setInterval(sample, STATS_INTERVAL_MS);

if (!name) {
  setPhase('closed', 'no stream name in the address (expected /watch/{name})');
} else if (document.readyState === 'complete') {
  startLoop();
} else {
  // A playing <video> whose MediaStream has no frames yet delays the load
  // event (HTML "delaying the load event"), and a viewer that arrives before
  // the publisher would never let the page finish loading: connect after load.
  window.addEventListener('load', startLoop, { once: true });
}
