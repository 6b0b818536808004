// The WHEP layer extension from a player's side (WHEPX-05, WHEPX-06): the
// session's 201 names an events URL (server-sent events, advertising "layers")
// and a layer URL. LayerClient subscribes to the "layers" event, which lists
// the stream's video layers (rid, width, height, bitrate, active; highest
// first), and chooses one: POST {mediaId, rid} pins it, DELETE returns to the
// server's automatic choice. The server switches at the chosen layer's next
// keyframe; what this viewer decodes shows it (layerOfSize).
import { HttpError } from './wisp.js';

/** Link relation of the server-sent events extension (WHEPX-01). */
export const REL_EVENTS = 'urn:ietf:params:whep:ext:core:server-sent-events';

/** Link relation of the layer extension (WHEPX-06). */
export const REL_LAYER = 'urn:ietf:params:whep:ext:core:layer';

const JSON_TYPE = 'application/json';

/**
 * The layers of a "layers" event's data ({"<m-line index>": [entry…]}):
 * { mediaId, layers: [{ rid, width, height, bitrate, active }] } for the first
 * m-line it names (the video), in the server's order (highest first). A layer
 * without a rid (a stream's only layer, sent as spatialLayerId) has rid ''.
 */
export function parseLayersEvent(data) {
  const entries = Object.entries(data && typeof data === 'object' ? data : {});
  if (!entries.length || !Array.isArray(entries[0][1])) return { mediaId: null, layers: [] };
  const [mediaId, list] = entries[0];
  const layers = list.filter((e) => e && typeof e === 'object').map((e) => {
    const bitrate = Number(e.bitrate) || 0;
    return {
      rid: typeof e.rid === 'string' ? e.rid : '',
      width: Number(e.width) || 0,
      height: Number(e.height) || 0,
      bitrate,
      // The extension's sign of an inactive layer is a bitrate of 0; wisp also says it.
      active: typeof e.active === 'boolean' ? e.active : bitrate > 0,
    };
  });
  return { mediaId, layers };
}

/**
 * The rid of the layer a viewer decoding width x height receives: the layer of
 * exactly that size, else the one closest in pixels (within a factor of 1.5),
 * else null. Layers are told apart by size; a server switches only at keyframes,
 * which carry the size.
 */
export function layerOfSize(layers, width, height) {
  if (!width || !height) return null;
  const exact = layers.find((l) => l.width === width && l.height === height);
  if (exact) return exact.rid;
  let best = null;
  let bestRatio = 1.5;
  for (const l of layers) {
    if (!l.width || !l.height) continue;
    const a = l.width * l.height;
    const b = width * height;
    const ratio = Math.max(a, b) / Math.min(a, b);
    if (ratio <= bestRatio) {
      best = l.rid;
      bestRatio = ratio;
    }
  }
  return best;
}

/**
 * One session's use of the layer extension. LayerClient.from(links) returns
 * null when the session offers no layer URL, or no events URL with "layers".
 */
export class LayerClient {
  constructor(eventsURL, layerURL, onLayers) {
    this.eventsURL = eventsURL;
    this.layerURL = layerURL;
    this.onLayers = onLayers; // ({ mediaId, layers }) on every "layers" event
    this.mediaId = null; // the video m-line index, from the first "layers" event
    this.source = null; // the EventSource
    this.closed = false;
  }

  /** A LayerClient for a session's Link entries (wisp.js parseLinks), or null. */
  static from(links, onLayers) {
    const events = links.find((l) => l.params.rel === REL_EVENTS &&
      (l.params.events || '').split(',').map((t) => t.trim()).includes('layers'));
    const layer = links.find((l) => l.params.rel === REL_LAYER);
    return events && layer ? new LayerClient(events.url, layer.url, onLayers) : null;
  }

  /**
   * Subscribes to "layers" (POST the events URL, WHEPX-02) and listens on the
   * event stream it names. Throws HttpError when the server refuses.
   */
  async start() {
    const res = await fetch(this.eventsURL, {
      method: 'POST',
      headers: { 'Content-Type': JSON_TYPE },
      body: JSON.stringify(['layers']),
      cache: 'no-store',
    });
    if (res.status !== 201) throw new HttpError(res.status, (await res.text()).trim().slice(0, 200));
    const loc = res.headers.get('Location');
    if (!loc) throw new Error('event subscription without a Location');
    if (this.closed) return;
    this.source = new EventSource(new URL(loc, res.url || this.eventsURL).href);
    this.source.addEventListener('layers', (e) => {
      let data;
      try {
        data = JSON.parse(e.data);
      } catch {
        return; // not JSON: nothing to show
      }
      const parsed = parseLayersEvent(data);
      if (parsed.mediaId !== null) this.mediaId = parsed.mediaId;
      this.onLayers(parsed);
    });
  }

  /**
   * Chooses the layer: rid pins it (POST {mediaId, rid}); '' returns to the
   * server's automatic choice (DELETE, as WHEPX-06 allows). Resolves once the
   * server accepted it (200); throws HttpError with its detail otherwise (an
   * unknown rid: 400, the choice unchanged).
   */
  async select(rid) {
    const init = rid
      ? {
        method: 'POST',
        headers: { 'Content-Type': JSON_TYPE },
        body: JSON.stringify(this.mediaId === null ? { rid } : { mediaId: this.mediaId, rid }),
      }
      : { method: 'DELETE' };
    const res = await fetch(this.layerURL, { ...init, cache: 'no-store' });
    if (res.ok) return;
    let detail = (await res.text()).trim();
    try {
      const p = JSON.parse(detail);
      detail = String(p.detail || p.title || detail);
    } catch {
      // not problem details: the text itself
    }
    throw new HttpError(res.status, detail.slice(0, 200));
  }

  /** Stops listening; the session's end (its DELETE) ends the subscription on the server. */
  close() {
    this.closed = true;
    this.source?.close();
    this.source = null;
  }
}
