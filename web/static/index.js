// Index page: the streams from GET /api/streams, refreshed every 2 s, and a
// form to open /watch/{name} or /publish/{name}.
import { byId, describeError } from './wisp.js';

const REFRESH_MS = 2000;

const el = {
  form: byId('go'),
  name: byId('stream-name'),
  status: byId('streams-status'),
  list: byId('streams'),
};

let shown = null; // JSON of the list on screen: re-render only on change, so focus survives

function link(href, text, label) {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  a.setAttribute('aria-label', label);
  return a;
}

function cell(content) {
  const td = document.createElement('td');
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  return td;
}

function since(publishedAt) {
  const d = publishedAt ? new Date(publishedAt) : null;
  if (!d || Number.isNaN(d.getTime())) return '–';
  const t = document.createElement('time');
  t.dateTime = d.toISOString();
  t.textContent = d.toLocaleTimeString();
  return t;
}

// A simulcast stream's layers, highest first, each with its viewers: "h
// 1280x720: 2 viewers"; "–" for a stream with one layer.
function layerList(layers) {
  if (!Array.isArray(layers) || layers.length < 2) return '–';
  const ul = document.createElement('ul');
  ul.className = 'layer-list';
  for (const l of layers) {
    const li = document.createElement('li');
    li.dataset.rid = String(l.rid);
    li.dataset.viewers = String(Number(l.viewers) || 0);
    const n = Number(l.viewers) || 0;
    const sz = l.width && l.height ? ` ${l.width}x${l.height}` : '';
    li.textContent = `${l.rid}${sz}: ${n} ${n === 1 ? 'viewer' : 'viewers'}${l.active ? '' : ' (inactive)'}`;
    ul.append(li);
  }
  return ul;
}

function row(s) {
  const tr = document.createElement('tr');
  tr.dataset.stream = s.name;
  tr.dataset.live = String(Boolean(s.live));
  const open = document.createElement('span');
  open.className = 'links';
  const path = encodeURIComponent(s.name);
  open.append(
    link(`/watch/${path}`, 'watch', `watch ${s.name}`),
    link(`/publish/${path}`, 'publish', `publish ${s.name}`),
  );
  const media = [s.video, s.audio].filter(Boolean).join(', ') || '–';
  const status = document.createElement('span');
  status.className = s.live ? 'badge live' : 'badge';
  status.textContent = s.live ? 'live' : 'offline';
  const where = document.createElement('span');
  where.append(status);
  if (s.owner) { // a cluster: the node the publisher is on
    tr.dataset.owner = String(s.owner);
    where.append(` on ${s.owner}`);
  }
  tr.append(
    cell(String(s.name)),
    cell(where),
    cell(String(Number(s.viewers) || 0)),
    cell(media),
    cell(layerList(s.layers)),
    cell(since(s.publishedAt)),
    cell(open),
  );
  return tr;
}

function render(streams) {
  const json = JSON.stringify(streams);
  if (json === shown) return;
  shown = json;
  const sorted = [...streams].sort((a, b) =>
    Number(Boolean(b.live)) - Number(Boolean(a.live)) || String(a.name).localeCompare(String(b.name)));
  el.list.replaceChildren(...sorted.map(row));
  const live = streams.filter((s) => s.live).length;
  el.status.textContent = streams.length === 0
    ? 'No streams yet.'
    : `${live} live, ${streams.length - live} offline`;
}

async function refresh() {
  try {
    const res = await fetch('/api/streams', { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = await res.json();
    render(Array.isArray(body?.streams) ? body.streams.filter((s) => s && s.name) : []);
  } catch (err) {
    shown = null;
    el.status.textContent = `Cannot load streams (${describeError(err)}); retrying.`;
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

el.form.addEventListener('submit', (e) => {
  e.preventDefault();
  const name = el.name.value.trim();
  if (!name) return;
  const action = e.submitter?.value === 'publish' ? 'publish' : 'watch';
  location.assign(`/${action}/${encodeURIComponent(name)}`);
});

refresh();
