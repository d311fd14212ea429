// The 115 ambulance list, grouped by station (one tbody per station, in the
// fleet's order): call sign, status with its FMS digit, destination
// hospital and last update. Patched row by row like the hospital table.

import { t, pick, lang } from '../i18n.js';
import * as fmt from '../format.js';
import { FMS, timeMs } from '../derive.js';
import { el, fill, attr, flash, text, endFlashes } from '../dom.js';

const AVAILABLE = new Set(['available_station', 'available_radio']);

export class AmbulanceList {
  constructor(root, feed) {
    this.root = root;
    this.feed = feed;
    this.rows = new Map();
    this.groups = new Map(); // station id -> {tbody, header}
    this.build();
  }

  build() {
    this.heading = el('h2', { id: 'ambulances-heading', class: 'panel-title' });
    this.summary = el('span', { class: 'panel-count', id: 'ambulances-summary' });
    this.caption = el('caption', { class: 'sr-only' });
    this.thead = el('thead');
    this.table = el('table', { id: 'ambulances-table', class: 'grid ambulances' }, this.caption, this.thead);
    endFlashes(this.table);
    this.message = el('p', { class: 'table-message', role: 'status' });
    this.scroller = el('div', {
      class: 'scroller', tabindex: '0', role: 'region', 'aria-labelledby': 'ambulances-heading',
    }, this.table, this.message);
    fill(this.root, el('div', { class: 'panel-head' },
      el('div', { class: 'panel-heading' }, this.heading, this.summary)), this.scroller);
  }

  render(frame) {
    const feed = this.feed;
    if (frame.lang) {
      this.heading.textContent = t('amb.heading');
      this.caption.textContent = t('amb.caption');
      fill(this.thead, el('tr', null,
        el('th', { scope: 'col', class: 'a-id' }, t('amb.col.id')),
        el('th', { scope: 'col', class: 'a-status' }, t('amb.col.status')),
        el('th', { scope: 'col', class: 'a-updated' }, t('amb.col.updated'))));
    }
    if (!feed.hasState) {
      this.message.textContent = t('hospitals.loading');
      this.message.hidden = false;
      return;
    }
    this.message.hidden = true;
    const rebuild = frame.full;
    if (rebuild) this.rebuildGroups();
    const everything = rebuild || frame.lang || frame.clock;
    for (const [id, a] of feed.ambulances) {
      let rec = this.rows.get(id);
      if (!rec) rec = this.createRow(id, a);
      const changed = frame.ambulances.has(id);
      if (!everything && !changed) continue;
      this.updateRow(rec, a, frame.now);
      // a hidden tab runs no animation: its rows would keep the class and flash when shown
      if (changed && !rebuild && !this.root.hidden) flash(rec.tr);
    }
    if (everything || frame.ambulances.size) this.renderCounts();
  }

  stationName(id) {
    const st = this.feed.meta && this.feed.meta.stations ? this.feed.meta.stations.find((s) => s.id === id) : null;
    return st ? pick(st.name) : t('amb.unknown_station');
  }

  rebuildGroups() {
    for (const g of this.groups.values()) g.tbody.remove();
    this.groups.clear();
    this.rows.clear();
    const stations = (this.feed.meta && this.feed.meta.stations) || [];
    for (const s of stations) this.group(s.id);
  }

  group(stationId) {
    const key = stationId || '';
    let g = this.groups.get(key);
    if (!g) {
      const name = el('span', { class: 'group-name' });
      const count = el('span', { class: 'group-count' });
      const header = el('th', { scope: 'rowgroup', colspan: 3 }, name, count);
      const tbody = el('tbody', { dataset: { station: key } }, el('tr', { class: 'group' }, header));
      g = { tbody, name, count, station: key, units: 0 };
      this.groups.set(key, g);
      this.table.append(tbody);
    }
    return g;
  }

  createRow(id, a) {
    const g = this.group(a.station);
    const cells = {
      id: el('th', { scope: 'row', class: 'a-id' }, id),
      status: el('span', { class: 'a-status-main' }),
      dest: el('span', { class: 'a-dest' }),
      updated: el('td', { class: 'a-updated' }),
    };
    // the destination sits under the status: it belongs to it (transporting to, at)
    const statusCell = el('td', { class: 'a-status' }, cells.status, cells.dest);
    const tr = el('tr', { dataset: { id } }, cells.id, statusCell, cells.updated);
    g.tbody.append(tr);
    g.units++;
    const rec = { id, tr, cells, sig: {} };
    this.rows.set(id, rec);
    return rec;
  }

  updateRow(rec, a, now) {
    const L = lang();
    const c = rec.cells;
    const status = a.status || 'available_station';
    const fms = typeof a.fms === 'number' ? a.fms : FMS[status];
    const sigStatus = `${status}|${fms}|${L}`;
    if (rec.sig.status !== sigStatus) {
      rec.sig.status = sigStatus;
      rec.tr.dataset.status = status;
      fill(c.status,
        el('span', { class: `fms fms-${fms}`, title: t('amb.fms_title', { n: fms }) }, String(fms)),
        el('span', { class: 'a-status-text' }, t(`amb.status.${status}`)));
    }
    const dh = a.destination ? this.feed.hospitals.get(a.destination) : null;
    const dest = a.destination ? (dh ? pick(dh.name) || a.destination : a.destination) : '';
    const sigDest = `${dest}|${L}`;
    if (rec.sig.dest !== sigDest) {
      rec.sig.dest = sigDest;
      if (dest) fill(c.dest, el('span', { class: 'sr-only' }, `${t('amb.col.destination')}: `), el('span', { 'aria-hidden': 'true' }, '→ '), dest);
      else c.dest.replaceChildren();
      c.dest.hidden = !dest;
      attr(c.dest, 'title', dest || null);
    }
    const at = timeMs(a.at);
    const agoText = at ? fmt.ago(at, now) : t('time.never');
    const sigUpd = `${agoText}|${at}|${L}`;
    if (rec.sig.updated !== sigUpd) {
      rec.sig.updated = sigUpd;
      c.updated.textContent = agoText;
      c.updated.classList.toggle('unknown', !at);
      attr(c.updated, 'title', at ? fmt.dateTime(at) : null);
    }
  }

  renderCounts() {
    let available = 0;
    let busy = 0;
    let out = 0;
    for (const a of this.feed.ambulances.values()) {
      if (AVAILABLE.has(a.status)) available++;
      else if (a.status === 'out_of_service') out++;
      else busy++;
    }
    text(this.summary, t('amb.summary', { available: fmt.int(available), busy: fmt.int(busy), out: fmt.int(out) }));
    for (const g of this.groups.values()) {
      text(g.name, g.station ? this.stationName(g.station) : t('amb.unknown_station'));
      text(g.count, t('amb.station_count', { n: fmt.int(g.units) }));
      g.tbody.hidden = g.units === 0;
    }
  }
}
