// The hospital table: one row per hospital, sorted by pressure level
// (highest first) then name, with a text filter. Rows are built once and
// patched cell by cell: each cell keeps a signature of what it shows and is
// rebuilt only when that changes, so a frame with a hundred events or the
// once-a-second clock refresh touches only what really changed.

import { t, pick, lang, locale } from '../i18n.js';
import * as fmt from '../format.js';
import { BED_TYPES, available, overflow, hospitalFigures, timeMs } from '../derive.js';
import { el, fill, attr, flash, text, endFlashes } from '../dom.js';

const FIXED_BEFORE = ['level', 'name', 'tier', 'district', 'ed', 'occupancy'];

export class HospitalTable {
  constructor(root, feed) {
    this.root = root;
    this.feed = feed;
    this.rows = new Map(); // id -> row record
    this.order = []; // ids in DOM order
    this.bedCols = [];
    this.filterText = '';
    this.collator = null;
    this.build();
  }

  build() {
    this.heading = el('h2', { id: 'hospitals-heading', class: 'panel-title' });
    this.count = el('span', { class: 'panel-count', id: 'hospitals-count' });
    this.filterLabel = el('label', { for: 'hospital-filter', class: 'filter-label' });
    this.filterInput = el('input', {
      id: 'hospital-filter', type: 'search', class: 'filter', autocomplete: 'off', spellcheck: 'false',
      'aria-controls': 'hospitals-table',
    });
    this.filterInput.addEventListener('input', () => this.setFilter(this.filterInput.value));
    const head = el('div', { class: 'panel-head' },
      el('div', { class: 'panel-heading' }, this.heading, this.count),
      el('div', { class: 'filter-box' }, this.filterLabel, this.filterInput));

    this.caption = el('caption', { class: 'sr-only' });
    this.thead = el('thead');
    this.tbody = el('tbody');
    endFlashes(this.tbody);
    this.message = el('p', { class: 'table-message', role: 'status' });
    this.table = el('table', { id: 'hospitals-table', class: 'grid hospitals' },
      this.caption, this.thead, this.tbody);
    this.scroller = el('div', {
      id: 'hospitals-region', class: 'scroller', tabindex: '0', role: 'region', 'aria-labelledby': 'hospitals-heading',
    }, this.table, this.message);
    this.note = el('p', { class: 'panel-note', 'aria-hidden': 'true' });
    this.legend = el('span', { class: 'legend' });
    this.noteText = el('span', { class: 'note-text' });
    this.note.append(this.legend, this.noteText);
    fill(this.root, head, this.note, this.scroller);
  }

  setFilter(text) {
    this.filterText = fmt.fold(text).trim();
    this.applyFilter();
  }

  // frame: {full, lang, clock, hospitals: Set of changed ids, now}
  render(frame) {
    const feed = this.feed;
    if (frame.lang) this.renderChrome();
    if (!feed.hasState) {
      this.message.textContent = t('hospitals.loading');
      this.message.hidden = false;
      this.count.textContent = '';
      return;
    }
    const cols = this.bedColumns();
    const rebuild = frame.full || cols.join() !== this.bedCols.join();
    if (rebuild) {
      this.bedCols = cols;
      this.renderHead();
      this.tbody.replaceChildren();
      this.rows.clear();
      this.order = [];
    } else if (frame.lang) {
      this.renderHead();
    }
    if (frame.lang || !this.collator) this.collator = new Intl.Collator(locale(), { sensitivity: 'base', numeric: true });

    const cfg = feed.meta && feed.meta.pressure;
    const everything = rebuild || frame.lang || frame.clock;
    let resort = rebuild || frame.lang;
    for (const [id, h] of feed.hospitals) {
      let rec = this.rows.get(id);
      if (!rec) {
        rec = this.createRow(id);
        resort = true;
      }
      const changed = frame.hospitals.has(id);
      if (!everything && !changed) continue;
      if (this.updateRow(rec, h, cfg, frame.now)) resort = true;
      if (changed && !rebuild) flash(rec.tr);
    }
    for (const id of [...this.rows.keys()]) {
      if (!feed.hospitals.has(id)) {
        this.rows.get(id).tr.remove();
        this.rows.delete(id);
        resort = true;
      }
    }
    if (resort) this.sort();
    if (rebuild || frame.lang || resort) this.applyFilter();
  }

  // Static texts of the panel.
  renderChrome() {
    this.heading.textContent = t('hospitals.heading');
    this.caption.textContent = t('hospitals.caption');
    fill(this.legend, el('span', { class: 'legend-title' }, t('hospitals.legend')),
      [1, 2, 3, 4].map((n) => el('span', { class: 'legend-item' },
        el('span', { class: `lvl lvl-${n}` }, String(n)), t(`level.${n}`))));
    this.noteText.textContent = t('hospitals.note');
    this.filterLabel.textContent = t('filter.label');
    this.filterInput.placeholder = t('filter.placeholder');
  }

  // Bed types some hospital has, in the server's display order.
  bedColumns() {
    const present = new Set();
    for (const h of this.feed.hospitals.values()) for (const k of Object.keys(h.beds || {})) present.add(k);
    const order = (this.feed.meta && this.feed.meta.bed_types) || BED_TYPES;
    const cols = order.filter((k) => present.has(k));
    for (const k of present) if (!cols.includes(k)) cols.push(k);
    return cols;
  }

  renderHead() {
    const th = (key, cls, extra) => el('th', Object.assign({ scope: 'col', class: cls, dataset: { col: key } }, extra),
      t(`col.${key}`));
    const r1 = el('tr', null,
      th('level', 'c-level', { rowspan: 2 }),
      th('name', 'c-name', { rowspan: 2 }),
      th('tier', 'c-tier', { rowspan: 2 }),
      th('district', 'c-district', { rowspan: 2 }),
      th('ed', 'c-ed', { rowspan: 2 }),
      el('th', { scope: 'col', rowspan: 2, class: 'c-occ num', dataset: { col: 'occupancy' }, title: t('col.occupancy_title') },
        t('col.occupancy')),
      this.bedCols.length ? el('th', { scope: 'colgroup', colspan: this.bedCols.length, class: 'c-bedgroup' }, t('col.beds')) : null,
      th('updated', 'c-updated', { rowspan: 2 }));
    const r2 = el('tr', { class: 'sub' }, this.bedCols.map((k) => el('th', {
      scope: 'col', class: 'c-bed num', dataset: { bed: k },
    }, el('abbr', { title: t(`bed.${k}.long`) }, t(`bed.${k}.short`)))));
    fill(this.thead, r1, r2);
    // colgroups make scope="colgroup" true to the structure
    const cols = [];
    for (let i = 0; i < FIXED_BEFORE.length; i++) cols.push(el('colgroup', { class: `g-${FIXED_BEFORE[i]}` }));
    if (this.bedCols.length) cols.push(el('colgroup', { span: this.bedCols.length, class: 'g-beds' }));
    cols.push(el('colgroup', { class: 'g-updated' }));
    for (const c of this.table.querySelectorAll('colgroup')) c.remove();
    for (const c of cols) this.table.insertBefore(c, this.thead);
  }

  createRow(id) {
    const cells = {
      level: el('td', { class: 'c-level', dataset: { col: 'level' } }),
      name: el('th', { scope: 'row', class: 'c-name', dataset: { col: 'name' } }),
      tier: el('td', { class: 'c-tier', dataset: { col: 'tier' } }),
      district: el('td', { class: 'c-district', dataset: { col: 'district' } }),
      ed: el('td', { class: 'c-ed', dataset: { col: 'ed' } }),
      occupancy: el('td', { class: 'c-occ num', dataset: { col: 'occupancy' } }),
      beds: new Map(),
      updated: el('td', { class: 'c-updated', dataset: { col: 'updated' } }),
    };
    const tr = el('tr', { dataset: { id } });
    tr.append(cells.level, cells.name, cells.tier, cells.district, cells.ed, cells.occupancy);
    for (const k of this.bedCols) {
      const td = el('td', { class: 'c-bed num', dataset: { bed: k } });
      cells.beds.set(k, td);
      tr.append(td);
    }
    tr.append(cells.updated);
    const rec = { id, tr, cells, sig: {}, level: 0, name: '', search: '' };
    this.rows.set(id, rec);
    this.tbody.append(tr);
    return rec;
  }

  // Patches one row; returns true when its sort key changed.
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

    set('level', `${f.level}|${L}`, () => {
      rec.tr.dataset.level = String(f.level);
      const label = t(`level.${f.level}`);
      attr(c.level, 'title', t('level.title', { n: f.level, label }));
      // the number is the visible label (the legend says what it means)
      fill(c.level, el('span', { class: `lvl lvl-${f.level}`, 'aria-hidden': 'true' }, String(f.level)),
        el('span', { class: 'sr-only' }, `${f.level} ${label}`));
    });
    set('name', name, () => {
      fill(c.name, el('span', { class: 'name-text' }, name));
      attr(c.name, 'title', name);
    });
    set('tier', `${h.tier}|${L}`, () => {
      c.tier.textContent = h.tier ? t(`tier.${h.tier}`) : '';
    });
    set('district', district, () => {
      c.district.textContent = district;
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
    for (const [k, td] of c.beds) this.drawBed(rec, td, k, h.beds ? h.beds[k] : null, L);
    this.drawUpdated(rec, h, f, now, L);

    rec.tr.dataset.fresh = f.freshness;
    rec.tr.dataset.ed = f.ed;
    const search = fmt.fold([h.id, h.name && h.name.vi, h.name && h.name.en,
      districts[h.district] && districts[h.district].vi, districts[h.district] && districts[h.district].en,
      h.tier ? t(`tier.${h.tier}`) : ''].join(' '));
    rec.search = search;
    const resort = rec.level !== f.level || rec.name !== name;
    rec.level = f.level;
    rec.name = name;
    return resort;
  }

  drawEd(rec, h, f, now, L) {
    const ed = h.ed || {};
    const eff = f.ed;
    // an expired status reads as normal: its reason and expiry no longer apply
    const live = eff === ed.status;
    const reason = live && ed.reason ? ed.reason : '';
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
    if (waiting !== null) {
      line.push(el('span', { class: 'ed-wait', title: t('ed.waiting_title', { n: fmt.int(waiting) }) },
        t('ed.waiting', { n: fmt.int(waiting) })));
    }
    // the reason gets its own line: it is what a dispatcher needs to read
    fill(td, el('span', { class: 'ed-line' }, line), reason ? el('span', { class: 'ed-reason' }, reason) : null);
    attr(td, 'title', reason || null);
  }

  drawBed(rec, td, k, b, L) {
    if (!b) {
      if (rec.sig[`bed:${k}`] !== '') {
        rec.sig[`bed:${k}`] = '';
        td.replaceChildren();
        attr(td, 'title', null);
      }
      return;
    }
    const av = available(b);
    const ov = overflow(b);
    const staffed = typeof b.staffed === 'number' ? b.staffed : null;
    const sig = [av, staffed, ov, b.occupied, L].join('|');
    if (rec.sig[`bed:${k}`] === sig) return;
    rec.sig[`bed:${k}`] = sig;
    const label = t(`bed.${k}.long`);
    const staffedText = staffed === null ? '–' : fmt.int(staffed);
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
    td.dataset.available = av === null ? '' : String(av);
  }

  drawUpdated(rec, h, f, now, L) {
    const at = timeMs(h.at);
    const agoText = at ? fmt.ago(at, now) : t('time.never');
    const sig = [f.freshness, agoText, at, L].join('|');
    if (rec.sig.updated === sig) return;
    rec.sig.updated = sig;
    const td = rec.cells.updated;
    td.dataset.fresh = f.freshness;
    const interval = typeof h.report_interval_s === 'number' ? fmt.int(h.report_interval_s / 60) : '?';
    const parts = [];
    if (at) parts.push(el('span', { class: 'ago' }, agoText));
    if (f.freshness !== 'fresh') parts.push(el('span', { class: `fresh-tag fresh-${f.freshness}` }, t(`fresh.${f.freshness}`)));
    fill(td, parts);
    attr(td, 'title', at
      ? t('fresh.title', { time: fmt.dateTime(at), interval, state: t(`fresh.${f.freshness}`) })
      : t('fresh.never_title', { interval }));
  }

  sort() {
    const recs = [...this.rows.values()];
    recs.sort((a, b) => b.level - a.level || this.collator.compare(a.name, b.name) || (a.id < b.id ? -1 : 1));
    const ids = recs.map((r) => r.id);
    if (ids.length === this.order.length && ids.every((id, i) => id === this.order[i])) return;
    // move only rows out of place
    let cursor = this.tbody.firstElementChild;
    for (const r of recs) {
      if (r.tr === cursor) cursor = cursor.nextElementSibling;
      else this.tbody.insertBefore(r.tr, cursor);
    }
    this.order = ids;
  }

  applyFilter() {
    const q = this.filterText;
    let shown = 0;
    for (const rec of this.rows.values()) {
      const hide = q !== '' && !rec.search.includes(q);
      if (rec.tr.hidden !== hide) rec.tr.hidden = hide;
      if (!hide) shown++;
    }
    const total = this.rows.size;
    text(this.count, t('hospitals.count', { shown: fmt.int(shown), total: fmt.int(total) }));
    this.message.hidden = shown !== 0;
    this.message.textContent = shown === 0 ? t('hospitals.empty') : '';
  }
}
