// The dispatcher's map (Leaflet, loaded as a classic script from Debian's
// libjs-leaflet at /vendor/leaflet/: window.L).
//
// - Every hospital is a marker whose colour AND digit show its pressure
//   level, whose shape shows its ED status (circle normal, ringed advisory,
//   diamond diversion, square with a cross closed) and whose look shows a
//   late (dashed) or stale (faded, hatched, "!") report.
// - Every ambulance with a position is a small square with its FMS digit,
//   coloured by status group, and an arrow turned to its heading. Markers
//   are created once and moved (setLatLng) when positions arrive, in the
//   frame the app batches them into.
// - Every open 115 incident (dispatchers) is a dark mark with its priority
//   digit in a shape of its own and its category on a tag (incidents.js);
//   a click selects it. While one is selected, its recommended
//   destinations carry their rank on their hospital markers.
// - Every open mass-casualty incident (dispatchers; mci_panel.js polls
//   them) is a black "MCI" plate inside its dashed range circle; a click
//   opens it.
// - A hospital with ambulances transporting to it shows how many on a blue
//   badge (door.js counts them from the feed).
// - The 115 stations, the district names (placed at the middle of their
//   hospitals) and a scale give orientation when no tile server is set.
// - A click on the map sets the patient location pin (draggable); the list
//   sorts by distance from it.
//
// Marker contents are DOM nodes (never HTML strings): names and reasons
// come from feeds and stay text.

import { t, pick, lang } from '../i18n.js';
import * as fmt from '../format.js';
import { hospitalFigures, FMS, AMBULANCE_GROUPS, timeMs } from '../derive.js';
import { el, fill, text, attr } from '../dom.js';
import { incidentIcon, drawIncidentIcon, incidentTitle, incidentAges } from './incidents.js';
import { checkText } from '../check_text.js';

const HANOI = [21.028, 105.834];
const LABEL_ZOOM = 14; // hospital and call-sign labels from this zoom on
const AMB_OLD_MS = 15 * 60 * 1000; // an older position is drawn faded
const ED_BADGE = { diversion: '↪', closed: '✕' };
const LEGEND_KEY = 'bedpulse.legend';

export class MapView {
  constructor(container, feed, { onSelect, onHover, onPin, onIncident, onMci, door }) {
    this.container = container;
    this.onMci = onMci;
    this.mcis = new Map(); // id -> {marker, circle, node, sig}
    this.feed = feed;
    this.onSelect = onSelect;
    this.onIncident = onIncident;
    this.door = door;
    this.incidents = new Map();
    this.incidentSelected = null;
    this.ranks = new Map(); // hospital id -> rank for the selected incident
    this.onHover = onHover;
    this.onPin = onPin;
    this.hospitals = new Map();
    this.ambulances = new Map();
    this.stations = new Map();
    this.districts = new Map();
    this.selected = null;
    this.hovered = null;
    this.visible = null; // Set of ids the list shows, null = all
    this.pin = null;
    this.fitted = false;
    this.L = window.L;
    if (!this.L) {
      this.unavailable = el('p', { class: 'map-unavailable', role: 'status' });
      container.append(this.unavailable);
      return;
    }
    const L = this.L;
    this.map = L.map(container, {
      center: HANOI, zoom: 12, minZoom: 9, maxZoom: 18, zoomControl: false, attributionControl: false,
      zoomSnap: 0.5, keyboard: true, worldCopyJump: false,
    });
    this.scale = L.control.scale({ imperial: false, position: 'bottomleft', maxWidth: 160 }).addTo(this.map);
    this.zoomControl = null;
    // the legend starts open; a dispatcher who closes it keeps it closed
    let legendOpen = true;
    try {
      legendOpen = localStorage.getItem(LEGEND_KEY) !== 'closed';
    } catch (e) {
      /* storage disabled */
    }
    this.legendBox = el('details', { class: 'map-legend', id: 'map-legend', open: legendOpen });
    this.legendBox.addEventListener('toggle', () => {
      try {
        localStorage.setItem(LEGEND_KEY, this.legendBox.open ? 'open' : 'closed');
      } catch (e) {
        /* not remembered */
      }
    });
    const Legend = L.Control.extend({ onAdd: () => this.legendBox });
    this.legend = new Legend({ position: 'bottomright' }).addTo(this.map);
    L.DomEvent.disableClickPropagation(this.legendBox);
    L.DomEvent.disableScrollPropagation(this.legendBox);
    this.map.on('click', (e) => this.onPin(e.latlng));
    this.map.on('zoomend', () => this.zoomClass());
    this.zoomClass();
    // The view is observable: data-moving while a pan or zoom is under way,
    // data-zoom once it has ended (tests wait on these, not on time).
    this.map.on('movestart zoomstart', () => {
      container.dataset.moving = 'true';
    });
    this.map.on('moveend', () => {
      delete container.dataset.moving;
      container.dataset.zoom = String(this.map.getZoom());
    });
    container.dataset.zoom = String(this.map.getZoom());
    // For the browser tests: the view set and read by latitude and
    // longitude (pixels move while Leaflet animates).
    window.__bpMap = {
      setView: (lat, lon, zoom) => {
        this.map.setView([lat, lon], zoom, { animate: false });
      },
      point: (lat, lon) => {
        const p = this.map.latLngToContainerPoint([lat, lon]);
        return { x: p.x, y: p.y };
      },
      latLng: (x, y) => {
        const ll = this.map.containerPointToLatLng([x, y]);
        return { lat: ll.lat, lon: ll.lng };
      },
    };
    // a panel opening beside the map keeps the map's centre where it was,
    // and the selected hospital in view
    new ResizeObserver(() => {
      this.map.invalidateSize({ pan: true, animate: false });
      this.keepSelectedInView();
    }).observe(container);
  }

  // Adds the configured tile layer (none configured: the plain background).
  setTiles(url, attribution) {
    if (!this.map || !url || this.tiles) return;
    this.tiles = this.L.tileLayer(url, { attribution: attribution || '', maxZoom: 19 }).addTo(this.map);
    this.L.control.attribution({ position: 'bottomright' }).addTo(this.map);
    this.container.classList.add('has-tiles');
  }

  zoomClass() {
    this.container.classList.toggle('zoom-labels', this.map.getZoom() >= LABEL_ZOOM);
  }

  // frame: {full, lang, clock, hospitals, ambulances, incidents, door: Sets of ids, now}
  render(frame) {
    if (!this.map) {
      if (frame.lang) this.unavailable.textContent = t('map.unavailable');
      return;
    }
    if (frame.lang) this.renderChrome();
    const feed = this.feed;
    if (!feed.hasState) return;
    if (frame.full) this.sync();
    const all = frame.full || frame.lang || frame.clock;
    const cfg = feed.meta && feed.meta.pressure;
    for (const [id, rec] of this.hospitals) {
      if (!all && !frame.hospitals.has(id) && !frame.door.has(id)) continue;
      const h = feed.hospitals.get(id);
      if (h) this.drawHospital(rec, h, cfg, frame.now);
    }
    // a snapshot may hold ambulances that have no marker yet (the page
    // loaded after they last moved): draw every one of them then; a clock
    // or language frame redraws every marker, and the ones that moved in
    // it may be new (their first position)
    const ambIds = frame.full ? [...feed.ambulances.keys()]
      : all ? new Set([...this.ambulances.keys(), ...frame.ambulances]) : frame.ambulances;
    for (const id of ambIds) {
      const a = feed.ambulances.get(id);
      if (a) this.drawAmbulance(id, a, frame.now);
    }
    if (all || frame.ambulances.size) this.drawStations();
    this.drawIncidents(frame, all);
    if (frame.full && !this.fitted) this.fit();
  }

  renderChrome() {
    const L = this.L;
    attr(this.container, 'aria-label', t('map.label'));
    if (this.zoomControl) this.zoomControl.remove();
    if (this.fitControl) this.fitControl.remove();
    this.zoomControl = L.control.zoom({
      position: 'topleft', zoomInTitle: t('map.zoom_in'), zoomOutTitle: t('map.zoom_out'),
    }).addTo(this.map);
    // back to the whole city (after panning to a hospital far out)
    const fit = el('button', { type: 'button', id: 'map-fit', class: 'map-fit', title: t('map.fit_title') }, t('map.fit'));
    fit.addEventListener('click', () => this.fit());
    const bar = el('div', { class: 'leaflet-bar map-fit-bar' }, fit);
    L.DomEvent.disableClickPropagation(bar);
    const Fit = L.Control.extend({ onAdd: () => bar });
    this.fitControl = new Fit({ position: 'topleft' }).addTo(this.map);
    this.drawLegend();
    for (const d of this.districts.values()) text(d.span, d.name ? pick(d.name) : '');
    if (this.pin) attr(this.pin.el, 'title', t('pin.title'));
  }

  drawLegend() {
    const item = (icon, label) => el('li', null, icon, el('span', null, label));
    const hm = (cls, num, badge) => el('span', { class: `hm hm-mini ${cls}`, 'aria-hidden': 'true' },
      el('span', { class: 'hm-body' }, el('span', { class: 'hm-num' }, num)),
      badge ? el('span', { class: 'hm-badge' }, badge) : null);
    const am = (group, n) => el('span', { class: 'am am-mini', dataset: { group }, 'aria-hidden': 'true' },
      el('span', { class: 'am-body' }, n));
    fill(this.legendBox,
      el('summary', null, t('legend.title')),
      el('div', { class: 'legend-cols' },
        el('ul', null,
          el('li', { class: 'legend-head' }, t('legend.hospitals')),
          item(el('span', { class: 'legend-levels', 'aria-hidden': 'true' },
            [1, 2, 3, 4].map((n) => hm(`hm-l${n}`, String(n)))), t('legend.levels')),
          item(hm('hm-l2 hm-ed-advisory', '2'), t('ed.advisory')),
          item(hm('hm-l3 hm-ed-diversion', '3', ED_BADGE.diversion), t('ed.diversion')),
          item(hm('hm-l4 hm-ed-closed', '4', ED_BADGE.closed), t('ed.closed')),
          item(hm('hm-l2 hm-f-late', '2'), t('fresh.late')),
          item(hm('hm-l2 hm-f-stale', '2', '!'), t('fresh.stale')),
          item(hm('hm-l0 hm-f-never', '–'), t('fresh.never')),
          item(el('span', { class: 'hm hm-mini hm-l3 hm-fac-compromised', 'aria-hidden': 'true' },
            el('span', { class: 'hm-body' }, el('span', { class: 'hm-num' }, '3')),
            el('span', { class: 'hm-badge hm-badge-fac' }, '⚠')), t('legend.facility'))),
        el('ul', null,
          el('li', { class: 'legend-head' }, t('legend.incidents')),
          ...[1, 2, 3].map((p) => item(this.legendIncident({ priority: p, category: 'stroke', unit: 'x' }), t(`legend.inc_p${p}`))),
          item(this.legendIncident({ priority: 2, category: 'trauma' }), t('legend.inc_no_unit')),
          item(el('span', { class: 'hm hm-mini hm-l1', 'aria-hidden': 'true' },
            el('span', { class: 'hm-body' }, el('span', { class: 'hm-num' }, '1')),
            el('span', { class: 'hm-badge hm-badge-in' }, '2')), t('legend.inbound'))),
        el('ul', null,
          el('li', { class: 'legend-head' }, t('legend.ambulances')),
          item(am('free', '2'), t('legend.amb_free')),
          item(am('mission', '3'), t('legend.amb_mission')),
          item(am('patient', '7'), t('legend.amb_patient')),
          item(am('out', '6'), t('legend.amb_out')),
          item(el('span', { class: 'am am-mini is-old', dataset: { group: 'free' }, 'aria-hidden': 'true' },
            el('span', { class: 'am-body' }, '2')), t('legend.amb_old')),
          item(el('span', { class: 'st st-mini', 'aria-hidden': 'true' }, '115'), t('legend.station')),
          item(el('span', { class: 'pin pin-mini', 'aria-hidden': 'true' }), t('legend.pin')),
          item(el('span', { class: 'mci-mark mci-mark-mini', 'aria-hidden': 'true' }, 'MCI'), t('legend.mci')))));
  }

  legendIncident(inc) {
    const icon = incidentIcon();
    drawIncidentIcon(icon, inc, 'im-mini');
    return icon.root;
  }

  // Creates markers for what the state has and drops the rest (snapshot).
  sync() {
    const L = this.L;
    const feed = this.feed;
    for (const [id, h] of feed.hospitals) {
      if (this.hospitals.has(id) || typeof h.lat !== 'number' || typeof h.lon !== 'number') continue;
      const rec = this.hospitalMarker(id, h);
      this.hospitals.set(id, rec);
    }
    for (const [id, rec] of this.hospitals) {
      if (!feed.hospitals.has(id)) {
        rec.marker.remove();
        this.hospitals.delete(id);
      }
    }
    for (const [id, rec] of this.ambulances) {
      if (!feed.ambulances.has(id)) {
        rec.marker.remove();
        this.ambulances.delete(id);
      }
    }
    const stations = (feed.meta && feed.meta.stations) || [];
    for (const s of stations) {
      if (this.stations.has(s.id) || typeof s.lat !== 'number') continue;
      const count = el('span', { class: 'st-count' });
      const node = el('div', { class: 'st', dataset: { id: s.id } }, el('span', { class: 'st-body' }, '115'), count);
      const marker = L.marker([s.lat, s.lon], {
        icon: L.divIcon({ html: node, className: 'st-icon', iconSize: [30, 18], iconAnchor: [15, 9] }),
        keyboard: false, interactive: true, zIndexOffset: -500,
      }).addTo(this.map);
      this.stations.set(s.id, { marker, node, count, station: s, sig: '' });
    }
    this.placeDistricts();
  }

  // District names at the middle of their hospitals and stations.
  placeDistricts() {
    const L = this.L;
    const names = (this.feed.meta && this.feed.meta.districts) || {};
    const sums = new Map();
    const add = (d, lat, lon) => {
      if (!d || typeof lat !== 'number' || typeof lon !== 'number') return;
      const s = sums.get(d) || { lat: 0, lon: 0, n: 0 };
      s.lat += lat;
      s.lon += lon;
      s.n++;
      sums.set(d, s);
    };
    for (const h of this.feed.hospitals.values()) add(h.district, h.lat, h.lon);
    for (const s of (this.feed.meta && this.feed.meta.stations) || []) add(s.district, s.lat, s.lon);
    for (const [d, s] of sums) {
      if (this.districts.has(d)) continue;
      const span = el('span', null, names[d] ? pick(names[d]) : '');
      const marker = L.marker([s.lat / s.n, s.lon / s.n], {
        icon: L.divIcon({ html: span, className: 'district-label', iconSize: null }),
        interactive: false, keyboard: false, zIndexOffset: -1000,
      }).addTo(this.map);
      this.districts.set(d, { marker, span, name: names[d] });
    }
  }

  fit() {
    const pts = [];
    for (const h of this.feed.hospitals.values()) if (typeof h.lat === 'number') pts.push([h.lat, h.lon]);
    if (pts.length < 2) return;
    this.fitted = true;
    this.map.fitBounds(this.L.latLngBounds(pts), { padding: [24, 24], maxZoom: 14 });
  }

  hospitalMarker(id, h) {
    const L = this.L;
    const num = el('span', { class: 'hm-num' });
    const body = el('span', { class: 'hm-body' }, num);
    const edBadge = el('span', { class: 'hm-badge hm-badge-ed', hidden: true });
    const freshBadge = el('span', { class: 'hm-badge hm-badge-fresh', hidden: true }, '!');
    const inBadge = el('span', { class: 'hm-badge hm-badge-in', hidden: true });
    const facBadge = el('span', { class: 'hm-badge hm-badge-fac', hidden: true }, '⚠');
    const chkBadge = el('span', { class: 'hm-badge hm-badge-check', hidden: true }, '?');
    const rankBadge = el('span', { class: 'hm-rank', hidden: true });
    const label = el('span', { class: 'hm-label' });
    const node = el('div', { class: 'hm', dataset: { id } }, body, edBadge, freshBadge, inBadge, facBadge, chkBadge, rankBadge, label);
    const marker = L.marker([h.lat, h.lon], {
      icon: L.divIcon({ html: node, className: 'hm-icon', iconSize: [30, 30], iconAnchor: [15, 15] }),
      keyboard: false, riseOnHover: true,
    }).addTo(this.map);
    marker.on('click', () => this.onSelect(id, { from: 'map' }));
    marker.on('mouseover', () => this.onHover(id));
    marker.on('mouseout', () => this.onHover(null));
    return { id, marker, node, num, body, edBadge, freshBadge, inBadge, facBadge, chkBadge, rankBadge, label, sig: '' };
  }

  drawHospital(rec, h, cfg, now) {
    const f = hospitalFigures(h, cfg, now);
    const name = pick(h.name) || h.id;
    const at = timeMs(h.at);
    const agoText = at ? fmt.ago(at, now) : '';
    const door = this.door.get(rec.id);
    const rank = this.ranks.get(rec.id) || 0;
    const sig = [f.level, f.ed, f.freshness, name, agoText, lang(), h.ed && h.ed.reason,
      door.inbound, door.waiting, door.delayed, rank, f.facility, h.facility && h.facility.reason,
      checkText(h.check)].join('|');
    if (rec.sig === sig) return;
    rec.sig = sig;
    const n = rec.node;
    n.dataset.level = String(f.level);
    n.dataset.ed = f.ed;
    n.dataset.fresh = f.freshness;
    n.dataset.facility = f.facility;
    n.dataset.check = h.check ? h.check.rule : '';
    n.className = `hm hm-l${f.freshness === 'never' ? 0 : f.level} hm-ed-${f.ed} hm-f-${f.freshness} hm-fac-${f.facility}`
      + (this.selected === rec.id ? ' is-selected' : '') + (this.hovered === rec.id ? ' is-hover' : '')
      + (this.visible && !this.visible.has(rec.id) ? ' is-out' : '');
    text(rec.num, f.freshness === 'never' ? '–' : String(f.level));
    const badge = ED_BADGE[f.ed] || '';
    text(rec.edBadge, badge);
    rec.edBadge.hidden = !badge;
    rec.freshBadge.hidden = f.freshness !== 'stale';
    rec.facBadge.hidden = f.facility === 'normal';
    rec.chkBadge.hidden = !h.check;
    text(rec.inBadge, door.inbound ? String(door.inbound) : '');
    rec.inBadge.hidden = !door.inbound;
    n.dataset.inbound = String(door.inbound);
    text(rec.rankBadge, rank ? String(rank) : '');
    rec.rankBadge.hidden = !rank;
    n.classList.toggle('has-rank', !!rank);
    text(rec.label, name);
    const parts = [name];
    if (f.freshness === 'never') {
      parts.push(t('fresh.never'));
    } else {
      parts.push(t('level.title', { n: f.level, label: t(`level.${f.level}`) }));
      const reason = f.ed === (h.ed && h.ed.status) && h.ed.reason ? ` (${h.ed.reason})` : '';
      parts.push(`${t('col.ed')}: ${t(`ed.${f.ed}`)}${f.ed === 'normal' ? '' : reason}`);
      parts.push(`${t('detail.updated')}: ${agoText}${f.freshness === 'fresh' ? '' : ` — ${t(`fresh.${f.freshness}`)}`}`);
    }
    if (f.facility !== 'normal') {
      const why = h.facility.reason ? ` (${h.facility.reason})` : '';
      parts.push(`${t('fac.label')}: ${t(`fac.${f.facility}`)}${why}`);
    }
    if (h.check) parts.push(`${t('check.label')}: ${checkText(h.check)}`);
    if (door.inbound) parts.push(t('door.inbound_title', { n: fmt.int(door.inbound) }));
    if (door.waiting) parts.push(t('door.waiting_title', { n: fmt.int(door.waiting) }));
    if (door.delayed) parts.push(t('door.offload_delayed'));
    if (rank) parts.push(`${t('inc.dest_heading')}: ${t('inc.rank_title', { n: rank })}`);
    attr(n, 'title', parts.join('\n'));
    // the worse the pressure, the higher the marker
    rec.marker.setZIndexOffset(this.selected === rec.id ? 2000 : f.level * 10);
  }

  drawAmbulance(id, a, now) {
    const L = this.L;
    let rec = this.ambulances.get(id);
    const hasPos = typeof a.lat === 'number' && typeof a.lon === 'number';
    if (!rec) {
      if (!hasPos) return;
      const arrow = el('span', { class: 'am-arrow' });
      const body = el('span', { class: 'am-body' });
      const label = el('span', { class: 'am-label' }, id);
      const node = el('div', { class: 'am', dataset: { id } }, arrow, body, label);
      const marker = L.marker([a.lat, a.lon], {
        icon: L.divIcon({ html: node, className: 'am-icon', iconSize: [22, 22], iconAnchor: [11, 11] }),
        keyboard: false, zIndexOffset: 500,
      }).addTo(this.map);
      marker.on('mouseover', () => node.classList.add('is-hover'));
      marker.on('mouseout', () => node.classList.remove('is-hover'));
      rec = { marker, node, arrow, body, lat: a.lat, lon: a.lon, sig: '' };
      this.ambulances.set(id, rec);
    }
    if (!hasPos) {
      rec.marker.remove();
      this.ambulances.delete(id);
      return;
    }
    if (rec.lat !== a.lat || rec.lon !== a.lon) {
      rec.lat = a.lat;
      rec.lon = a.lon;
      rec.marker.setLatLng([a.lat, a.lon]);
    }
    const status = a.status || 'available_station';
    const fms = typeof a.fms === 'number' ? a.fms : FMS[status];
    const heading = typeof a.heading === 'number' ? a.heading : null;
    const at = timeMs(a.at);
    const old = !at || now - at > AMB_OLD_MS;
    const dh = a.destination ? this.feed.hospitals.get(a.destination) : null;
    const dest = a.destination ? (dh ? pick(dh.name) : a.destination) : '';
    const agoText = at ? fmt.ago(at, now) : t('time.never');
    const sig = [status, fms, heading, old, dest, agoText, lang(), a.speed].join('|');
    if (rec.sig === sig) return;
    rec.sig = sig;
    const n = rec.node;
    n.dataset.status = status;
    n.dataset.group = AMBULANCE_GROUPS[status] || 'out';
    n.classList.toggle('is-old', old);
    text(rec.body, String(fms));
    rec.arrow.hidden = heading === null;
    if (heading !== null) rec.arrow.style.transform = `rotate(${heading}deg)`;
    const lines = [`${id} — ${t(`amb.status.${status}`)} (${t('amb.fms_title', { n: fms })})`];
    if (dest) lines.push(`${t('amb.col.destination')}: ${dest}`);
    if (typeof a.speed === 'number' && a.speed > 0) lines.push(t('amb.speed', { n: fmt.int(a.speed) }));
    lines.push(`${t('amb.position')}: ${agoText}${old ? ` — ${t('amb.position_old')}` : ''}`);
    attr(n, 'title', lines.join('\n'));
  }

  // Incident markers: created on create, redrawn on change and every clock
  // frame (how long open), removed on close.
  drawIncidents(frame, all) {
    const feed = this.feed;
    for (const [id, rec] of this.incidents) {
      if (feed.incidents.has(id)) continue;
      rec.marker.remove();
      this.incidents.delete(id);
    }
    const ids = all ? feed.incidents.keys() : frame.incidents;
    for (const id of ids) {
      const inc = feed.incidents.get(id);
      if (inc) this.drawIncident(id, inc, frame.now);
    }
  }

  drawIncident(id, inc, now) {
    const L = this.L;
    let rec = this.incidents.get(id);
    const hasPos = typeof inc.lat === 'number' && typeof inc.lon === 'number';
    if (!rec) {
      if (!hasPos) return;
      const icon = incidentIcon();
      const label = el('span', { class: 'im-label' }, id);
      const node = el('div', { class: 'im-marker', dataset: { id } }, icon.root, label);
      const marker = L.marker([inc.lat, inc.lon], {
        icon: L.divIcon({ html: node, className: 'im-icon', iconSize: [30, 30], iconAnchor: [15, 15] }),
        keyboard: false, riseOnHover: true, zIndexOffset: 1000,
      }).addTo(this.map);
      marker.on('click', () => this.onIncident(id, { from: 'map' }));
      rec = { id, marker, node, icon, lat: inc.lat, lon: inc.lon, sig: '' };
      this.incidents.set(id, rec);
    }
    if (!hasPos) return;
    if (rec.lat !== inc.lat || rec.lon !== inc.lon) {
      rec.lat = inc.lat;
      rec.lon = inc.lon;
      rec.marker.setLatLng([inc.lat, inc.lon]);
    }
    const { open } = incidentAges(inc, now);
    const sig = [inc.version, inc.priority, inc.category, inc.unit, inc.address, open, lang(), this.incidentSelected === id].join('|');
    if (rec.sig === sig) return;
    rec.sig = sig;
    drawIncidentIcon(rec.icon, inc);
    rec.node.dataset.priority = String(inc.priority);
    rec.node.classList.toggle('is-selected', this.incidentSelected === id);
    const lines = [`${incidentTitle(inc)} — ${id}`];
    if (inc.address) lines.push(inc.address);
    lines.push(`${t('inc.col.open')}: ${open}`);
    lines.push(inc.unit ? `${t('inc.unit')}: ${inc.unit}` : `${t('inc.no_unit')} · ${t('inc.waiting_unit', { dur: open })}`);
    attr(rec.node, 'title', lines.join('\n'));
  }

  setIncidentSelected(id, { pan = false } = {}) {
    const prev = this.incidents.get(this.incidentSelected);
    if (prev) {
      prev.node.classList.remove('is-selected');
      prev.marker.setZIndexOffset(1000);
      prev.sig = '';
    }
    this.incidentSelected = id;
    const rec = this.incidents.get(id);
    if (!rec) return;
    rec.node.classList.add('is-selected');
    rec.marker.setZIndexOffset(3000);
    if (pan && this.map && !this.map.getBounds().pad(-0.1).contains(rec.marker.getLatLng())) this.map.panTo(rec.marker.getLatLng());
  }

  // The selected incident's ranked destinations ([{hospital, rank}]), shown
  // on their hospital markers; with fit, the map shows the incident and its
  // first three.
  setDestinations(list, { fit = false } = {}) {
    const before = this.ranks;
    this.ranks = new Map(list.map((c) => [c.hospital, c.rank]));
    if (!this.map) return;
    const cfg = this.feed.meta && this.feed.meta.pressure;
    const now = this.feed.serverNow();
    for (const id of new Set([...before.keys(), ...this.ranks.keys()])) {
      const rec = this.hospitals.get(id);
      const h = this.feed.hospitals.get(id);
      if (rec && h && before.get(id) !== this.ranks.get(id)) this.drawHospital(rec, h, cfg, now);
    }
    const inc = this.incidents.get(this.incidentSelected);
    if (!fit || !inc) return;
    const pts = [inc.marker.getLatLng()];
    for (const c of list.slice(0, 3)) {
      const rec = this.hospitals.get(c.hospital);
      if (rec) pts.push(rec.marker.getLatLng());
    }
    this.map.fitBounds(this.L.latLngBounds(pts), { padding: [60, 60], maxZoom: 13 });
  }

  // The open mass-casualty incidents ([{id, lat, lon, radius_km, address,
  // asked, answered}]) as marks in their range circles; shownId's is
  // marked selected.
  setMcis(list, shownId) {
    if (!this.map) return;
    const L = this.L;
    const ids = new Set(list.map((m) => m.id));
    for (const [id, rec] of this.mcis) {
      if (ids.has(id)) continue;
      rec.marker.remove();
      rec.circle.remove();
      this.mcis.delete(id);
    }
    for (const m of list) {
      if (typeof m.lat !== 'number' || typeof m.lon !== 'number') continue;
      let rec = this.mcis.get(m.id);
      if (!rec) {
        const node = el('div', { class: 'mci-mark mci-mark-map', dataset: { id: m.id } }, 'MCI');
        const circle = L.circle([m.lat, m.lon], {
          radius: m.radius_km * 1000, className: 'mci-circle', interactive: false, weight: 2, dashArray: '6 6',
        }).addTo(this.map);
        const marker = L.marker([m.lat, m.lon], {
          icon: L.divIcon({ html: node, className: 'mci-icon', iconSize: [44, 24], iconAnchor: [22, 12] }),
          keyboard: false, zIndexOffset: 4000,
        }).addTo(this.map);
        marker.on('click', () => this.onMci(m.id));
        rec = { marker, circle, node, sig: '' };
        this.mcis.set(m.id, rec);
      }
      const sig = [m.address, m.answered, m.asked, shownId === m.id, lang()].join('|');
      if (rec.sig === sig) continue;
      rec.sig = sig;
      rec.node.classList.toggle('is-selected', shownId === m.id);
      attr(rec.node, 'title', `${t('mci.title', { address: m.address || m.id })}\n${t('mci.list_facts', { answered: fmt.int(m.answered), asked: fmt.int(m.asked) })}`);
    }
  }

  // Shows an MCI and its range.
  fitMci(id) {
    const rec = this.mcis.get(id);
    if (rec && this.map) this.map.fitBounds(rec.circle.getBounds(), { padding: [30, 30], maxZoom: 14 });
  }

  // Station markers: how many of its units have no position yet (they are
  // not drawn, and are not placed anywhere they might not be).
  drawStations() {
    const counts = new Map();
    for (const a of this.feed.ambulances.values()) {
      if (typeof a.lat === 'number' && typeof a.lon === 'number') continue;
      counts.set(a.station, (counts.get(a.station) || 0) + 1);
    }
    for (const [id, s] of this.stations) {
      const n = counts.get(id) || 0;
      const sig = `${n}|${lang()}`;
      if (s.sig === sig) continue;
      s.sig = sig;
      text(s.count, n ? String(n) : '');
      s.count.hidden = n === 0;
      attr(s.node, 'title', `${pick(s.station.name)}\n${t('map.station_units', { n: fmt.int(n) })}`);
    }
  }

  // -- selection, hover, filter, pin -------------------------------------------

  setSelected(id, { pan = false } = {}) {
    const prev = this.hospitals.get(this.selected);
    if (prev) {
      prev.node.classList.remove('is-selected');
      prev.marker.setZIndexOffset(Number(prev.node.dataset.level || 1) * 10);
    }
    this.selected = id;
    const rec = this.hospitals.get(id);
    if (!rec) return;
    rec.node.classList.add('is-selected');
    rec.marker.setZIndexOffset(2000);
    if (pan) this.keepSelectedInView();
  }

  // The selected hospital in view, and with it the selected incident when
  // the hospital is one of its destinations (zooming out if need be).
  keepSelectedInView() {
    const rec = this.hospitals.get(this.selected);
    if (!rec || !this.map) return;
    const pts = [rec.marker.getLatLng()];
    const inc = this.incidents.get(this.incidentSelected);
    if (inc && this.ranks.has(this.selected)) pts.push(inc.marker.getLatLng());
    const view = this.map.getBounds().pad(-0.1);
    if (pts.every((p) => view.contains(p))) return;
    if (pts.length === 1) this.map.panTo(pts[0]);
    else this.map.fitBounds(this.L.latLngBounds(pts), { padding: [60, 60], maxZoom: this.map.getZoom() });
  }

  setHovered(id) {
    const prev = this.hospitals.get(this.hovered);
    if (prev) prev.node.classList.remove('is-hover');
    this.hovered = id;
    const rec = this.hospitals.get(id);
    if (rec) rec.node.classList.add('is-hover');
  }

  // ids shown by the list (null: all); the others are dimmed.
  setVisible(ids) {
    this.visible = ids;
    for (const [id, rec] of this.hospitals) rec.node.classList.toggle('is-out', !!ids && !ids.has(id));
  }

  // Moves (or with null removes) the patient location pin.
  setPin(latlng) {
    if (!this.map) return;
    const L = this.L;
    if (!latlng) {
      if (this.pin) this.pin.marker.remove();
      this.pin = null;
      return;
    }
    if (!this.pin) {
      const node = el('div', { class: 'pin', id: 'patient-pin', title: t('pin.title') });
      const marker = L.marker(latlng, {
        icon: L.divIcon({ html: node, className: 'pin-icon', iconSize: [26, 34], iconAnchor: [13, 34] }),
        draggable: true, keyboard: false, zIndexOffset: 3000,
      }).addTo(this.map);
      marker.on('dragend', () => this.onPin(marker.getLatLng()));
      this.pin = { marker, el: node };
    } else {
      this.pin.marker.setLatLng(latlng);
    }
  }

  panToAmbulance(id) {
    const rec = this.ambulances.get(id);
    if (!rec || !this.map) return;
    this.map.panTo(rec.marker.getLatLng());
    rec.node.classList.add('is-hover');
    setTimeout(() => rec.node.classList.remove('is-hover'), 1500);
  }
}
