// Boot of the dispatcher view (/): the map, the hospital list, the 115
// incident queue (with the selected incident and its recommended
// destinations) and the ambulance list beside it, the hospital detail
// panel, the city totals, the status bar and the live region, all fed by
// one live feed (and door.js's inbound / handover figures).
//
// Feed events only record what changed; one requestAnimationFrame applies
// it all, so a burst of a hundred events a second costs one frame of DOM
// work, not a hundred (ambulance positions included: markers move once per
// frame). A one-second clock re-renders relative times, freshness and
// expiring ED statuses without waiting for an event.
//
// Selection is held here: the list, the map and the detail panel are told
// about it, never talk to each other. A hospital and an incident can be
// selected at once: the incident's destinations open hospitals beside it.

import { LiveFeed } from './live.js';
import { t, ready, setLang, otherLang, onStoredLangChange } from './i18n.js';
import { fetchConfig, whoAmI, DEFAULT_CONFIG } from './api.js';
import { StatusBar } from './views/status.js';
import { TotalsBar } from './views/totals.js';
import { HospitalList } from './views/list.js';
import { AmbulanceList } from './views/ambulances.js';
import { IncidentQueue } from './views/incidents.js';
import { IncidentPanel } from './views/incident_panel.js';
import { MciBoard } from './views/mci_panel.js';
import { DoorFigures } from './door.js';
import { MapView } from './views/map.js';
import { DetailPanel } from './views/detail.js';
import { Announcer } from './views/announcer.js';
import { AlertBar } from './views/alerts.js';
import * as fmt from './format.js';

window.__bpBootCount = (window.__bpBootCount || 0) + 1;

const CLOCK_MS = 1000;
const CONFIG_RETRY_MS = 15000;

function wsUrl() {
  return `${window.location.protocol === 'https:' ? 'wss:' : 'ws:'}//${window.location.host}/ws`;
}

// The live feed and the view configuration are asked for at once, while
// the dictionary of the page's language is on its way (the views read the
// feed's store when they first render, so nothing it says meanwhile is
// lost).
const feed = new LiveFeed({ url: wsUrl() });
feed.start();
let configAsked = fetchConfig();
await ready;

const fresh = () => ({
  full: false, lang: false, clock: false, alerts: false, hospitals: new Set(), ambulances: new Set(), incidents: new Set(), door: new Set(),
});
let pending = Object.assign(fresh(), { full: true, lang: true, clock: true, alerts: true });
let frameId = 0;
let clockFrames = 0; // shown as data-clock-frames: a test sees the page move on

function schedule() {
  if (!frameId) frameId = window.requestAnimationFrame(render);
}

function relang() {
  pending.lang = true;
  schedule();
}

const $ = (id) => document.getElementById(id);
const announcer = new Announcer($('announcer'), feed);
const status = new StatusBar({ header: $('topbar'), banner: $('stale-banner'), say: (m) => announcer.say(m) }, feed,
  () => setLang(otherLang()).then(relang));
onStoredLangChange(relang);
const totals = new TotalsBar($('totals'), feed);
const alerts = new AlertBar($('alerts'), feed, { say: (m, importance) => announcer.say(m, importance) });
const door = new DoorFigures(feed, {
  onChange: (ids) => {
    for (const id of ids) pending.door.add(id);
    schedule();
  },
});

let selected = null;
let selectedFrom = null; // the row to give focus back to on close

function select(id, { from, keyboard } = {}) {
  selected = id;
  list.setSelected(id);
  map.setSelected(id, { pan: from !== 'map' });
  detail.open(id);
  if (from === 'list') selectedFrom = id;
  if (keyboard) detail.title.focus();
  if (from !== 'incident') showTab('hospitals');
}

let incident = null;

function selectIncident(id, { from, keyboard } = {}) {
  mci.close(); // the incident panel takes the MCI panel's place
  incident = id;
  queue.setSelected(id);
  map.setIncidentSelected(id, { pan: from !== 'map' });
  incidentPanel.open(id);
  showTab('incidents');
  if (keyboard) incidentPanel.title.focus();
}

function closeIncident() {
  if (!incident) return;
  const back = incident;
  incident = null;
  queue.setSelected(null);
  map.setIncidentSelected(null);
  closePanel(incidentPanel, queue, back);
  mci.refreshWhere();
}

// The focus goes back to the row the panel came from when it was in the
// panel (or nowhere).
function closePanel(panel, table, back) {
  const hadFocus = panel.root.contains(document.activeElement);
  panel.close();
  if (hadFocus || document.activeElement === document.body) table.focusRow(back);
}

function closeDetail() {
  if (!selected) return;
  const back = selectedFrom || selected;
  selected = null;
  selectedFrom = null;
  list.setSelected(null);
  map.setSelected(null);
  closePanel(detail, list, back);
}

let pinAt = null;

function setPin(latlng) {
  pinAt = latlng;
  map.setPin(latlng);
  list.setPin(latlng);
  mci.refreshWhere();
}

// Where an MCI would be declared: the selected incident, else the pin.
function mciWhere() {
  const inc = incident && feed.incidents.get(incident);
  if (inc && typeof inc.lat === 'number') return { lat: inc.lat, lon: inc.lon, address: inc.address || '', from: 'incident' };
  return pinAt ? { lat: pinAt.lat, lon: pinAt.lng, address: '', from: 'pin' } : null;
}

const map = new MapView($('map'), feed, {
  onSelect: (id, o) => select(id, o),
  onHover: (id) => list.setHovered(id),
  onPin: (latlng) => setPin(latlng),
  onIncident: (id, o) => selectIncident(id, o),
  onMci: (id) => {
    showTab('incidents');
    mci.open(id);
    map.fitMci(id);
  },
  door,
});
const list = new HospitalList($('hospitals'), feed, {
  onSelect: (id, o) => select(id, o),
  onHover: (id) => map.setHovered(id),
  onVisible: (ids) => map.setVisible(ids),
  onClearPin: () => setPin(null),
});
const ambulances = new AmbulanceList($('ambulances'), feed);
const queue = new IncidentQueue($('incidents'), feed, { onSelect: (id, o) => selectIncident(id, o) });
const incidentPanel = new IncidentPanel(queue.panelSlot, feed, {
  onClose: closeIncident,
  onHospital: (id) => select(id, { from: 'incident' }),
  onDestinations: (list, { first } = {}) => map.setDestinations(list, { fit: first }),
});
const mci = new MciBoard($('incidents'), queue.panelSlot, feed, {
  where: mciWhere,
  onOpen: () => {
    closeIncident();
    showTab('incidents');
  },
  onMap: (open, shown) => map.setMcis(open, shown),
  me: () => (role && role.token_id) || null,
  say: (m) => announcer.say(m),
});
const detail = new DetailPanel($('detail'), feed, {
  onClose: closeDetail,
  onSelect: (id) => select(id, { from: 'detail' }),
  historyIntervalS: DEFAULT_CONFIG.history_interval_s,
  door,
});

// -- tabs: hospitals | incidents (dispatchers) | ambulances --------------------------

const tabs = { hospitals: $('tab-hospitals'), incidents: $('tab-incidents'), ambulances: $('tab-ambulances') };

function showTab(name) {
  for (const [k, b] of Object.entries(tabs)) {
    const on = k === name;
    b.setAttribute('aria-selected', String(on));
    b.tabIndex = on ? 0 : -1;
    $(k).hidden = !on;
  }
}

for (const [k, b] of Object.entries(tabs)) {
  b.addEventListener('click', () => showTab(k));
  b.addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowLeft' && ev.key !== 'ArrowRight') return;
    const shown = Object.keys(tabs).filter((x) => !tabs[x].hidden);
    const i = shown.indexOf(k) + (ev.key === 'ArrowRight' ? 1 : -1);
    const other = shown[(i + shown.length) % shown.length];
    showTab(other);
    tabs[other].focus();
  });
}

// a click on an ambulance row shows it on the map
$('ambulances').addEventListener('click', (ev) => {
  const tr = ev.target.closest('tr[data-id]');
  if (tr) map.panToAmbulance(tr.dataset.id);
});

document.addEventListener('keydown', (ev) => {
  if (ev.key !== 'Escape') return;
  if (selected) {
    ev.preventDefault();
    closeDetail();
  } else if (incident) {
    ev.preventDefault();
    closeIncident();
  } else if (mci.isOpen) {
    ev.preventDefault();
    mci.close();
  }
});

const skip = $('skip');

function renderTabs() {
  const count = (m) => fmt.int(m.size);
  tabs.hospitals.textContent = feed.hasState ? t('tabs.hospitals_n', { n: count(feed.hospitals) }) : t('hospitals.heading');
  tabs.ambulances.textContent = feed.hasState ? t('tabs.ambulances_n', { n: count(feed.ambulances) }) : t('amb.heading');
  tabs.incidents.textContent = t('tabs.incidents_n', { n: count(feed.incidents) });
  // only dispatchers and admins are sent incidents
  tabs.incidents.hidden = !feed.hasIncidents;
  if (!feed.hasIncidents && !$('incidents').hidden) showTab('hospitals');
  $('side-tabs').setAttribute('aria-label', t('tabs.label'));
}

function render() {
  frameId = 0;
  const frame = Object.assign({}, pending, { now: feed.serverNow() });
  pending = fresh();
  if (frame.full || frame.ambulances.size) for (const id of door.recount()) frame.door.add(id);
  if (frame.full && feed.hasIncidents) door.start();
  if (frame.lang) skip.textContent = t('app.skip');
  if (frame.lang || frame.full || frame.incidents.size) renderTabs();
  status.render(frame);
  list.render(frame);
  map.render(frame);
  detail.render(frame);
  ambulances.render(frame);
  queue.render(frame);
  incidentPanel.render(frame);
  mci.render(frame);
  // mass-casualty incidents for those who see incidents (dispatchers, admins)
  if (feed.hasIncidents) mci.start();
  totals.render(frame);
  alerts.render(frame);
  announcer.observe(frame);
  if (frame.clock) document.documentElement.dataset.clockFrames = String(++clockFrames);
  if (selected && frame.full) {
    // a snapshot may have rebuilt rows and markers: mark the selection again
    list.setSelected(selected);
    map.setSelected(selected);
  }
  if (incident && frame.full) {
    queue.setSelected(incident);
    map.setIncidentSelected(incident);
  }
}

feed.addEventListener('snapshot', () => {
  pending.full = true;
  schedule();
});
feed.addEventListener('changes', (e) => {
  for (const id of e.detail.hospitals) pending.hospitals.add(id);
  for (const id of e.detail.ambulances) pending.ambulances.add(id);
  for (const id of e.detail.incidents || []) pending.incidents.add(id);
  schedule();
});
feed.addEventListener('alerts', () => {
  pending.alerts = true;
  schedule();
});
feed.addEventListener('connection', schedule);

// Who this page is (may it acknowledge alerts?): asked once the feed is
// live, so a browser the server refuses gets no 401 noise; again after a
// reconnect until an answer came.
let role = null;
async function askRole() {
  if (feed.status !== 'live' || role) return;
  role = 'asking';
  const r = await whoAmI();
  role = r.ok && r.data ? r.data : null;
  alerts.setRole(role);
}
feed.addEventListener('connection', askRole);
askRole(); // live already, while the dictionary came
window.setInterval(() => {
  pending.clock = true;
  schedule();
}, CLOCK_MS);
window.addEventListener('online', () => feed.reconnectNow());

async function loadConfig() {
  const r = await (configAsked || fetchConfig());
  configAsked = null;
  if (!r.ok) {
    setTimeout(loadConfig, CONFIG_RETRY_MS);
    return;
  }
  map.setTiles(r.data.tile_url, r.data.tile_attribution);
  detail.setHistoryInterval(r.data.history_interval_s);
}

feed.start();
loadConfig();
render();
