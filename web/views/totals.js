// The city totals line, computed from the live state: free/staffed for the
// main bed types over hospitals that have reported, how many report, how
// many are at pressure level 3 and 4, EDs diverting or closed, and
// ambulances available.

import { t } from '../i18n.js';
import * as fmt from '../format.js';
import { cityTotals, hospitalFigures } from '../derive.js';
import { el, fill, attr, text } from '../dom.js';

const MAIN_BEDS = ['emergency', 'icu_adult', 'medical_surgical'];

export class TotalsBar {
  constructor(root, feed) {
    this.root = root;
    this.feed = feed;
    this.items = new Map();
    this.title = el('h2', { class: 'totals-title', id: 'totals-title' });
    this.list = el('dl', { class: 'kpis' });
    root.setAttribute('aria-labelledby', 'totals-title');
    fill(root, this.title, this.list);
    for (const k of [...MAIN_BEDS.map((b) => `bed:${b}`), 'reporting', 'level4', 'level3', 'ed', 'ambulances']) {
      const dt = el('dt');
      const value = el('span', { class: 'kpi-value' });
      const of = el('span', { class: 'kpi-of' });
      const extra = el('span', { class: 'kpi-extra' });
      const item = el('div', { class: 'kpi', dataset: { kpi: k } }, dt, el('dd', null, value, of, extra));
      this.list.append(item);
      this.items.set(k, { item, dt, value, of, extra });
    }
  }

  set(key, label, value, of, extra, title, alert) {
    const i = this.items.get(key);
    text(i.dt, label);
    text(i.value, value);
    text(i.of, of);
    text(i.extra, extra);
    attr(i.item, 'title', title || null);
    i.item.classList.toggle('kpi-alert', !!alert);
  }

  render(frame) {
    text(this.title, t('totals.label'));
    const feed = this.feed;
    if (!feed.hasState) {
      this.list.hidden = true;
      return;
    }
    this.list.hidden = false;
    const hospitals = [...feed.hospitals.values()];
    const tot = cityTotals(hospitals, MAIN_BEDS);
    for (const b of MAIN_BEDS) {
      const x = tot[b];
      const label = t(`bed.${b}.short`);
      this.set(`bed:${b}`, label, fmt.int(x.available), `/${fmt.int(x.staffed)}`,
        x.overflow > 0 ? `+${fmt.int(x.overflow)}` : '',
        t('totals.free_title', {
          label: t(`bed.${b}.long`), available: fmt.int(x.available), staffed: fmt.int(x.staffed),
          hospitals: fmt.int(x.hospitals), overflow: fmt.int(x.overflow),
        }), x.staffed > 0 && x.available === 0);
    }
    const cfg = feed.meta && feed.meta.pressure;
    let reporting = 0;
    let stale = 0;
    let late = 0;
    const levels = [0, 0, 0, 0, 0];
    let diverting = 0;
    for (const h of hospitals) {
      const f = hospitalFigures(h, cfg, frame.now);
      if (f.freshness !== 'never') reporting++;
      if (f.freshness === 'stale') stale++;
      if (f.freshness === 'late') late++;
      levels[f.level]++;
      if (f.ed === 'diversion' || f.ed === 'closed') diverting++;
    }
    this.set('reporting', t('totals.reporting'), t('totals.reporting_value', { n: fmt.int(reporting), total: fmt.int(hospitals.length) }),
      '', '', t('totals.reporting_title', { stale: fmt.int(stale), late: fmt.int(late) }), false);
    this.set('level4', t('totals.level4'), fmt.int(levels[4]), '', '', t('level.4'), levels[4] > 0);
    this.set('level3', t('totals.level3'), fmt.int(levels[3]), '', '', t('level.3'), false);
    this.set('ed', t('totals.ed_diverting'), fmt.int(diverting), '', '', null, diverting > 0);
    let free = 0;
    for (const a of feed.ambulances.values()) if (a.status === 'available_station' || a.status === 'available_radio') free++;
    this.set('ambulances', t('totals.ambulances'), t('totals.ambulances_value', { n: fmt.int(free), total: fmt.int(feed.ambulances.size) }),
      '', '', null, false);
  }
}
