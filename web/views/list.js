// The hospital list beside the map: one row per hospital with its level,
// ED status, occupancy, the free/staffed beds of the chosen bed type,
// distance from the patient pin and report freshness; filters (bed type
// needed, specialty, tier, district, ED open, text) and a sort (pressure
// level, free beds of the chosen type, distance, name).
//
// Rows are built once and patched cell by cell (each cell keeps a
// signature of what it shows), so a frame with a hundred events or the
// once-a-second clock refresh touches only what changed. Rows are
// focusable with one tab stop (roving tabindex, rows.js): arrows move,
// Enter opens the detail panel.

import { t, pick, lang, locale } from '../i18n.js';
import * as fmt from '../format.js';
import {
  BED_TYPES, TIERS, SERVICES, available, overflow, hospitalFigures, timeMs, distanceKm, edOpen, svcEffective,
} from '../derive.js';
import { el, fill, attr, flash, text, endFlashes } from '../dom.js';
import { RowTable } from './rows.js';

const DEFAULT_BED = 'icu_adult'; // the bed column when no bed type is asked for
const SORTS = ['level', 'available', 'distance', 'name'];

export class HospitalList extends RowTable {
  constructor(root, feed, { onSelect, onHover, onVisible, onClearPin }) {
    super();
    this.root = root;
    this.feed = feed;
    this.onSelect = onSelect;
    this.onHover = onHover;
    this.onVisible = onVisible;
    this.onClearPin = onClearPin;
    this.order = [];
    this.f = { bed: '', spec: '', svc: '', tier: '', district: '', edOpen: false, q: '', sort: 'level' };
    this.pin = null;
    this.collator = null;
    this.build();
  }

  get bedType() {
    return this.f.bed || DEFAULT_BED;
  }

  build() {
    this.heading = el('span', { id: 'hospitals-heading' });
    this.count = el('span', { class: 'panel-count', id: 'hospitals-count', 'aria-live': 'off' });

    const select = (id, key) => {
      const s = el('select', { id, class: 'ctl', 'aria-controls': 'hospitals-table' });
      s.addEventListener('change', () => {
        this.f[key] = s.value;
        this.refilter();
      });
      return s;
    };
    const field = (labelEl, control, cls) => el('div', { class: `field ${cls || ''}` }, labelEl, control);
    this.ctl = {
      bed: select('f-bed', 'bed'),
      spec: select('f-spec', 'spec'),
      svc: select('f-svc', 'svc'),
      tier: select('f-tier', 'tier'),
      district: select('f-district', 'district'),
      sort: select('f-sort', 'sort'),
    };
    this.labels = {
      bed: el('label', { for: 'f-bed' }),
      spec: el('label', { for: 'f-spec' }),
      svc: el('label', { for: 'f-svc' }),
      tier: el('label', { for: 'f-tier' }),
      district: el('label', { for: 'f-district' }),
      sort: el('label', { for: 'f-sort' }),
      q: el('label', { for: 'hospital-filter' }),
      edOpen: el('span'),
    };
    this.ctl.edOpen = el('input', { id: 'f-ed-open', type: 'checkbox', 'aria-controls': 'hospitals-table' });
    this.ctl.edOpen.addEventListener('change', () => {
      this.f.edOpen = this.ctl.edOpen.checked;
      this.refilter();
    });
    this.ctl.q = el('input', {
      id: 'hospital-filter', type: 'search', class: 'ctl', autocomplete: 'off', spellcheck: 'false',
      'aria-controls': 'hospitals-table',
    });
    this.ctl.q.addEventListener('input', () => {
      this.f.q = fmt.fold(this.ctl.q.value).trim();
      this.refilter();
    });
    this.filters = el('div', { class: 'filters', role: 'group', 'aria-labelledby': 'filters-title' },
      el('span', { id: 'filters-title', class: 'sr-only' }),
      field(this.labels.bed, this.ctl.bed, 'f-bed'),
      field(this.labels.spec, this.ctl.spec),
      field(this.labels.svc, this.ctl.svc),
      field(this.labels.tier, this.ctl.tier),
      field(this.labels.district, this.ctl.district),
      field(this.labels.q, this.ctl.q, 'f-q'),
      el('label', { class: 'field check', for: 'f-ed-open' }, this.ctl.edOpen, this.labels.edOpen),
      field(this.labels.sort, this.ctl.sort, 'f-sort'));
    this.filtersTitle = this.filters.firstChild;

    // one line: how many match, the patient pin, clear buttons
    this.resetButton = el('button', { type: 'button', id: 'f-reset', class: 'btn btn-quiet', hidden: true });
    this.resetButton.addEventListener('click', () => this.reset());
    this.pinText = el('span', { class: 'pin-text', id: 'pin-info' });
    this.pinClear = el('button', { type: 'button', id: 'pin-clear', class: 'btn btn-quiet', hidden: true });
    this.pinClear.addEventListener('click', () => this.onClearPin());
    this.pinBar = el('div', { class: 'list-bar' }, this.count, this.resetButton,
      el('span', { class: 'pin-box' }, el('span', { class: 'pin pin-mini', 'aria-hidden': 'true' }), this.pinText, this.pinClear));

    this.caption = el('caption', { class: 'sr-only' });
    this.thead = el('thead');
    this.tbody = el('tbody');
    endFlashes(this.tbody);
    this.table = el('table', { id: 'hospitals-table', class: 'grid hlist' }, this.caption, this.thead, this.tbody);
    this.message = el('p', { class: 'table-message', role: 'status' });
    this.scroller = el('div', { id: 'hospitals-region', class: 'scroller' }, this.table, this.message);
    fill(this.root, el('h2', { class: 'sr-only' }, this.heading), this.filters, this.pinBar, this.scroller);

    this.listen();
    this.tbody.addEventListener('mouseover', (ev) => {
      const tr = ev.target.closest('tr[data-id]');
      const id = tr ? tr.dataset.id : null;
      if (id !== this.hoverId) {
        this.hoverId = id;
        this.onHover(id);
      }
    });
    this.tbody.addEventListener('mouseleave', () => {
      this.hoverId = null;
      this.onHover(null);
    });
  }

  setHovered(id) {
    for (const rec of this.rows.values()) if (rec.tr.classList.contains('is-hover') && rec.id !== id) rec.tr.classList.remove('is-hover');
    const rec = this.rows.get(id);
    if (rec) rec.tr.classList.add('is-hover');
  }

  // The patient location ({lat, lng}) or null.
  setPin(latlng) {
    const first = !this.pin && latlng;
    this.pin = latlng ? { lat: latlng.lat, lon: latlng.lng } : null;
    if (first) this.f.sort = 'distance';
    if (!this.pin && this.f.sort === 'distance') this.f.sort = 'level';
    this.ctl.sort.value = this.f.sort;
    this.renderPin();
    this.renderSortOptions();
    this.renderHead();
    for (const rec of this.rows.values()) this.drawDistance(rec);
    this.refilter();
  }

  reset() {
    Object.assign(this.f, { bed: '', spec: '', svc: '', tier: '', district: '', edOpen: false, q: '' });
    for (const k of ['bed', 'spec', 'svc', 'tier', 'district']) this.ctl[k].value = '';
    this.ctl.edOpen.checked = false;
    this.ctl.q.value = '';
    this.refilter();
  }

  // A filter or the sort changed: redraw the bed column, re-filter, re-sort.
  refilter() {
    if (this.f.sort === 'distance' && !this.pin) this.f.sort = 'level';
    this.renderHead();
    const now = this.feed.serverNow();
    const cfg = this.feed.meta && this.feed.meta.pressure;
    for (const rec of this.rows.values()) {
      const h = this.feed.hospitals.get(rec.id);
      if (h) this.updateRow(rec, h, cfg, now);
    }
    this.sort();
    this.applyFilter();
  }

  // -- rendering ------------------------------------------------------------------

  // frame: {full, lang, clock, hospitals: Set of changed ids, now}
  render(frame) {
    const feed = this.feed;
    if (frame.lang) {
      this.collator = new Intl.Collator(locale(), { sensitivity: 'base' });
      this.renderChrome();
    }
    if (!feed.hasState) {
      text(this.message, t('hospitals.loading'));
      this.message.hidden = false;
      return;
    }
    if (frame.full || frame.lang) this.renderOptions();
    if (frame.full || frame.lang) this.renderHead();
    const cfg = feed.meta && feed.meta.pressure;
    const everything = frame.full || frame.lang || frame.clock;
    let resort = frame.full || frame.lang;
    for (const [id, h] of feed.hospitals) {
      let rec = this.rows.get(id);
      if (!rec) {
        rec = this.createRow(id);
        resort = true;
      }
      const changed = frame.hospitals.has(id);
      if (!everything && !changed) continue;
      if (this.updateRow(rec, h, cfg, frame.now)) resort = true;
      if (changed && !frame.full && rec.match && !this.root.hidden) flash(rec.tr);
    }
    for (const id of [...this.rows.keys()]) {
      if (!feed.hospitals.has(id)) {
        this.rows.get(id).tr.remove();
        this.rows.delete(id);
        resort = true;
      }
    }
    if (resort) this.sort();
    if (resort || frame.hospitals.size || frame.clock) this.applyFilter();
  }

  renderChrome() {
    text(this.heading, t('hospitals.heading'));
    text(this.caption, t('list.caption'));
    text(this.filtersTitle, t('filter.title'));
    text(this.labels.bed, t('filter.bed'));
    text(this.labels.spec, t('filter.specialty'));
    text(this.labels.svc, t('filter.service'));
    text(this.labels.tier, t('filter.tier'));
    text(this.labels.district, t('filter.district'));
    text(this.labels.q, t('filter.label'));
    text(this.labels.edOpen, t('filter.ed_open'));
    text(this.labels.sort, t('filter.sort'));
    this.ctl.q.placeholder = t('filter.placeholder');
    text(this.resetButton, t('filter.reset'));
    text(this.pinClear, t('pin.clear'));
    this.renderPin();
    this.renderSortOptions();
  }

  renderPin() {
    if (this.pin) {
      text(this.pinText, t('pin.at', { lat: fmt.dec(this.pin.lat, 4), lon: fmt.dec(this.pin.lon, 4) }));
      this.pinText.dataset.lat = String(this.pin.lat);
      this.pinText.dataset.lon = String(this.pin.lon);
    } else {
      text(this.pinText, t('pin.hint'));
      delete this.pinText.dataset.lat;
      delete this.pinText.dataset.lon;
    }
    this.pinClear.hidden = !this.pin;
    this.pinBar.classList.toggle('has-pin', !!this.pin);
  }

  renderSortOptions() {
    const bed = t(`bed.${this.bedType}.short`);
    fill(this.ctl.sort, SORTS.map((k) => el('option', { value: k, disabled: k === 'distance' && !this.pin },
      t(`sort.${k}`, { bed }))));
    this.ctl.sort.value = this.f.sort;
  }

  // Options of the selects, in the current language; choices kept.
  renderOptions() {
    const opt = (value, label) => el('option', { value }, label);
    const byName = (a, b) => this.collator.compare(a[1], b[1]);
    const bedOrder = (this.feed.meta && this.feed.meta.bed_types) || BED_TYPES;
    fill(this.ctl.bed, opt('', t('filter.any')), bedOrder.map((k) => opt(k, t(`bed.${k}.long`))));
    const specs = new Set();
    const svcs = new Set();
    const districts = new Set();
    for (const h of this.feed.hospitals.values()) {
      for (const s of h.specialties || []) specs.add(s);
      for (const s of Object.keys(h.services || {})) svcs.add(s);
      if (h.district) districts.add(h.district);
    }
    fill(this.ctl.spec, opt('', t('filter.any')),
      [...specs].map((s) => [s, t(`spec.${s}`)]).sort(byName).map(([v, l]) => opt(v, l)));
    fill(this.ctl.svc, opt('', t('filter.any')), SERVICES.filter((k) => svcs.has(k)).map((k) => opt(k, t(`svc.${k}`))));
    fill(this.ctl.tier, opt('', t('filter.any')), TIERS.map((k) => opt(k, t(`tier.${k}`))));
    const dn = (this.feed.meta && this.feed.meta.districts) || {};
    fill(this.ctl.district, opt('', t('filter.any')),
      [...districts].map((d) => [d, dn[d] ? pick(dn[d]) : d]).sort(byName).map(([v, l]) => opt(v, l)));
    for (const k of ['bed', 'spec', 'svc', 'tier', 'district']) {
      this.ctl[k].value = this.f[k];
      if (this.ctl[k].value !== this.f[k]) this.f[k] = this.ctl[k].value; // gone from the data
    }
  }

  renderHead() {
    const bed = this.bedType;
    const sig = `${bed}|${!!this.pin}|${lang()}`;
    if (this.headSig === sig) return;
    this.headSig = sig;
    const th = (key, cls, label, extra) => el('th', Object.assign({ scope: 'col', class: cls, dataset: { col: key } }, extra), label);
    fill(this.thead, el('tr', null,
      th('level', 'c-level', t('col.level')),
      th('name', 'c-name', t('col.name')),
      th('ed', 'c-ed', t('col.ed_short')),
      th('occupancy', 'c-occ num', t('col.occupancy'), { title: t('col.occupancy_title') }),
      th('bed', 'c-bed num', el('abbr', { title: t('list.bed_title', { bed: t(`bed.${bed}.long`) }) },
        t('list.col_bed', { bed: t(`bed.${bed}.short`) })), { dataset: { col: 'bed', bed } }),
      this.pin ? th('distance', 'c-dist num', t('col.distance'), { title: t('col.distance_title') }) : null,
      th('updated', 'c-updated', t('col.updated'))));
    this.table.classList.toggle('has-pin', !!this.pin);
  }

  createRow(id) {
    const c = {
      level: el('td', { class: 'c-level' }),
      nameText: el('span', { class: 'name-text' }),
      sub: el('span', { class: 'name-sub' }),
      ed: el('td', { class: 'c-ed' }),
      occupancy: el('td', { class: 'c-occ num' }),
      bed: el('td', { class: 'c-bed num' }),
      dist: el('td', { class: 'c-dist num' }),
      updated: el('td', { class: 'c-updated' }),
    };
    c.name = el('th', { scope: 'row', class: 'c-name' }, c.nameText, c.sub);
    const tr = el('tr', { dataset: { id }, tabindex: '-1' },
      c.level, c.name, c.ed, c.occupancy, c.bed, c.dist, c.updated);
    const rec = { id, tr, cells: c, sig: {}, level: 0, name: '', search: '', avail: null, km: null, match: true };
    this.rows.set(id, rec);
    this.tbody.append(tr);
    if (this.active === null) this.setActive(id);
    return rec;
  }

  // Patches one row; returns true when a sort key changed.
  updateRow(rec, h, cfg, now) {
    const f = hospitalFigures(h, cfg, now);
    const L = lang();
    const name = pick(h.name) || h.id;
    const districts = (this.feed.meta && this.feed.meta.districts) || {};
    const district = districts[h.district] ? pick(districts[h.district]) : h.district || '';
    const c = rec.cells;
    const set = (key, sig, draw) => {
      if (rec.sig[key] === sig) return;
      rec.sig[key] = sig;
      draw();
    };
    const never = f.freshness === 'never';
    set('level', `${f.level}|${never}|${L}`, () => {
      rec.tr.dataset.level = String(f.level);
      const label = never ? t('fresh.never') : t('level.title', { n: f.level, label: t(`level.${f.level}`) });
      attr(c.level, 'title', label);
      fill(c.level, el('span', { class: `lvl lvl-${never ? 0 : f.level}`, 'aria-hidden': 'true' }, never ? '–' : String(f.level)),
        el('span', { class: 'sr-only' }, label));
    });
    set('name', `${name}|${district}|${h.tier}|${L}`, () => {
      text(c.nameText, name);
      text(c.sub, [district, h.tier ? t(`tier.${h.tier}`) : ''].filter(Boolean).join(' · '));
      attr(c.name, 'title', name);
    });
    this.drawEd(rec, h, f, now, L);
    set('occupancy', `${f.occupancyPct === null ? '' : Math.floor(f.occupancyPct)}|${L}`, () => {
      c.occupancy.replaceChildren();
      if (f.occupancyPct === null) {
        c.occupancy.append(el('span', { class: 'unknown' }, '–'));
        return;
      }
      const p = f.occupancyPct;
      const th = cfg || { level2_pct: 85, level3_pct: 95, level4_pct: 110 };
      const band = p >= th.level4_pct ? 4 : p >= th.level3_pct ? 3 : p >= th.level2_pct ? 2 : 1;
      const fillEl = el('span', { class: `bar-fill band-${band}` });
      fillEl.style.width = `${Math.min(p, 100).toFixed(1)}%`;
      c.occupancy.append(el('span', { class: `occ-num band-${band}` }, fmt.pct(p)),
        el('span', { class: 'bar', 'aria-hidden': 'true' }, fillEl));
    });
    const bedType = this.bedType;
    const b = h.beds ? h.beds[bedType] : null;
    rec.avail = available(b);
    this.drawBed(rec, bedType, b, L);
    this.drawUpdated(rec, h, f, now, L);
    this.drawDistance(rec, h);

    rec.tr.dataset.fresh = f.freshness;
    rec.tr.dataset.ed = f.ed;
    rec.search = fmt.fold([h.id, h.name && h.name.vi, h.name && h.name.en,
      districts[h.district] && districts[h.district].vi, districts[h.district] && districts[h.district].en].join(' '));
    const match = this.matches(h, f, rec);
    const resort = rec.level !== f.level || rec.name !== name || rec.sortAvail !== rec.avail || rec.match !== match;
    rec.level = f.level;
    rec.name = name;
    rec.sortAvail = rec.avail;
    rec.match = match;
    return resort;
  }

  matches(h, f, rec) {
    const q = this.f;
    if (q.bed && !(available(h.beds && h.beds[q.bed]) > 0)) return false;
    if (q.spec && !(h.specialties || []).includes(q.spec)) return false;
    // a service it has and that is not reported unavailable now
    if (q.svc && !(h.services && h.services[q.svc] && svcEffective(h.services[q.svc], this.feed.serverNow()) !== 'unavailable')) return false;
    if (q.tier && h.tier !== q.tier) return false;
    if (q.district && h.district !== q.district) return false;
    if (q.edOpen && !edOpen(f.ed)) return false;
    if (q.q && !rec.search.includes(q.q)) return false;
    return true;
  }

  drawEd(rec, h, f, now, L) {
    const ed = h.ed || {};
    const eff = f.ed;
    // an expired status reads as normal: its reason and expiry no longer apply
    const live = eff === ed.status;
    const reason = live && eff !== 'normal' && ed.reason ? ed.reason : '';
    const until = live && eff !== 'normal' ? timeMs(ed.until) : 0;
    const untilText = until ? fmt.shortDateTime(until, now) : '';
    const waiting = live && typeof ed.waiting === 'number' ? ed.waiting : null;
    const sig = [eff, reason, untilText, waiting, L].join('|');
    if (rec.sig.ed === sig) return;
    rec.sig.ed = sig;
    const td = rec.cells.ed;
    td.dataset.status = eff;
    const line = [el('span', { class: `ed ed-${eff}` }, t(`ed.${eff}`))];
    if (untilText) line.push(el('span', { class: 'ed-until' }, t('ed.until', { time: untilText })));
    if (waiting !== null && waiting > 0) {
      line.push(el('span', { class: 'ed-wait', title: t('ed.waiting_title', { n: fmt.int(waiting) }) },
        t('ed.waiting', { n: fmt.int(waiting) })));
    }
    // spaces between the parts: read aloud (and copied) as words, not run together
    fill(td, el('span', { class: 'ed-line' }, line.flatMap((x, i) => (i ? [' ', x] : [x]))), ' ',
      reason ? el('span', { class: 'ed-reason', dataset: { freeText: '' } }, reason) : null);
    attr(td, 'title', reason || null);
  }

  drawBed(rec, k, b, L) {
    const td = rec.cells.bed;
    const av = available(b);
    const ov = overflow(b);
    const staffed = b && typeof b.staffed === 'number' ? b.staffed : null;
    const sig = [k, av, staffed, ov, b ? b.occupied : 'x', L].join('|');
    if (rec.sig.bed === sig) return;
    rec.sig.bed = sig;
    td.dataset.bed = k;
    td.dataset.available = av === null ? '' : String(av);
    if (!b || staffed === null) {
      fill(td, el('span', { class: 'unknown' }, '–'));
      attr(td, 'title', t('beds.none_title', { label: t(`bed.${k}.long`) }));
      return;
    }
    const label = t(`bed.${k}.long`);
    const staffedText = fmt.int(staffed);
    const parts = [];
    if (av === null) {
      parts.push(el('span', { class: 'avail unknown' }, '–'));
      attr(td, 'title', t('beds.cell_unknown_title', { label, staffed: staffedText }));
    } else {
      parts.push(el('span', { class: av === 0 ? 'avail zero' : 'avail' }, fmt.int(av)));
      attr(td, 'title', t('beds.cell_title', {
        label, available: fmt.int(av), staffed: staffedText, occupied: fmt.int(b.occupied),
      }) + (ov > 0 ? `; ${t('beds.overflow_title', { n: fmt.int(ov) })}` : ''));
    }
    parts.push(el('span', { class: 'of' }, `/${staffedText}`));
    if (ov > 0) parts.push(el('span', { class: 'over' }, `+${fmt.int(ov)}`));
    fill(td, parts);
  }

  drawDistance(rec, h = this.feed.hospitals.get(rec.id)) {
    const km = this.pin && h && typeof h.lat === 'number'
      ? distanceKm(this.pin.lat, this.pin.lon, h.lat, h.lon) : null;
    rec.km = km;
    const td = rec.cells.dist;
    td.hidden = !this.pin;
    const s = km === null ? '' : fmt.km(km);
    text(td, s);
    if (km === null) delete rec.tr.dataset.km;
    else rec.tr.dataset.km = km.toFixed(3);
  }

  drawUpdated(rec, h, f, now, L) {
    const at = timeMs(h.at);
    const agoText = at ? fmt.ago(at, now) : '';
    const sig = [f.freshness, agoText, at, L].join('|');
    if (rec.sig.updated === sig) return;
    rec.sig.updated = sig;
    const td = rec.cells.updated;
    td.dataset.fresh = f.freshness;
    const interval = typeof h.report_interval_s === 'number' ? fmt.int(h.report_interval_s / 60) : '?';
    const parts = [];
    if (at) parts.push(el('span', { class: 'ago' }, agoText));
    if (f.freshness !== 'fresh') {
      parts.push(el('span', { class: `fresh-tag fresh-${f.freshness}` },
        f.freshness === 'stale' ? el('span', { class: 'fresh-icon', 'aria-hidden': 'true' }, '!') : null,
        t(`fresh.${f.freshness}`)));
    }
    fill(td, parts);
    attr(td, 'title', at
      ? t('fresh.title', { time: fmt.dateTime(at), interval, state: t(`fresh.${f.freshness}`) })
      : t('fresh.never_title', { interval }));
  }

  compare(a, b) {
    const byName = this.collator.compare(a.name, b.name) || (a.id < b.id ? -1 : 1);
    switch (this.f.sort) {
      case 'available': {
        const x = a.sortAvail === null ? -1 : a.sortAvail;
        const y = b.sortAvail === null ? -1 : b.sortAvail;
        return y - x || a.level - b.level || byName;
      }
      case 'distance': {
        const x = a.km === null ? Infinity : a.km;
        const y = b.km === null ? Infinity : b.km;
        return x - y || byName;
      }
      case 'name': return byName;
      default: return b.level - a.level || byName;
    }
  }

  sort() {
    if (!this.collator) return;
    const recs = [...this.rows.values()].sort((a, b) => this.compare(a, b));
    const ids = recs.map((r) => r.id);
    if (ids.length === this.order.length && ids.every((id, i) => id === this.order[i])) return;
    let cursor = this.tbody.firstElementChild;
    for (const r of recs) {
      if (r.tr === cursor) cursor = cursor.nextElementSibling;
      else this.tbody.insertBefore(r.tr, cursor);
    }
    this.order = ids;
  }

  applyFilter() {
    let shown = 0;
    const visible = new Set();
    for (const rec of this.rows.values()) {
      const hide = !rec.match;
      if (rec.tr.hidden !== hide) rec.tr.hidden = hide;
      if (!hide) {
        shown++;
        visible.add(rec.id);
      }
    }
    const total = this.rows.size;
    text(this.count, t('hospitals.count', { shown: fmt.int(shown), total: fmt.int(total) }));
    const q = this.f;
    this.resetButton.hidden = !(q.bed || q.spec || q.svc || q.tier || q.district || q.edOpen || q.q);
    this.message.hidden = shown !== 0;
    text(this.message, shown === 0 ? t('hospitals.empty') : '');
    this.fixTabStop();
    const key = shown === total ? '*' : [...visible].join(',');
    if (key !== this.visibleKey) {
      this.visibleKey = key;
      this.onVisible(shown === total ? null : visible);
    }
  }
}
