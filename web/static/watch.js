// Watch page: a <wisp-player> (player.js) on POST /whep/{stream}, with live
// stats and the publisher's data messages. The player reconnects forever (1 s
// doubling to 8 s) until the page is closed. A viewer may connect before the
// publisher is live; it then shows "waiting for publisher" until frames are
// decoded. A stream this browser cannot decode (the server answers 422 naming
// the codec) shows that message in place of the player, and the player keeps
// retrying in case the publisher changes. A simulcast stream shows its layers
// (from the WHEP layer extension's "layers" event), the one this viewer
// decodes, and a button per layer plus Auto to choose.
import { byId, describeError, streamNameFromPath, whepURL } from './wisp.js';
import './player.js';

const STATS_INTERVAL_MS = 1000;
const MAX_MESSAGES = 1000; // older messages leave the list and window.wisp.messages

const el = {
  name: byId('stream-name'),
  player: byId('player'), // the <wisp-player>
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
  layers: byId('layers'),
  layerChoice: byId('layer-choice'),
  layerAuto: byId('layer-auto'),
  layerRows: byId('layer-rows'),
  layerStatus: byId('layer-status'),
};
const player = el.player;

const name = streamNameFromPath();

// The contract for browser tests; see web/README.md. pc, dc, location, phase,
// unplayable and reconnects are the player's.
const api = {
  get pc() { return player.pc; }, // replaced on every reconnect
  get dc() { return player.dc; },
  get location() { return player.location; },
  get phase() { return player.phase; },
  get unplayable() { return player.unplayable; },
  get reconnects() { return player.reconnects; },
  messages: [], // received data messages, as shown in #messages
  stats,
  // The layer extension, through the player: the stream's video layers
  // (highest first), this viewer's choice ('' = automatic), the rid it decodes
  // now (by picture size; null before a frame), and a way to choose.
  get layers() { return player.layers; },
  get layerChoice() { return player.layerChoice; },
  get receivingLayer() { return player.receivingLayer; },
  selectLayer: (rid) => player.selectLayer(rid),
};
window.wisp = api;

let rate = { pc: null, bytes: 0, ts: 0, bitrate: 0 }; // bitrate from the bytesReceived delta

function setState(state) {
  el.state.textContent = state;
  el.state.dataset.state = state;
}

function setPhase(phase, text) {
  el.status.dataset.phase = phase;
  el.status.textContent = text;
  // The player shows the reason in its own notice too; the page's #notice is
  // the one of the contract.
  el.notice.textContent = player.unplayable;
  el.notice.hidden = !player.unplayable;
  player.hidden = Boolean(player.unplayable); // #notice takes the player's place
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

player.addEventListener('message', (e) => addMessage(e.data));
player.addEventListener('phase', (e) => setPhase(e.detail.phase, e.detail.text));
player.addEventListener('statechange', (e) => setState(e.detail));

function startLoop() {
  if (!name) return;
  if (!player.src) player.src = whepURL(name); // starts the player
  else player.start();
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
  const pc = player.pc;
  const out = {
    connectionState: pc ? pc.connectionState : 'new',
    phase: player.phase,
    location: player.location,
    reconnects: player.reconnects,
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

    const size = s.frameWidth && s.frameHeight ? `${s.frameWidth}x${s.frameHeight}` : '–';
    show(el.resolution, size === '–' ? '' : size, size);
    show(el.fps, s.framesPerSecond, s.framesPerSecond ? String(Math.round(s.framesPerSecond)) : '–');
    show(el.bitrate, rate.bitrate, `${Math.round(rate.bitrate / 1000)} kbps`);
    show(el.lost, s.packetsLost, String(s.packetsLost));
    show(el.decoded, s.framesDecoded, String(s.framesDecoded));
  } finally {
    sampling = false;
  }
}

// --- layers (simulcast) ---
function size(l) {
  return l.width && l.height ? `${l.width}x${l.height}` : '–';
}

function bitrateText(bps) {
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(1)} Mbit/s` : `${Math.round(bps / 1000)} kbit/s`;
}

function layerButton(rid) {
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.rid = rid;
  return b;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text; // no re-announcement of the same text
}

// Shows the layers of a simulcast stream; a stream with one layer (or none
// listed) hides the section. Buttons are kept per rid, so focus survives the
// periodic "layers" events.
function renderLayers({ layers, choice, receiving }) {
  el.layers.hidden = layers.length < 2;
  el.layers.dataset.receiving = receiving || '';
  el.layers.dataset.choice = choice;
  const old = [...el.layerChoice.querySelectorAll('button[data-rid]')].filter((b) => b !== el.layerAuto);
  if (layers.length < 2) {
    old.forEach((b) => b.remove());
    el.layerRows.replaceChildren();
    setText(el.layerStatus, '');
    return;
  }
  let buttons = old;
  if (old.map((b) => b.dataset.rid).join('\n') !== layers.map((l) => l.rid).join('\n')) {
    old.forEach((b) => b.remove());
    buttons = layers.map((l) => layerButton(l.rid));
    el.layerChoice.append(...buttons);
  }
  el.layerAuto.setAttribute('aria-pressed', String(choice === ''));
  layers.forEach((l, i) => {
    const b = buttons[i];
    setText(b, l.width ? `${size(l)} (${l.rid})` : l.rid);
    b.setAttribute('aria-label', `Layer ${l.rid}: ${size(l)}, ${bitrateText(l.bitrate)}${l.active ? '' : ', inactive'}`);
    b.setAttribute('aria-pressed', String(choice === l.rid));
    b.dataset.active = String(l.active);
  });

  el.layerRows.replaceChildren(...layers.map((l) => {
    const tr = document.createElement('tr');
    tr.dataset.rid = l.rid;
    tr.dataset.active = String(l.active);
    tr.dataset.receiving = String(l.rid === receiving);
    for (const text of [l.rid, size(l), l.active ? bitrateText(l.bitrate) : '–', l.active ? 'active' : 'inactive',
      l.rid === receiving ? 'receiving' : '']) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  }));

  const now = layers.find((l) => l.rid === receiving);
  let text = now ? `Receiving ${now.rid} (${size(now)})` : 'Receiving: not known yet';
  if (!choice) text += ', chosen automatically';
  else if (choice === receiving) text += ', as chosen';
  else text += `; ${choice} chosen, switching at its next keyframe`;
  setText(el.layerStatus, text);
}

player.addEventListener('layers', (e) => renderLayers(e.detail));
el.layerChoice.addEventListener('click', async (e) => {
  const b = e.target.closest('button[data-rid]');
  if (!b) return;
  const rid = b.dataset.rid;
  try {
    await player.selectLayer(rid);
  } catch (err) {
    setText(el.layerStatus, `Cannot choose ${rid ? `layer ${rid}` : 'Auto'}: ${describeError(err)}`);
  }
});

// --- wiring ---
el.name.textContent = name || '(no stream name)';
document.title = `Watch ${name} · wisp`;

el.unmute.addEventListener('click', () => {
  el.player.muted = !el.player.muted;
  if (!el.player.muted) el.player.play().catch(() => {});
});
player.video.addEventListener('volumechange', () => {
  el.unmute.textContent = el.player.muted ? 'Unmute' : 'Mute';
  el.unmute.setAttribute('aria-pressed', String(!el.player.muted));
});

window.addEventListener('pagehide', () => player.stop());
window.addEventListener('pageshow', (e) => {
  if (e.persisted) startLoop(); // restored from the back/forward cache
});
setInterval(sample, STATS_INTERVAL_MS);

if (!name) setPhase('closed', 'no stream name in the address (expected /watch/{name})');
else startLoop(); // the player itself waits for the page's load event
