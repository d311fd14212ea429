// Boot: wires the live feed to the views and renders in animation frames.
//
// Feed events only record what changed; one requestAnimationFrame applies
// it all, so a burst of a hundred events a second costs one frame of DOM
// work, not a hundred. A one-second clock re-renders relative times,
// freshness and expiring ED statuses without waiting for an event.

import { LiveFeed } from './live.js';
import { t, setLang, otherLang } from './i18n.js';
import { StatusBar } from './views/status.js';
import { TotalsBar } from './views/totals.js';
import { HospitalTable } from './views/table.js';
import { AmbulanceList } from './views/ambulances.js';

window.__bpBootCount = (window.__bpBootCount || 0) + 1;

const CLOCK_MS = 1000;

function wsUrl() {
  return `${window.location.protocol === 'https:' ? 'wss:' : 'ws:'}//${window.location.host}/ws`;
}

const feed = new LiveFeed({ url: wsUrl() });

let pending = { full: true, lang: true, clock: true, hospitals: new Set(), ambulances: new Set() };
let frameId = 0;

function schedule() {
  if (!frameId) frameId = window.requestAnimationFrame(render);
}

const status = new StatusBar({
  header: document.getElementById('topbar'),
  banner: document.getElementById('stale-banner'),
  announcer: document.getElementById('announcer'),
}, feed, () => {
  setLang(otherLang());
  pending.lang = true;
  schedule();
});
const totals = new TotalsBar(document.getElementById('totals'), feed);
const table = new HospitalTable(document.getElementById('hospitals'), feed);
const ambulances = new AmbulanceList(document.getElementById('ambulances'), feed);
const skip = document.getElementById('skip');

function render() {
  frameId = 0;
  const frame = Object.assign({}, pending, { now: feed.serverNow() });
  pending = { full: false, lang: false, clock: false, hospitals: new Set(), ambulances: new Set() };
  if (frame.lang) skip.textContent = t('app.skip');
  status.render(frame);
  table.render(frame);
  ambulances.render(frame);
  totals.render(frame);
}

feed.addEventListener('snapshot', () => {
  pending.full = true;
  schedule();
});
feed.addEventListener('changes', (e) => {
  for (const id of e.detail.hospitals) pending.hospitals.add(id);
  for (const id of e.detail.ambulances) pending.ambulances.add(id);
  schedule();
});
feed.addEventListener('connection', schedule);
window.setInterval(() => {
  pending.clock = true;
  schedule();
}, CLOCK_MS);
window.addEventListener('online', () => feed.reconnectNow());

feed.start();
render();
