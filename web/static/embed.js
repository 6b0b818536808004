// /embed/{stream}: a bare <wisp-player> for an <iframe>. The query may carry
// token=KEY (watch key or signed token) and muted=0 (start with sound, where
// the browser allows autoplay with sound).
import { byId, streamNameFromPath, whepURL } from './wisp.js';
import './player.js';

const player = byId('player');
const query = new URLSearchParams(location.search);
const name = streamNameFromPath();
document.title = `${name} · wisp`;
if (query.get('muted') === '0') player.removeAttribute('muted');
if (query.get('token')) player.setAttribute('token', query.get('token'));
window.wisp = player;
if (name) player.src = whepURL(name);
