// Shared helpers for the wisp pages: WHIP (RFC 9725) / WHEP signalling over
// fetch, session teardown, backoff and connection monitoring.
//
// The pages never trickle ICE: they wait for gathering to complete (capped at
// GATHER_TIMEOUT_MS) and POST one full offer, so the server needs no PATCH.

/** Upper bound on waiting for ICE gathering before POSTing the offer. */
export const GATHER_TIMEOUT_MS = 2000;

/** How long "disconnected" may last before a session counts as failed. */
export const DISCONNECT_GRACE_MS = 3000;

/** How long a session may take from creation to "connected". */
export const CONNECT_TIMEOUT_MS = 20000;

/** How often a page looks at its connection for incoming bytes (watchSession). */
export const SESSION_CHECK_MS = 1000;

/** The longest pause between two session checks while the connection stays quiet. */
export const SESSION_CHECK_MAX_MS = 8000;

const SDP = 'application/sdp';

/** An HTTP answer other than the expected 201 Created. */
export class HttpError extends Error {
  constructor(status, detail) {
    super(detail ? `HTTP ${status}: ${detail}` : `HTTP ${status}`);
    this.name = 'HttpError';
    this.status = status;
    this.detail = detail || '';
  }
}

/** document.getElementById that fails loudly when a page lacks an element. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page has no #${id}`);
  return el;
}

/** The stream name: the last non-empty path segment of /publish/{name} or /watch/{name}. */
export function streamNameFromPath(pathname = location.pathname) {
  const parts = pathname.split('/').filter(Boolean);
  if (parts.length < 2) return '';
  const last = parts[parts.length - 1];
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** The WHIP endpoint of a stream. */
export const whipURL = (name) => `/whip/${encodeURIComponent(name)}`;

/** The WHEP endpoint of a stream. */
export const whepURL = (name) => `/whep/${encodeURIComponent(name)}`;

/** A short human-readable description of any thrown value. */
export function describeError(err) {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * Whether a failed POST is worth repeating: network errors, 5xx, and the 4xx
 * that mean "not now" (408 timeout, 409 stream busy, 425, 429 rate limit).
 * Other 4xx (bad key, bad offer) will not get better by retrying.
 */
export function retryable(err) {
  if (!(err instanceof HttpError)) return true;
  return err.status >= 500 || [408, 409, 425, 429].includes(err.status);
}

/** Resolves after ms, or at once when signal aborts. Never rejects. */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Doubling delay between min and max; reset() after a success. */
export class Backoff {
  constructor(minMs, maxMs) {
    this.min = minMs;
    this.max = maxMs;
    this.current = minMs;
  }

  /** The delay to wait now; the following call returns twice as much, up to max. */
  next() {
    const d = this.current;
    this.current = Math.min(this.current * 2, this.max);
    return d;
  }

  reset() {
    this.current = this.min;
  }
}

function authHeaders(token, extra = {}) {
  const headers = { ...extra };
  const t = typeof token === 'string' ? token.trim() : '';
  if (t) headers.Authorization = `Bearer ${t}`;
  return headers;
}

/** Resolves when ICE gathering is complete, or after timeoutMs, whichever is first. */
export function waitGatheringComplete(pc, timeoutMs = GATHER_TIMEOUT_MS) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onState);
      pc.removeEventListener('icecandidate', onCandidate);
      resolve();
    };
    const onState = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const onCandidate = (e) => {
      if (!e.candidate) done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', onState);
    pc.addEventListener('icecandidate', onCandidate);
  });
}

async function problemDetail(res, body) {
  const type = (res.headers.get('Content-Type') || '').toLowerCase();
  if (type.startsWith('application/problem+json')) {
    try {
      const p = JSON.parse(body);
      return String(p.detail || p.title || '').slice(0, 200);
    } catch {
      // fall through to the raw body
    }
  }
  return body.trim().slice(0, 200);
}

/**
 * Negotiates one WHIP or WHEP session (RFC 9725 §4.2): creates the offer if
 * pc has none yet, waits for ICE gathering (at most GATHER_TIMEOUT_MS), POSTs
 * the full offer as application/sdp with an optional bearer token, requires
 * 201 Created with a Location, and applies the answer.
 *
 * Returns { location, etag, links }: location is absolute, resolved against
 * the URL that answered (after any 307); etag may be null; links are the
 * answer's Link headers (parseLinks), such as the WHEP extensions' URLs. Throws HttpError for a
 * non-201 answer, TypeError for network failures. If the answer cannot be
 * applied, the new session is DELETEd before the error is rethrown.
 */
export async function whipWhepPost(url, pc, token) {
  const endpoint = new URL(url, location.href);
  if (!pc.localDescription) {
    await pc.setLocalDescription(await pc.createOffer());
  }
  await waitGatheringComplete(pc);
  if (pc.signalingState === 'closed') throw new Error('peer connection closed');

  const res = await fetch(endpoint, {
    method: 'POST',
    headers: authHeaders(token, { 'Content-Type': SDP }),
    body: pc.localDescription.sdp,
  });
  const body = await res.text();
  if (res.status !== 201) throw new HttpError(res.status, await problemDetail(res, body));
  const loc = res.headers.get('Location');
  if (!loc) throw new Error('201 without a Location header');
  const session = new URL(loc, res.url || endpoint).href;
  const etag = res.headers.get('ETag');
  const links = parseLinks(res.headers.get('Link') || '', res.url || endpoint.href);

  try {
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
  } catch (err) {
    deleteSession(session, token);
    throw err;
  }
  return { location: session, etag, links };
}

/**
 * The STUN/TURN servers an endpoint announces to this client: a non-preflight
 * OPTIONS (with the bearer token, RFC 9725 §4.6, COMMON-14) whose Link
 * headers rel="ice-server" become RTCIceServer entries. [] when it names none.
 */
export async function fetchICEServers(url, token) {
  const res = await fetch(url, { method: 'OPTIONS', headers: authHeaders(token), cache: 'no-store' });
  return parseICELinks(res.headers.get('Link') || '');
}

/**
 * Parses Link header values (joined by ", " as fetch does) into { url, params }
 * entries, params' names in lower case (rel, events, username…). With base,
 * relative URLs are resolved against it.
 */
export function parseLinks(header, base) {
  const out = [];
  for (const m of header.matchAll(/<([^>]+)>((?:\s*;\s*[\w-]+="[^"]*")*)/g)) {
    const params = {};
    for (const p of m[2].matchAll(/([\w-]+)="([^"]*)"/g)) params[p[1].toLowerCase()] = p[2];
    let url = m[1];
    if (base) {
      try {
        url = new URL(url, base).href;
      } catch {
        // keep it as written
      }
    }
    out.push({ url, params });
  }
  return out;
}

/** Parses Link header values (joined by ", " as fetch does) into RTCIceServer entries. */
export function parseICELinks(header) {
  const out = [];
  for (const { url, params } of parseLinks(header)) {
    if (params.rel !== 'ice-server') continue;
    const server = { urls: url };
    if (params.username !== undefined) {
      server.username = params.username;
      server.credential = params.credential || '';
    }
    out.push(server);
  }
  return out;
}

/**
 * Ends a session with DELETE on its Location (RFC 9725 §4.2). Best effort:
 * resolves true on 2xx, false on anything else, never rejects. Uses
 * keepalive so it also completes while the page is being unloaded.
 */
export async function deleteSession(location, token) {
  if (!location) return false;
  try {
    const res = await fetch(location, {
      method: 'DELETE',
      headers: authHeaders(token),
      keepalive: true,
    });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Watches pc.connectionState. Calls onState(state) on every change,
 * onConnected() on "connected", and onFailed(reason) once when the session
 * is lost: "failed", a remote "closed", "disconnected" for longer than
 * graceMs, no "connected" within connectTimeoutMs, or a DTLS transport that
 * goes "closed" or "failed". The server closes DTLS (close_notify) when it
 * ends a session or shuts down; Chromium then leaves connectionState at
 * "connected" until ICE consent fails seconds later, so the transports are
 * watched too. Returns a function that stops watching.
 */
export function monitorConnection(pc, {
  onState = () => {},
  onConnected = () => {},
  onFailed = () => {},
  graceMs = DISCONNECT_GRACE_MS,
  connectTimeoutMs = CONNECT_TIMEOUT_MS,
} = {}) {
  let done = false;
  let graceTimer = 0;
  let connectTimer = setTimeout(() => fail('no connection after ' + connectTimeoutMs / 1000 + ' s'), connectTimeoutMs);
  const transports = new Set();

  function stop() {
    done = true;
    clearTimeout(graceTimer);
    clearTimeout(connectTimer);
    pc.removeEventListener('connectionstatechange', onChange);
    transports.forEach((t) => t.removeEventListener('statechange', onTransport));
  }
  function fail(reason) {
    if (done) return;
    stop();
    onFailed(reason);
  }
  function onChange() {
    if (done) return;
    const state = pc.connectionState;
    clearTimeout(graceTimer);
    onState(state);
    switch (state) {
      case 'connected':
        clearTimeout(connectTimer);
        watchTransports();
        onConnected();
        break;
      case 'disconnected':
        graceTimer = setTimeout(() => fail(`disconnected for more than ${graceMs / 1000} s`), graceMs);
        break;
      case 'failed':
      case 'closed':
        fail(`connection ${state}`);
        break;
    }
  }
  function onTransport(e) {
    const state = e.target.state;
    if (state === 'closed' || state === 'failed') fail(`DTLS transport ${state}`);
  }
  // The DTLS transports exist once negotiated; with BUNDLE there is one.
  function watchTransports() {
    const all = [...pc.getSenders(), ...pc.getReceivers()].map((x) => x.transport);
    all.push(pc.sctp?.transport);
    for (const t of all) {
      if (!t || transports.has(t)) continue;
      transports.add(t);
      t.addEventListener('statechange', onTransport);
    }
  }
  pc.addEventListener('connectionstatechange', onChange);
  return stop;
}

// Bytes received on the selected ICE candidate pair, or null when the stats do
// not say (no pair selected yet, or a browser without these stats).
async function pairBytesReceived(pc) {
  const report = await pc.getStats();
  let pair = null;
  report.forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pair = report.get(r.selectedCandidatePairId) || pair;
  });
  if (!pair) {
    report.forEach((r) => {
      if (!pair && r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r;
    });
  }
  return typeof pair?.bytesReceived === 'number' ? pair.bytesReceived : null;
}

/**
 * Notices at once that the server no longer has a session, as after a server
 * restart that lost its state (a crash, SIGKILL): ICE consent would take 5 s
 * or more to fail, then the "disconnected" grace. Every SESSION_CHECK_MS the
 * page looks at the bytes its selected candidate pair has received: the
 * server sends media to a viewer and RTCP receiver reports (every second) to
 * a publisher. When nothing came in since the last look, it asks the session
 * URL with GET: the server answers 204 while the session lives and 404 once
 * it is gone (COMMON-08, COMMON-19), and on 404 onGone(reason) is called
 * once. A network error or any other answer changes nothing (a server that
 * is down is left to monitorConnection), and while the connection stays quiet
 * (a viewer waiting for its publisher) the checks back off up to
 * SESSION_CHECK_MAX_MS. Returns a function that stops watching.
 */
export function watchSession(pc, sessionURL, { onGone = () => {}, intervalMs = SESSION_CHECK_MS, maxMs = SESSION_CHECK_MAX_MS } = {}) {
  let stopped = false;
  let timer = 0;
  let last = null;
  let wait = intervalMs;

  async function gone() {
    try {
      const res = await fetch(sessionURL, { method: 'GET', cache: 'no-store' });
      return res.status === 404;
    } catch {
      return false;
    }
  }
  async function check() {
    let bytes = null;
    try {
      bytes = await pairBytesReceived(pc);
    } catch {
      // a closed pc: treat as quiet
    }
    const quiet = bytes === null || bytes === last;
    last = bytes;
    if (!quiet) {
      wait = intervalMs;
    } else if (await gone()) {
      if (stopped) return;
      stopped = true;
      onGone('the server no longer has this session');
      return;
    } else {
      wait = Math.min(wait * 2, maxMs);
    }
    if (!stopped) timer = setTimeout(check, wait);
  }
  timer = setTimeout(check, intervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

// Rank of an H.264 variant: packetization-mode=1 and constrained baseline
// first, the profile that OBS-like players and ffmpeg decode everywhere.
function h264Rank(codec) {
  const fmtp = codec.sdpFmtpLine || '';
  return (/packetization-mode=1/.test(fmtp) ? 0 : 2) + (/profile-level-id=42e0/i.test(fmtp) ? 0 : 1);
}

function ordered(codecs, order) {
  const rank = (c) => {
    const i = order.indexOf(c.mimeType.toLowerCase());
    return i < 0 ? order.length : i;
  };
  return codecs
    .map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c) - rank(b.c) ||
      (a.c.mimeType.toLowerCase() === 'video/h264' ? h264Rank(a.c) - h264Rank(b.c) : 0) ||
      a.i - b.i)
    .map((x) => x.c);
}

/**
 * Puts H.264 first and VP8 next in a video transceiver's codec preferences,
 * keeping every other codec (VP9, AV1, rtx, red, ulpfec) after them, so the
 * server picks H.264 whenever this browser can send it. Returns whether
 * preferences were applied; a browser without setCodecPreferences or
 * without these codecs keeps its defaults.
 */
export function preferVideoCodecs(transceiver, order = ['video/h264', 'video/vp8']) {
  if (typeof transceiver.setCodecPreferences !== 'function') return false;
  // Browsers validate against sender or receiver capabilities depending on
  // their age; try the sender's list first, then the receiver's.
  for (const source of [globalThis.RTCRtpSender, globalThis.RTCRtpReceiver]) {
    const codecs = source?.getCapabilities?.('video')?.codecs;
    if (!codecs || !codecs.some((c) => order.includes(c.mimeType.toLowerCase()))) continue;
    try {
      transceiver.setCodecPreferences(ordered(codecs, order));
      return true;
    } catch {
      // try the next capability list
    }
  }
  return false;
}
