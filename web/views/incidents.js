// The 115 incident queue (dispatchers and admins: the feed's open
// incidents), a tab beside the hospitals and the ambulances: priority
// (number and shape), category, address, how long the call has been open,
// the assigned unit or how long it waits for one. Most urgent first, then
// the longest waiting. Rows are focusable with one tab stop (rows.js):
// arrows move, Enter (or a click) selects the incident.
//
// incidentIcon() is the incident's mark wherever it appears (map marker,
// row, panel, legend): the priority digit in a shape of its own (1 a
// triangle, 2 a shield, 3 a hexagon) and the category's short name on a
// tag, yellow while no unit is assigned: never colour alone.

import { t, lang } from '../i18n.js';
import * as fmt from '../format.js';
import { compareIncidents, incidentStart } from '../derive.js';
import { el, fill, attr, flash, text, endFlashes } from '../dom.js';
import { RowTable } from './rows.js';

const PRIORITIES = new Set([1, 2, 3]);

export function priorityOf(inc) {
  return PRIORITIES.has(inc.priority) ? inc.priority : 3;
}

// The mark's nodes; update with drawIncidentIcon().
export function incidentIcon(cls = '') {
  const num = el('span', { class: 'im-num' });
  const cat = el('span', { class: 'im-cat' });
  const root = el('span', { class: `im ${cls}`, 'aria-hidden': 'true' }, el('span', { class: 'im-body' }, num), cat);
  return { root, num, cat };
}

export function drawIncidentIcon(icon, inc, extra = '') {
  const p = priorityOf(inc);
  icon.root.className = `im im-p${p}${inc.unit ? '' : ' im-no-unit'}${extra ? ` ${extra}` : ''}`;
  text(icon.num, String(p));
  text(icon.cat, inc.category ? t(`cat.${inc.category}.short`) : '?');
}

// "Stroke · Priority 1"
export function incidentTitle(inc) {
  return `${inc.category ? t(`cat.${inc.category}.long`) : '?'} · ${t('inc.priority', { n: priorityOf(inc) })}`;
}

// How long the call has been open, and for how long it has had no unit.
export function incidentAges(inc, now) {
  const start = incidentStart(inc);
  return { start, open: start ? fmt.duration(now - start) : '–' };
}

export class IncidentQueue extends RowTable {
  constructor(root, feed, { onSelect }) {
    super();
    this.root = root;
    this.feed = feed;
    this.onSelect = onSelect;
    this.order = [];
    this.build();
  }

  build() {
    this.heading = el('h2', { id: 'incidents-heading', class: 'panel-title' });
    this.summary = el('span', { class: 'panel-count', id: 'incidents-summary' });
    this.caption = el('caption', { class: 'sr-only' });
    this.thead = el('thead');
    this.tbody = el('tbody');
    endFlashes(this.tbody);
    this.table = el('table', { id: 'incidents-table', class: 'grid incidents' }, this.caption, this.thead, this.tbody);
    this.message = el('p', { class: 'table-message', role: 'status' });
    this.scroller = el('div', {
      class: 'scroller inc-scroller', role: 'region', 'aria-labelledby': 'incidents-heading',
    }, this.table, this.message);
    this.panelSlot = el('div', { class: 'inc-panel-slot' });
    fill(this.root, el('div', { class: 'panel-head' },
      el('div', { class: 'panel-heading' }, this.heading, this.summary)), this.scroller, this.panelSlot);
    this.listen();
  }

  // frame: {full, lang, clock, incidents: Set of changed ids, now}
  render(frame) {
    const feed = this.feed;
    if (frame.lang) {
      text(this.heading, t('inc.heading'));
      text(this.caption, t('inc.caption'));
      fill(this.thead, el('tr', null,
        el('th', { scope: 'col', class: 'i-prio', title: t('inc.col.priority_title') }, t('inc.col.priority')),
        el('th', { scope: 'col', class: 'i-cat' }, t('inc.col.category')),
        el('th', { scope: 'col', class: 'i-addr' }, t('inc.col.address')),
        el('th', { scope: 'col', class: 'i-open' }, t('inc.col.open')),
        el('th', { scope: 'col', class: 'i-unit' }, t('inc.col.unit'))));
    }
    if (!feed.hasState) {
      text(this.message, t('hospitals.loading'));
      this.message.hidden = false;
      return;
    }
    const everything = frame.full || frame.lang || frame.clock;
    if (!everything && !frame.incidents.size) return;
    for (const [id, rec] of this.rows) {
      if (feed.incidents.has(id)) continue;
      rec.tr.remove();
      this.rows.delete(id);
    }
    let waiting = 0;
    for (const [id, inc] of feed.incidents) {
      if (!inc.unit) waiting++;
      const changed = frame.incidents.has(id);
      let rec = this.rows.get(id);
      if (!rec) rec = this.createRow(id);
      else if (!everything && !changed) continue;
      this.updateRow(rec, inc, frame.now);
      if (changed && !frame.full && !this.root.hidden) flash(rec.tr);
    }
    this.sort();
    this.fixTabStop();
    const n = feed.incidents.size;
    text(this.summary, t('inc.summary', { open: fmt.int(n), waiting: fmt.int(waiting) }));
    text(this.message, n ? '' : t('inc.empty'));
    this.message.hidden = n > 0;
  }

  createRow(id) {
    const icon = incidentIcon('im-mini');
    const c = {
      icon,
      prioText: el('span', { class: 'sr-only' }),
      cat: el('span', { class: 'i-cat-name' }),
      id: el('span', { class: 'i-id' }, id),
      addr: el('td', { class: 'i-addr', dataset: { freeText: '' } }),
      open: el('td', { class: 'i-open num' }),
      unit: el('td', { class: 'i-unit' }),
    };
    const tr = el('tr', { dataset: { id }, tabindex: '-1' },
      el('td', { class: 'i-prio' }, icon.root, c.prioText),
      el('th', { scope: 'row', class: 'i-cat' }, c.cat, c.id), c.addr, c.open, c.unit);
    const rec = { id, tr, cells: c, sig: '' };
    this.rows.set(id, rec);
    this.tbody.append(tr);
    return rec;
  }

  updateRow(rec, inc, now) {
    const { start, open } = incidentAges(inc, now);
    const sig = [inc.version, inc.priority, inc.category, inc.address, inc.unit, open, lang()].join('|');
    if (rec.sig === sig) return;
    rec.sig = sig;
    const c = rec.cells;
    rec.tr.dataset.priority = String(priorityOf(inc));
    rec.tr.dataset.unit = inc.unit || '';
    drawIncidentIcon(c.icon, inc);
    text(c.prioText, t('inc.priority', { n: priorityOf(inc) }));
    text(c.cat, inc.category ? t(`cat.${inc.category}.long`) : '?');
    if (inc.address) text(c.addr, inc.address);
    else fill(c.addr, el('span', { class: 'unknown' }, t('inc.no_address')));
    attr(c.addr, 'title', inc.address || null);
    text(c.open, open);
    attr(c.open, 'title', start ? `${t('inc.received')}: ${fmt.dateTime(start)}` : null);
    if (inc.unit) {
      fill(c.unit, el('span', { class: 'i-unit-id' }, inc.unit));
    } else {
      fill(c.unit, el('span', { class: 'i-no-unit' }, t('inc.no_unit')), ' ',
        el('span', { class: 'i-wait' }, t('inc.waiting_unit', { dur: open })));
    }
  }

  sort() {
    const incs = [...this.feed.incidents.values()].sort(compareIncidents);
    const ids = incs.map((i) => i.id);
    if (ids.length === this.order.length && ids.every((id, i) => id === this.order[i])) return;
    for (const id of ids) this.tbody.append(this.rows.get(id).tr);
    this.order = ids;
  }
}
