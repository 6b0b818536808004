// Publish page: captures camera or screen and sends it to POST /whip/{stream}.
// Restarts on its own after a failure (2 s, doubling up to 10 s) until Stop.
// #media picks video and audio, video only or audio only; #codec the video
// codec, among those this browser can send (RTCRtpSender.getCapabilities).
import {
  Backoff, byId, deleteSession, describeError, fetchICEServers, monitorConnection, preferVideoCodecs,
  watchSession, retryable, streamNameFromPath, whipURL, whipWhepPost,
} from './wisp.js';

const KEY_STORAGE = 'wisp.key';

const el = {
  name: byId('stream-name'),
  camera: byId('camera'),
  screen: byId('screen'),
  media: byId('media'),
  codec: byId('codec'),
  simulcast: byId('simulcast'),
  preview: byId('preview'),
  keyForm: byId('key-form'),
  key: byId('key'),
  start: byId('start'),
  stop: byId('stop'),
  state: byId('state'),
  status: byId('status'),
  form: byId('message-form'),
  message: byId('message'),
  send: byId('send'),
  sent: byId('sent'),
};

const name = streamNameFromPath();

// The contract for browser tests; see web/README.md.
const api = { pc: null, dc: null, stream: null, location: null, sent: [], restarts: 0 };
window.wisp = api;

let media = null; // MediaStream being captured
let source = 'camera'; // what media comes from: camera | screen
let session = null; // { pc, dc, location, stopMonitor } of the current attempt
let wanted = false; // Start pressed, Stop not yet
let retryTimer = 0;
const backoff = new Backoff(2000, 10000);

function setState(state) {
  el.state.textContent = state;
  el.state.dataset.state = state;
}

function setStatus(text) {
  el.status.textContent = text;
}

function key() {
  return el.key.value;
}

function updateControls() {
  el.start.disabled = wanted;
  el.stop.disabled = !wanted;
  el.send.disabled = session?.dc.readyState !== 'open';
}

// --- stream key, kept for the browser tab's lifetime ---
try {
  el.key.value = sessionStorage.getItem(KEY_STORAGE) || '';
} catch {
  // storage disabled: the key just is not remembered
}
el.key.addEventListener('input', () => {
  try {
    if (el.key.value) sessionStorage.setItem(KEY_STORAGE, el.key.value);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // storage disabled
  }
});

// --- what to send ---
const NOT_MEDIA = ['video/rtx', 'video/red', 'video/ulpfec', 'video/flexfec-03'];
// Simulcast (#simulcast): three encodings of the camera, low to high (browsers
// shed the last one first under constraint), each with an explicit size and
// bitrate cap (Safari sends every encoding at full size without a scale). With
// the camera at 1280x720: l 320x180 ≤ 150 kbit/s, m 640x360 ≤ 500 kbit/s,
// h 1280x720 ≤ 1.5 Mbit/s. Short rids keep every RTP packet's header small.
const SIMULCAST = [
  { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

// The camera size asked for with #simulcast: Chromium sends three layers only
// from about 960x540 up (fewer for smaller captures), and l should not be tiny.
const SIMULCAST_CAMERA = { width: { ideal: 1280 }, height: { ideal: 720 } };

// The video codecs this browser can send, once each, in its own order.
function sendableVideoCodecs() {
  const codecs = globalThis.RTCRtpSender?.getCapabilities?.('video')?.codecs || [];
  const seen = new Map();
  for (const c of codecs) {
    const key = c.mimeType.toLowerCase();
    if (!NOT_MEDIA.includes(key) && !seen.has(key)) seen.set(key, c.mimeType);
  }
  return [...seen.values()];
}

function fillCodecs() {
  for (const mime of sendableVideoCodecs()) {
    const o = document.createElement('option');
    o.value = mime.toLowerCase();
    o.textContent = mime.replace(/^video\//i, '');
    el.codec.append(o);
  }
}

const wantVideo = () => el.media.value !== 'audio';
const wantAudio = () => el.media.value !== 'video';

// --- capture ---
async function openCamera() {
  const video = el.simulcast.checked ? SIMULCAST_CAMERA : true;
  if (!wantVideo()) return navigator.mediaDevices.getUserMedia({ audio: true });
  if (!wantAudio()) return navigator.mediaDevices.getUserMedia({ video });
  try {
    return await navigator.mediaDevices.getUserMedia({ video, audio: true });
  } catch {
    // No microphone, or it was refused: publish video alone.
    return await navigator.mediaDevices.getUserMedia({ video });
  }
}

async function openScreen() {
  const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: wantAudio() });
  if (!wantVideo()) {
    // A screen share always has video; audio only keeps just its sound.
    stream.getVideoTracks().forEach((t) => { stream.removeTrack(t); t.stop(); });
    if (!stream.getAudioTracks().length) throw new Error('the shared screen has no sound');
  }
  for (const t of stream.getVideoTracks()) {
    if ('contentHint' in t) t.contentHint = 'detail';
  }
  return stream;
}

async function useSource(kind) {
  let next;
  try {
    next = kind === 'screen' ? await openScreen() : await openCamera();
  } catch (err) {
    setStatus(`cannot open ${kind}: ${describeError(err)}`);
    return false;
  }
  const prev = media;
  media = next;
  source = kind;
  api.stream = next;
  el.preview.srcObject = next;
  el.preview.play().catch(() => {});
  for (const t of next.getTracks()) {
    t.addEventListener('ended', () => {
      if (media === next) setStatus(`${kind} ${t.kind} ended`);
    });
  }
  if (session) await switchTracks(session, next);
  prev?.getTracks().forEach((t) => t.stop());
  setStatus(`${kind} ready`);
  return true;
}

// Swaps the tracks of a live session without renegotiating. A kind that the
// session never offered (audio after a silent screen share) needs a new
// offer, so that case restarts the session.
async function switchTracks(s, next) {
  const senders = new Map();
  for (const t of s.pc.getTransceivers()) senders.set(t.receiver.track.kind, t.sender);
  const tracks = new Map(next.getTracks().map((t) => [t.kind, t]));
  if ([...tracks.keys()].some((kind) => !senders.has(kind))) {
    restart(s, 'new track kinds');
    return;
  }
  try {
    await Promise.all([...senders].map(([kind, sender]) => sender.replaceTrack(tracks.get(kind) || null)));
  } catch (err) {
    restart(s, `track switch failed: ${describeError(err)}`);
  }
}

// --- WHIP session ---
function closeSession(s) {
  s.stopMonitor?.();
  s.stopWatch?.();
  s.pc.close();
  if (s.location) deleteSession(s.location, key());
}

let connects = 0; // connect() calls; one that awaited while a newer one started gives way

async function connect() {
  clearTimeout(retryTimer);
  retryTimer = 0;
  if (!wanted || !media) return;
  const n = ++connects;

  // The endpoint's ice-server Links (COMMON-14): wisp's built-in TURN server,
  // when it runs, so a camera behind a relay-only network still publishes.
  let iceServers = [];
  try {
    iceServers = await fetchICEServers(whipURL(name), key());
  } catch {
    // the POST below reports what is wrong
  }
  if (n !== connects || !wanted || !media) return;

  const pc = new RTCPeerConnection({ iceServers });
  // The data channel must exist before createOffer so the offer has m=application.
  const dc = pc.createDataChannel('data');
  for (const track of media.getTracks()) {
    const init = { direction: 'sendonly', streams: [media] };
    // Simulcast (#simulcast): three encodings l, m, h (RFC 8853, WHIP-03); each
    // viewer gets one of them (its own choice, or wisp's).
    if (track.kind === 'video' && el.simulcast.checked) init.sendEncodings = SIMULCAST.map((e) => ({ ...e }));
    const tr = pc.addTransceiver(track, init);
    if (track.kind === 'video') {
      if (el.codec.value) preferVideoCodecs(tr, [el.codec.value]);
      else preferVideoCodecs(tr);
    }
  }
  const s = { pc, dc, location: null, stopMonitor: null, stopWatch: null };
  session = s;
  api.pc = pc;
  api.dc = dc;
  api.location = null;
  dc.addEventListener('open', updateControls);
  dc.addEventListener('close', updateControls);
  s.stopMonitor = monitorConnection(pc, {
    onState: (state) => {
      if (session === s) setState(state);
    },
    onConnected: () => {
      if (session !== s) return;
      backoff.reset();
      setStatus(`publishing to ${whipURL(name)}`);
    },
    onFailed: (reason) => fail(s, reason),
  });
  setState(pc.connectionState);
  setStatus('connecting…');
  updateControls();

  try {
    const { location } = await whipWhepPost(whipURL(name), pc, key());
    s.location = location;
    if (session === s) {
      api.location = location;
      s.stopWatch = watchSession(pc, location, { onGone: (reason) => fail(s, reason) });
    } else deleteSession(location, key()); // stopped while the POST was in flight
  } catch (err) {
    if (session !== s) return;
    if (retryable(err)) {
      fail(s, describeError(err));
      return;
    }
    stop();
    setState('failed');
    setStatus(`publishing refused: ${describeError(err)}`);
  }
}

// Ends a failed attempt and schedules the next one.
function fail(s, reason) {
  if (session !== s) return;
  session = null;
  closeSession(s);
  setState('failed');
  updateControls();
  if (!wanted) return;
  api.restarts++;
  const delay = backoff.next();
  setStatus(`${reason}; retrying in ${delay / 1000} s`);
  retryTimer = setTimeout(connect, delay);
}

// Replaces a working session at once (no backoff), e.g. for new track kinds.
function restart(s, reason) {
  if (session !== s) return;
  session = null;
  closeSession(s);
  setStatus(`${reason}; renegotiating`);
  connect();
}

async function start() {
  if (wanted) return;
  if (!name) {
    setStatus('no stream name in the address (expected /publish/{name})');
    return;
  }
  if (!media && !(await useSource('camera'))) return;
  wanted = true;
  backoff.reset();
  updateControls();
  connect();
}

function stop() {
  wanted = false;
  clearTimeout(retryTimer);
  retryTimer = 0;
  const s = session;
  session = null;
  if (s) closeSession(s);
  api.location = null;
  setState('closed');
  setStatus('stopped');
  updateControls();
}

// --- data messages ---
function appendSent(text) {
  const li = document.createElement('li');
  li.textContent = text;
  el.sent.append(li);
  api.sent.push(text);
}

el.form.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = el.message.value;
  if (!text) return;
  const dc = session?.dc;
  if (!dc || dc.readyState !== 'open') {
    setStatus('the data channel is not open yet');
    return;
  }
  try {
    dc.send(text);
  } catch (err) {
    setStatus(`send failed: ${describeError(err)}`);
    return;
  }
  appendSent(text);
  el.message.value = '';
});

// --- wiring ---
el.name.textContent = name || '(no stream name)';
document.title = `Publish ${name} · wisp`;
el.camera.addEventListener('click', () => useSource('camera'));
el.screen.addEventListener('click', () => useSource('screen'));
el.start.addEventListener('click', start);
// A new choice of kinds reopens the source (a live session swaps tracks or
// renegotiates); a new codec renegotiates a live session.
el.media.addEventListener('change', () => {
  if (media) useSource(source);
});
el.codec.addEventListener('change', () => {
  if (session) restart(session, `video codec ${el.codec.value || 'automatic'}`);
});
el.simulcast.addEventListener('change', async () => {
  // The camera is reopened at the size simulcast wants (or the default), then
  // a live session renegotiates with or without the encodings.
  if (media && source === 'camera' && wantVideo()) await useSource('camera');
  if (session) restart(session, el.simulcast.checked ? 'simulcast on' : 'simulcast off');
});
fillCodecs();
el.keyForm.addEventListener('submit', (e) => {
  e.preventDefault(); // Enter in the key field starts publishing
  start();
});
el.stop.addEventListener('click', stop);
window.addEventListener('pagehide', () => {
  if (wanted) stop();
});
setState('new');
updateControls();
