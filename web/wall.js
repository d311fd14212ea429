// Boot of the wall display (/wall): one live feed, one view, rendered in
// animation frames like the dispatcher view; the city history refetched
// every history_interval_s. No interaction: the language is the one
// remembered by the dispatcher view (or ?lang=en in the URL) and follows a
// change made there.

import { LiveFeed } from './live.js';
import { ready, onStoredLangChange } from './i18n.js';
import { fetchConfig, fetchHistory, fetchOutlook, DEFAULT_CONFIG } from './api.js';
import { WallView } from './views/wall.js';

window.__bpBootCount = (window.__bpBootCount || 0) + 1;

const CLOCK_MS = 1000;
const HOURS = 24;
const RETRY_MS = 30000; // history or config failed: try again this soon
const EMPTY_RETRY_MS = 15000; // no history yet (a new install, or a server still loading it)

// The live feed starts at once, while the dictionary of the language shown
// is on its way (the view reads the feed's store when it first renders).
const feed = new LiveFeed({ url: `${window.location.protocol === 'https:' ? 'wss:' : 'ws:'}//${window.location.host}/ws` });
feed.start();
await ready;
const view = new WallView(document.getElementById('wall'), feed);

let pending = { full: true, lang: true, clock: true, hospitals: new Set(), ambulances: new Set() };
let frameId = 0;
let clockFrames = 0; // shown as data-clock-frames: a test sees the page move on

function schedule() {
  if (!frameId) frameId = window.requestAnimationFrame(render);
}

function render() {
  frameId = 0;
  const frame = Object.assign({}, pending, { now: feed.serverNow() });
  pending = { full: false, lang: false, clock: false, hospitals: new Set(), ambulances: new Set() };
  view.render(frame);
  if (frame.clock) document.documentElement.dataset.clockFrames = String(++clockFrames);
}

feed.addEventListener('snapshot', () => {
  pending.full = true;
  schedule();
});
feed.addEventListener('changes', (e) => {
  // the wall recomputes its totals from the store: only note that something changed
  if (e.detail.hospitals.size) pending.hospitals.add('*');
  if (e.detail.ambulances.size) pending.ambulances.add('*');
  schedule();
});
feed.addEventListener('connection', schedule);
feed.addEventListener('alerts', schedule); // the ticker reads the list each frame
onStoredLangChange(() => {
  pending.lang = true;
  schedule();
});
window.setInterval(() => {
  pending.clock = true;
  schedule();
}, CLOCK_MS);
window.addEventListener('online', () => feed.reconnectNow());

let historyIntervalS = DEFAULT_CONFIG.history_interval_s;
let historyTimer = 0;

async function loadHistory() {
  clearTimeout(historyTimer);
  const r = await fetchHistory('city', HOURS);
  // keep the last good line through a failed refetch (the banner tells
  // when the connection is gone); show the error only when there is none
  if (r.ok || !view.history || !view.history.ok) view.setHistory(r);
  view.setOutlook(await fetchOutlook()); // the city's next 24 hours
  let next = historyIntervalS * 1000;
  if (!r.ok) next = Math.min(RETRY_MS, next);
  else if (!r.data.points.length) next = Math.min(EMPTY_RETRY_MS, next);
  historyTimer = setTimeout(loadHistory, next);
}

async function loadConfig() {
  const r = await fetchConfig();
  if (r.ok) historyIntervalS = r.data.history_interval_s;
  else setTimeout(loadConfig, RETRY_MS);
}

// The history is asked for once the feed is live (a browser the server
// refuses gets no 401 noise), and again at once after a reconnect rather
// than a whole interval later.
let wasLive = false;
let configured = loadConfig();
function onConnection() {
  const live = feed.status === 'live';
  if (live && !wasLive) configured = configured.then(loadHistory);
  wasLive = live;
}
feed.addEventListener('connection', onConnection);
onConnection(); // live already, while the dictionary came

render();
