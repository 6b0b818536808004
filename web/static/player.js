// <wisp-player>: a WHEP player element for any page. Load it as a module from
// wisp (<script type="module" src="WISP/player.js">, WISP being wisp's origin; it
// redirects here) and write
//
//   <wisp-player src="WISP/whep/cam" autoplay muted controls></wisp-player>
//
// Attributes: src (the WHEP endpoint), token (sent as Authorization: Bearer),
// muted, autoplay, controls (as on <video>), relay (use TURN relays only),
// layers (follow the stream's simulcast layers through the WHEP layer
// extension: the layers property and event, selectLayer()).
// It asks the endpoint for its ice-server Links first (OPTIONS, COMMON-14), so
// wisp's built-in TURN server is used by itself, and it reconnects forever
// (1 s doubling to 8 s) after a publisher or server restart. Events:
//   message      a data message relayed from the publisher (MessageEvent, .data)
//   phase        .detail = { phase, text }: connecting | waiting | live |
//                reconnecting | unplayable | closed
//   statechange  .detail = the RTCPeerConnection's connectionState
//   layers       (with the layers attribute) .detail = { layers, choice, receiving }:
//                the stream's video layers changed, or the one this viewer decodes
// wisp's own watch page is built on it (watch.js).
import {
  Backoff, deleteSession, describeError, fetchICEServers, HttpError, monitorConnection, sleep,
  watchSession, whipWhepPost,
} from './wisp.js';
import { LayerClient, layerOfSize } from './layers.js';

const STATS_INTERVAL_MS = 1000;
const FRAME_STALE_MS = 3000; // no new frame for this long: back to "waiting"

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

// The element's own styles, a constructed sheet (a strict CSP allows it, unlike
// a <style> element); the page styles ::part(video) and ::part(notice).
let shared = null;
function sheet() {
  if (!shared) {
    shared = new CSSStyleSheet();
    shared.replaceSync(`:host { display: block; } :host([hidden]), [hidden] { display: none !important; }
video { display: block; width: 100%; height: 100%; background: #000; }`);
  }
  return shared;
}

export class WispPlayer extends HTMLElement {
  static observedAttributes = ['src', 'token', 'muted', 'autoplay', 'controls', 'relay'];

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.adoptedStyleSheets = [sheet()];
    this.video = document.createElement('video');
    this.video.playsInline = true;
    this.video.setAttribute('part', 'video');
    this.notice = document.createElement('p');
    this.notice.setAttribute('role', 'alert');
    this.notice.setAttribute('part', 'notice');
    this.notice.hidden = true;
    root.append(this.video, this.notice);

    this.pc = null; // the current RTCPeerConnection, replaced on every reconnect
    this.dc = null; // its "data" channel
    this.location = null; // the current WHEP session URL
    this.phase = 'closed';
    this.unplayable = ''; // the server's reason this browser cannot play the stream (422)
    this.reconnects = 0; // sessions started after the first
    this.run = null; // AbortController of the running loop
    this.current = null; // { pc, dc, location } of the live session
    this.frames = { pc: null, decoded: 0, at: 0 };
    this.timer = 0;
    // The layer extension (layers attribute): the stream's video layers as the
    // server's "layers" event lists them (highest first), the player's choice
    // ('' = the server's automatic one; kept across reconnects) and the size
    // this viewer decodes now.
    this.layers = [];
    this.layerChoice = '';
    this.frameSize = { pc: null, width: 0, height: 0 };
  }

  connectedCallback() {
    this.syncVideo();
    this.timer = setInterval(() => this.sample(), STATS_INTERVAL_MS);
    // A playing <video> whose MediaStream has no frames yet delays the load
    // event (HTML "delaying the load event"): a player that arrives before the
    // publisher would hold the page's load back for good. Start after load.
    if (document.readyState === 'complete') this.start();
    else window.addEventListener('load', () => this.start(), { once: true });
  }

  disconnectedCallback() {
    clearInterval(this.timer);
    this.stop();
  }

  attributeChangedCallback(name, old, value) {
    if (old === value) return;
    this.syncVideo();
    if ((name === 'src' || name === 'token' || name === 'relay') && this.run) {
      this.stop();
      this.start();
    }
  }

  syncVideo() {
    this.video.muted = this.hasAttribute('muted');
    this.video.autoplay = this.hasAttribute('autoplay');
    this.video.controls = this.hasAttribute('controls');
  }

  get src() { return this.getAttribute('src') || ''; }
  set src(v) { this.setAttribute('src', v); }
  get token() { return this.getAttribute('token') || ''; }
  set token(v) { this.setAttribute('token', v); }
  get muted() { return this.video.muted; }
  set muted(v) { this.video.muted = Boolean(v); }
  // What a page or test reads of a <video>, read from the inner one.
  get videoWidth() { return this.video.videoWidth; }
  get videoHeight() { return this.video.videoHeight; }
  get currentTime() { return this.video.currentTime; }
  get paused() { return this.video.paused; }
  get readyState() { return this.video.readyState; }
  play() { return this.video.play(); }

  setPhase(phase, text) {
    if (this.phase === phase && this.phaseText === text) return;
    this.phase = phase;
    this.phaseText = text;
    this.dispatchEvent(new CustomEvent('phase', { detail: { phase, text } }));
  }

  setState(state) {
    this.dispatchEvent(new CustomEvent('statechange', { detail: state }));
  }

  // Shows why the stream cannot be played here in place of the black video,
  // or (reason '') the video again.
  setUnplayable(reason) {
    this.unplayable = reason;
    this.notice.textContent = reason;
    this.notice.hidden = !reason;
    this.video.hidden = Boolean(reason);
    // The inline display:block would override the hidden attribute.
    this.video.style.display = reason ? 'none' : 'block';
  }

  receiving() {
    return this.frames.pc === this.pc && this.frames.at > 0 && performance.now() - this.frames.at < FRAME_STALE_MS;
  }

  showConnectedPhase() {
    if (this.receiving()) this.setPhase('live', 'live');
    else this.setPhase('waiting', 'waiting for publisher');
  }

  // Once a second: has the current session decoded new frames (live) or not
  // (waiting)? And at which size (the layer it receives)?
  async sample() {
    const pc = this.pc;
    if (!pc || pc.connectionState !== 'connected') return;
    let decoded = 0;
    let width = 0;
    let height = 0;
    try {
      (await pc.getStats()).forEach((r) => {
        if (r.type !== 'inbound-rtp' || (r.kind || r.mediaType) !== 'video') return;
        decoded = r.framesDecoded || 0;
        width = r.frameWidth || 0;
        height = r.frameHeight || 0;
      });
    } catch {
      return; // a closed connection may refuse
    }
    if (pc !== this.pc) return;
    if (this.frames.pc !== pc) this.frames = { pc, decoded: 0, at: 0 };
    if (decoded > this.frames.decoded) this.frames = { pc, decoded, at: performance.now() };
    if (this.phase === 'waiting' || this.phase === 'live') this.showConnectedPhase();
    const before = this.receivingLayer;
    this.frameSize = { pc, width, height };
    if (this.layers.length && this.receivingLayer !== before) this.emitLayers();
  }

  /** The rid of the layer this viewer decodes now (by its picture size), or null. */
  get receivingLayer() {
    if (this.frameSize.pc !== this.pc) return null;
    return layerOfSize(this.layers, this.frameSize.width, this.frameSize.height);
  }

  emitLayers() {
    this.dispatchEvent(new CustomEvent('layers', {
      detail: { layers: this.layers, choice: this.layerChoice, receiving: this.receivingLayer },
    }));
  }

  // Subscribes session s to the stream's layers when the page asked for them
  // (layers attribute) and the server offers the extension.
  followLayers(s, links) {
    if (!this.hasAttribute('layers')) return;
    const client = LayerClient.from(links, ({ layers }) => {
      if (this.current !== s) return;
      this.layers = layers;
      // A choice made before this session (or before a reconnect) is applied
      // once the session lists that layer.
      if (this.layerChoice && !s.layerApplied && layers.some((l) => l.rid === this.layerChoice)) {
        s.layerApplied = true;
        client.select(this.layerChoice).catch(() => {});
      }
      this.emitLayers();
    });
    if (!client) return;
    s.layerClient = client;
    client.start().catch(() => {}); // no layers then: the page shows none
  }

  /**
   * Chooses this viewer's video layer by rid, or '' for the server's automatic
   * choice (WHEPX-06). Resolves once the server accepted it; the picture
   * changes at that layer's next keyframe. Rejects (HttpError) when the server
   * refuses, leaving the previous choice. Without a session yet, the choice is
   * applied when the next session lists the layer.
   */
  async selectLayer(rid = '') {
    const prev = this.layerChoice;
    const s = this.current;
    this.layerChoice = rid;
    if (s?.layerClient) {
      try {
        await s.layerClient.select(rid);
        s.layerApplied = true;
      } catch (err) {
        if (this.current === s) this.layerChoice = prev;
        this.emitLayers();
        throw err;
      }
    }
    this.emitLayers();
  }

  closeSession(s) {
    s.layerClient?.close();
    if (this.layers.length) {
      this.layers = [];
      this.emitLayers();
    }
    s.pc.close();
    if (s.location) deleteSession(s.location, this.token);
  }

  // Runs one session from offer to loss; resolves with the reason it ended.
  async session(signal, backoff) {
    const url = new URL(this.src, location.href).href;
    const token = this.token;
    const config = {};
    try {
      config.iceServers = await fetchICEServers(url, token);
    } catch {
      config.iceServers = []; // the POST below reports what is wrong
    }
    if (this.hasAttribute('relay')) config.iceTransportPolicy = 'relay';
    const pc = new RTCPeerConnection(config);
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    // Created before createOffer so the offer carries m=application: a WHEP
    // answer cannot add m-lines, and the server relays publisher data here.
    const dc = pc.createDataChannel('data');
    dc.binaryType = 'arraybuffer';
    dc.addEventListener('message', (e) => this.dispatchEvent(new MessageEvent('message', { data: e.data })));

    const media = new MediaStream();
    pc.addEventListener('track', (e) => {
      media.addTrack(e.track);
      if (this.hasAttribute('autoplay')) this.video.play().catch(() => {});
    });
    this.video.srcObject = media;

    const s = { pc, dc, location: null, layerClient: null, layerApplied: false };
    this.current = s;
    this.pc = pc;
    this.dc = dc;
    this.location = null;

    let end;
    const ended = new Promise((resolve) => { end = resolve; });
    const stopMonitor = monitorConnection(pc, {
      onState: (st) => this.setState(st),
      onConnected: () => {
        backoff.reset();
        this.setUnplayable('');
        this.showConnectedPhase();
      },
      onFailed: end,
    });
    const onAbort = () => end('closed');
    signal.addEventListener('abort', onAbort, { once: true });
    this.setState(pc.connectionState);
    this.setPhase('connecting', 'connecting…');

    let stopWatch = () => {};
    try {
      await pc.setLocalDescription(stereoOffer(await pc.createOffer()));
      const { location: loc, links } = await whipWhepPost(url, pc, token);
      s.location = loc;
      if (this.current === s) {
        this.location = loc;
        this.followLayers(s, links);
      }
      stopWatch = watchSession(pc, loc, { onGone: end });
    } catch (err) {
      // 422: no codec in common with the publisher (the detail names it).
      if (err instanceof HttpError && err.status === 422) this.setUnplayable(err.detail || describeError(err));
      end(describeError(err));
    }

    const reason = await ended;
    stopMonitor();
    stopWatch();
    signal.removeEventListener('abort', onAbort);
    if (this.current === s) {
      this.current = null;
      this.closeSession(s); // best-effort DELETE of the old session
    }
    return reason;
  }

  async loop(signal) {
    const backoff = new Backoff(1000, 8000);
    for (let first = true; !signal.aborted; first = false) {
      if (!first) this.reconnects++;
      const reason = await this.session(signal, backoff);
      if (signal.aborted) return;
      const delay = backoff.next();
      this.setState('failed');
      if (this.unplayable) this.setPhase('unplayable', `cannot play here: ${this.unplayable}; trying again in ${delay / 1000} s`);
      else this.setPhase('reconnecting', `${reason}; reconnecting in ${delay / 1000} s`);
      await sleep(delay, signal);
    }
  }

  /** Starts playing (a no-op while playing, before the page's load event or without src). */
  start() {
    if (this.run || !this.src || !this.isConnected || document.readyState !== 'complete') return;
    this.run = new AbortController();
    this.loop(this.run.signal);
  }

  /** Stops playing; the session ends with a keepalive DELETE. */
  stop() {
    if (!this.run) return;
    this.run.abort();
    this.run = null;
    const s = this.current;
    this.current = null;
    if (s) this.closeSession(s);
    this.setState('closed');
    this.setPhase('closed', 'closed');
  }
}

if (!customElements.get('wisp-player')) customElements.define('wisp-player', WispPlayer);
