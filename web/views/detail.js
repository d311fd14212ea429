// The detail panel of one hospital: pressure level, ED status with reason
// and expiry (an expired diversion reads normal), occupancy, beds by type
// (free / staffed / occupied, overflow above 100 %, surge within 24 h),
// the 115 ambulances inbound and at the door with the handover median and
// the offload-delayed mark (door.js), the 24 h occupancy trend
// (GET /api/v1/history), the 24-hour outlook of adult ICU, medical-surgical
// and emergency beds (GET /api/v1/outlook: the last 24 hours' line leading
// into a dashed line over its 80 % band, the staffed beds as a threshold), phone, sister hospital,
// specialties, and when the figures were reported, by whom, and whether
// they are late or stale.
//
// Sections are rebuilt only when what they show changes (a signature per
// section); the trend chart is built once and redrawn in place.

import { t, pick, lang } from '../i18n.js';
import * as fmt from '../format.js';
import { BED_TYPES, SERVICES, available, overflow, hospitalFigures, svcEffective, timeMs } from '../derive.js';
import { fetchHistory, fetchOutlook } from '../api.js';
import { el, fill, attr, text } from '../dom.js';
import { TrendChart } from './trend.js';
import { checkText } from '../check_text.js';

const HOURS = 24;
const EMPTY_RETRY_MS = 15000; // an empty or failed answer is asked again this soon
const OUTLOOK_MS = 60000; // the server refreshes it every 5 min at most
// The intensive-care detail (ventilated and ECMO places, free / total) of
// the ICU bed types that report it, or null.
function icuTable(beds, types) {
  const rows = types.filter((k) => beds[k].ventilated || beds[k].ecmo);
  if (!rows.length) return null;
  const cell = (p) => (p
    ? el('td', { class: `num${p.free === 0 ? ' zero' : ''}`, 'aria-label': t('detail.icu_places_label', { free: fmt.int(p.free), total: fmt.int(p.total) }) },
      t('detail.icu_places', { free: fmt.int(p.free), total: fmt.int(p.total) }))
    : el('td', { class: 'num muted' }, '–'));
  return el('table', { class: 'grid detail-table', id: 'detail-icu' },
    el('caption', null, t('detail.icu')),
    el('thead', null, el('tr', null,
      el('th', { scope: 'col' }, t('detail.bed_type')),
      el('th', { scope: 'col', class: 'num', title: t('detail.icu_ventilated_title') }, t('detail.icu_ventilated')),
      el('th', { scope: 'col', class: 'num', title: t('detail.icu_ecmo_title') }, t('detail.icu_ecmo')))),
    el('tbody', null, rows.map((k) => el('tr', { dataset: { bed: k } },
      el('th', { scope: 'row' }, t(`bed.${k}.long`)),
      cell(beds[k].ventilated), cell(beds[k].ecmo)))));
}

const OUTLOOK_TYPES = ['icu_adult', 'medical_surgical', 'emergency'];

export class DetailPanel {
  constructor(root, feed, { onClose, onSelect, historyIntervalS, door }) {
    this.root = root;
    this.feed = feed;
    this.door = door;
    this.onClose = onClose;
    this.onSelect = onSelect;
    this.historyIntervalS = historyIntervalS || 300;
    this.id = null;
    this.sig = {};
    this.history = new Map(); // id -> {ms, result}
    this.outlook = new Map(); // id -> {ms, result}
    this.timer = 0;
    this.build();
  }

  build() {
    this.badge = el('span', { class: 'lvl lvl-0 detail-lvl', 'aria-hidden': 'true' });
    this.title = el('h2', { id: 'detail-title', class: 'detail-title', tabindex: '-1' });
    this.sub = el('p', { class: 'detail-sub' });
    this.closeButton = el('button', { type: 'button', id: 'detail-close', class: 'btn-icon' }, '×');
    this.closeButton.addEventListener('click', () => this.onClose());
    this.status = el('dl', { class: 'detail-facts' });
    this.svcTitle = el('h3', { class: 'detail-h' });
    this.svcs = el('ul', { class: 'svc-list', id: 'detail-services' });
    this.fac = el('p', { class: 'fac-line', id: 'detail-facility', hidden: true });
    this.chk = el('p', { class: 'check-line', id: 'detail-check', hidden: true });
    this.doorTitle = el('h3', { class: 'detail-h' });
    this.doorFacts = el('dl', { class: 'detail-facts', id: 'detail-door' });
    this.bedsTitle = el('h3', { class: 'detail-h' });
    this.beds = el('div', { class: 'detail-beds' });
    this.trendTitle = el('h3', { class: 'detail-h' });
    this.trendNote = el('p', { class: 'trend-note', role: 'status' });
    this.chart = new TrendChart({
      className: 'trend-spark', yTicks: 3, minSpan: 10, floor: 0,
      thresholds: [{ value: 85 }, { value: 95 }, { value: 110 }],
      formatY: (v) => fmt.pct(v), formatX: (ms) => fmt.time(ms), pad: { l: 40, r: 8, t: 8, b: 18 },
    });
    this.outlookTitle = el('h3', { class: 'detail-h' });
    this.outlookNote = el('p', { class: 'outlook-note' });
    this.outlookCharts = OUTLOOK_TYPES.map((type) => {
      const chart = new TrendChart({
        className: 'trend-outlook', yTicks: 3, minSpan: 4, floor: 0, thresholds: [{ value: -1 }],
        formatY: (v) => fmt.int(v), formatX: (ms) => fmt.time(ms), pad: { l: 40, r: 8, t: 8, b: 18 },
      });
      const label = el('h4', { class: 'outlook-type' });
      const note = el('p', { class: 'outlook-note', role: 'status' });
      return { type, chart, label, note, box: el('div', { class: 'outlook-chart', 'data-type': type }, label, chart.root, note) };
    });
    this.contactTitle = el('h3', { class: 'detail-h' });
    this.contact = el('dl', { class: 'detail-facts' });
    this.specTitle = el('h3', { class: 'detail-h' });
    this.specs = el('ul', { class: 'chips' });
    this.body = el('div', { class: 'detail-body' },
      this.status,
      el('section', null, this.svcTitle, this.chk, this.fac, this.svcs),
      el('section', null, this.doorTitle, this.doorFacts),
      el('section', null, this.bedsTitle, this.beds),
      el('section', { class: 'detail-trend' }, this.trendTitle, this.chart.root, this.trendNote),
      el('section', { class: 'detail-outlook', id: 'detail-outlook' }, this.outlookTitle,
        el('div', { class: 'outlook-charts' }, this.outlookCharts.map((x) => x.box)), this.outlookNote),
      el('section', null, this.contactTitle, this.contact),
      el('section', null, this.specTitle, this.specs));
    fill(this.root,
      el('div', { class: 'detail-head' }, this.badge, el('div', { class: 'detail-names' }, this.title, this.sub), this.closeButton),
      this.body);
    this.root.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        this.onClose();
      }
    });
  }

  get isOpen() {
    return this.id !== null;
  }

  open(id) {
    if (this.id !== id) {
      this.id = id;
      this.sig = {};
      this.showHistory();
      this.loadHistory(false);
      this.showOutlook();
      this.loadOutlook();
    }
    this.root.hidden = false;
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      this.loadHistory(false);
      this.loadOutlook();
    }, Math.min(EMPTY_RETRY_MS, this.historyIntervalS * 1000));
    this.render({ full: true, lang: false, clock: false, hospitals: new Set(), now: this.feed.serverNow() });
  }

  close() {
    this.id = null;
    this.root.hidden = true;
    clearInterval(this.timer);
    this.timer = 0;
  }

  setHistoryInterval(s) {
    this.historyIntervalS = s;
  }

  // -- history ------------------------------------------------------------------

  async loadHistory(force) {
    const id = this.id;
    if (!id) return;
    const cached = this.history.get(id);
    const good = cached && cached.result.ok && cached.result.data.points.length > 0;
    const maxAge = good ? this.historyIntervalS * 1000 : Math.min(EMPTY_RETRY_MS, this.historyIntervalS * 1000);
    if (!force && cached && Date.now() - cached.ms < maxAge) {
      this.showHistory();
      return;
    }
    if (!cached) this.showHistory();
    const result = await fetchHistory(id, HOURS);
    this.history.set(id, { ms: Date.now(), result });
    // bounded cache: a dispatcher opens many hospitals over a shift
    if (this.history.size > 40) this.history.delete(this.history.keys().next().value);
    if (this.id === id) this.showHistory();
  }

  // -- outlook ------------------------------------------------------------------

  async loadOutlook() {
    const id = this.id;
    if (!id) return;
    const cached = this.outlook.get(id);
    if (cached && Date.now() - cached.ms < (cached.result.ok ? OUTLOOK_MS : EMPTY_RETRY_MS)) return;
    const result = await fetchOutlook(id);
    this.outlook.set(id, { ms: Date.now(), result });
    if (this.outlook.size > 40) this.outlook.delete(this.outlook.keys().next().value);
    if (this.id === id) this.showOutlook();
  }

  showOutlook() {
    const entry = this.outlook.get(this.id);
    text(this.outlookTitle, t('detail.outlook'));
    const r = entry && entry.result;
    const beds = r && r.ok ? OUTLOOK_TYPES.filter((type) => r.data.beds[type]) : [];
    this.root.dataset.outlook = !r ? 'loading' : r.ok ? 'shown' : 'error';
    text(this.outlookNote, beds.some((type) => r.data.beds[type].status === 'ok') ? t('outlook.legend') : '');
    this.outlookCharts.forEach((x, i) => {
      const b = beds.length ? r.data.beds[x.type] : null;
      x.box.hidden = beds.length ? !b : i > 0; // a message shows in the first
      x.box.dataset.status = b ? b.status : '';
      text(x.label, b ? t(`bed.${x.type}.long`) : '');
      x.chart.setData(null);
      x.chart.setForecast(null);
      text(x.note, '');
      if (!b) {
        x.chart.setMessage(t(!r ? 'outlook.loading' : r.ok ? 'outlook.none' : 'outlook.error'));
        return;
      }
      if (b.status !== 'ok') {
        x.chart.setMessage(t('outlook.insufficient', { n: fmt.int(b.hours_known), need: fmt.int(b.hours_needed) }));
        x.chart.setLabel(`${t(`bed.${x.type}.long`)}: ${t('outlook.insufficient', { n: fmt.int(b.hours_known), need: fmt.int(b.hours_needed) })}`);
        return;
      }
      x.chart.setMessage('');
      x.chart.o.thresholds[0].value = typeof b.staffed === 'number' ? b.staffed : -1;
      x.chart.setThresholdLabels([t('outlook.staffed')]);
      const pts = b.points;
      // the last 24 hours of the same bed type lead into the forecast
      const recent = b.recent || [];
      const fromMs = r.data.asOfMs !== null ? r.data.asOfMs - 23 * 3600e3 : recent.length ? recent[0].ms : null;
      x.chart.setData({ points: recent, fromMs, toMs: pts.length ? pts[pts.length - 1].ms : null, intervalS: 3600 });
      x.chart.setForecast(pts);
      const note = b.full_within_h ? t('outlook.full_in', { n: fmt.int(b.full_within_h) }) : t('outlook.not_full');
      text(x.note, note);
      x.chart.setLabel(`${t(`bed.${x.type}.long`)}: ${note}`);
    });
  }

  showHistory() {
    const entry = this.history.get(this.id);
    text(this.trendTitle, t('detail.trend', { hours: HOURS }));
    if (!entry) {
      this.chart.setData(null);
      this.chart.setMessage(t('history.loading'));
      text(this.trendNote, '');
      this.root.dataset.history = 'loading';
      return;
    }
    const r = entry.result;
    this.root.dataset.history = r.ok ? 'shown' : 'error';
    if (!r.ok) {
      this.chart.setData(null);
      this.chart.setMessage(t(r.error === 'unknown_series' ? 'history.unknown' : 'history.error'));
      text(this.trendNote, '');
      return;
    }
    const points = r.data.points.map((p) => ({ ms: p.ms, v: typeof p.occupancy_pct === 'number' ? p.occupancy_pct : null }));
    const known = points.filter((p) => p.v !== null);
    this.chart.setData(Object.assign({}, r.data, { points }));
    this.chart.setMessage(known.length ? '' : t('history.empty'));
    const cfg = (this.feed.meta && this.feed.meta.pressure) || { level2_pct: 85, level3_pct: 95, level4_pct: 110 };
    this.chart.o.thresholds[0].value = cfg.level2_pct;
    this.chart.o.thresholds[1].value = cfg.level3_pct;
    this.chart.o.thresholds[2].value = cfg.level4_pct;
    this.chart.setThresholdLabels([2, 3, 4].map((n) => t('trend.threshold', { n })));
    if (known.length) {
      const vs = known.map((p) => p.v);
      const summary = t('trend.summary', {
        min: fmt.pct(Math.min(...vs)), max: fmt.pct(Math.max(...vs)), last: fmt.pct(vs[vs.length - 1]),
        time: fmt.time(known[known.length - 1].ms),
      });
      text(this.trendNote, summary);
      this.chart.setLabel(`${t('detail.trend', { hours: HOURS })}: ${summary}`);
    } else {
      text(this.trendNote, '');
      this.chart.setLabel(t('history.empty'));
    }
  }

  // -- rendering ------------------------------------------------------------------

  render(frame) {
    if (!this.id) return;
    const h = this.feed.hospitals.get(this.id);
    if (!h) {
      this.onClose();
      return;
    }
    if (!(frame.full || frame.lang || frame.clock || frame.hospitals.has(this.id) || (frame.door && frame.door.has(this.id)))) return;
    const now = frame.now;
    const L = lang();
    const cfg = this.feed.meta && this.feed.meta.pressure;
    const f = hospitalFigures(h, cfg, now);
    const name = pick(h.name) || h.id;
    const districts = (this.feed.meta && this.feed.meta.districts) || {};
    const district = districts[h.district] ? pick(districts[h.district]) : h.district || '';
    const never = f.freshness === 'never';
    const set = (key, sig, draw) => {
      if (this.sig[key] === sig) return;
      this.sig[key] = sig;
      draw();
    };

    set('head', [name, district, h.tier, f.level, never, L].join('|'), () => {
      text(this.title, name);
      text(this.sub, [h.tier ? t(`tier.${h.tier}`) : '', district].filter(Boolean).join(' · '));
      this.badge.className = `lvl lvl-${never ? 0 : f.level} detail-lvl`;
      text(this.badge, never ? '–' : String(f.level));
      attr(this.closeButton, 'aria-label', t('detail.close'));
      attr(this.closeButton, 'title', t('detail.close'));
      attr(this.root, 'aria-label', t('detail.label', { name }));
      this.root.dataset.id = h.id;
    });
    if (frame.lang) {
      this.showHistory();
      this.showOutlook();
    }

    // status facts
    const ed = h.ed || {};
    const live = f.ed === ed.status;
    const reason = live && f.ed !== 'normal' && ed.reason ? ed.reason : '';
    const until = live && f.ed !== 'normal' ? timeMs(ed.until) : 0;
    const at = timeMs(h.at);
    const agoText = at ? fmt.ago(at, now) : '';
    const untilLeft = until ? fmt.until(until, now) : '';
    const occ = f.occupancyPct;
    set('status', [f.level, f.ed, reason, until, untilLeft, ed.waiting, occ === null ? '' : Math.floor(occ),
      f.totals.occupied, f.totals.staffed, f.freshness, agoText, h.source, h.report_interval_s, L].join('|'), () => {
      const row = (label, ...value) => [el('dt', null, label), el('dd', null, ...value)];
      const rows = [];
      rows.push(row(t('col.level'), never
        ? el('span', { class: 'unknown' }, t('fresh.never'))
        : el('span', { class: `level-text level-${f.level}` }, t('level.title', { n: f.level, label: t(`level.${f.level}`) }))));
      const edParts = [el('span', { class: `ed ed-${f.ed}`, id: 'detail-ed' }, t(`ed.${f.ed}`))];
      if (until) {
        edParts.push(el('span', { class: 'ed-until' }, t('detail.until', { time: fmt.shortDateTime(until, now), left: untilLeft })));
      }
      if (live && typeof ed.waiting === 'number') edParts.push(el('span', { class: 'ed-wait' }, t('ed.waiting_title', { n: fmt.int(ed.waiting) })));
      if (reason) edParts.push(el('span', { class: 'ed-reason-full', dataset: { freeText: '' } }, reason));
      rows.push(row(t('col.ed'), ...edParts.flatMap((x, i) => (i ? [' ', x] : [x]))));
      rows.push(row(t('col.occupancy'), occ === null
        ? el('span', { class: 'unknown' }, '–')
        : el('span', null, el('strong', null, fmt.pct(occ)), ' ',
          el('span', { class: 'muted' }, t('detail.occ_of', { occupied: fmt.int(f.totals.occupied), staffed: fmt.int(f.totals.staffed) })))));
      const interval = typeof h.report_interval_s === 'number' ? fmt.int(h.report_interval_s / 60) : '?';
      const upd = [];
      if (at) {
        upd.push(el('time', { datetime: new Date(at).toISOString(), id: 'detail-updated' }, fmt.shortDateTime(at, now)), ` (${agoText})`);
      }
      if (f.freshness !== 'fresh') {
        upd.push(' ', el('span', { class: `fresh-tag fresh-${f.freshness}`, id: 'detail-fresh' },
          f.freshness === 'stale' ? el('span', { class: 'fresh-icon', 'aria-hidden': 'true' }, '!') : null, t(`fresh.${f.freshness}`)));
      }
      upd.push(el('span', { class: 'detail-note' }, t('detail.interval', { n: interval })));
      rows.push(row(t('detail.updated'), ...upd));
      if (h.source) rows.push(row(t('detail.source'), el('code', { class: 'source', id: 'detail-source' }, h.source)));
      fill(this.status, rows);
      this.root.dataset.fresh = f.freshness;
      this.root.dataset.ed = f.ed;
      this.root.dataset.level = String(f.level);
    });

    // services (CT, cath lab, ...): each with its status, reason and expiry
    const svcs = SERVICES.filter((k) => h.services && h.services[k]).map((k) => {
      const s = h.services[k];
      const eff = svcEffective(s, now);
      const live = eff === s.status && eff !== 'available';
      const until = live ? timeMs(s.until) : 0;
      return { k, eff, reason: live ? s.reason || '' : '', until, left: until ? fmt.until(until, now) : '' };
    });
    set('svcs', [JSON.stringify(svcs), L].join('|'), () => {
      text(this.svcTitle, t('detail.services'));
      fill(this.svcs, svcs.length ? svcs.map((x) => el('li', { class: `svc svc-${x.eff}`, dataset: { svc: x.k, status: x.eff } },
        el('span', { class: 'svc-name' }, t(`svc.${x.k}`)), ' ',
        el('span', { class: 'svc-status' }, t(`svcs.${x.eff}`)),
        x.until ? el('span', { class: 'svc-until muted' }, ' ', t('detail.until', { time: fmt.shortDateTime(x.until, now), left: x.left })) : null,
        x.reason ? el('span', { class: 'svc-reason', dataset: { freeText: '' } }, ' — ', x.reason) : null))
        : el('li', { class: 'unknown' }, t('detail.none')));
    });

    // the facility: its status and reason, power, oxygen, water (when told)
    const fac = h.facility || {};
    const utils = ['power', 'oxygen', 'water'].filter((u) => fac[u]);
    set('fac', [f.facility, fac.reason, utils.map((u) => fac[u]).join(','), L].join('|'), () => {
      this.fac.hidden = f.facility === 'normal' && !utils.length;
      this.fac.dataset.facility = f.facility;
      fill(this.fac, el('span', { class: `fac fac-${f.facility}` }, `${t('fac.label')}: ${t(`fac.${f.facility}`)}`),
        fac.reason && f.facility !== 'normal' ? el('span', { class: 'fac-reason', dataset: { freeText: '' } }, ` — ${fac.reason}`) : null,
        utils.length ? el('span', { class: 'fac-utils muted' }, ` · ${utils.map((u) => `${t(`fac.${u}`)}: ${t(`fac.${u}_${fac[u]}`)}`).join(' · ')}`) : null);
    });

    // a plausibility check: the report was applied but looks odd
    const chk = checkText(h.check);
    set('chk', [chk, L].join('|'), () => {
      this.chk.hidden = !chk;
      this.chk.dataset.rule = h.check ? h.check.rule : '';
      fill(this.chk, chk ? [el('span', { class: 'check-badge' }, t('check.label')), ` ${chk}`] : null);
    });

    const door = this.door.get(h.id);
    set('door', [JSON.stringify(door), L].join('|'), () => this.drawDoor(door));

    set('beds', [JSON.stringify(h.beds || {}), f.freshness, L].join('|'), () => {
      text(this.bedsTitle, t('detail.beds'));
      const order = (this.feed.meta && this.feed.meta.bed_types) || BED_TYPES;
      const types = order.filter((k) => h.beds && h.beds[k]);
      if (!types.length) {
        fill(this.beds, el('p', { class: 'muted' }, t('detail.no_beds')));
        return;
      }
      const num = (v) => (typeof v === 'number' ? fmt.int(v) : '–');
      const thead = el('thead', null, el('tr', null,
        el('th', { scope: 'col' }, t('detail.bed_type')),
        el('th', { scope: 'col', class: 'num' }, t('detail.free')),
        el('th', { scope: 'col', class: 'num' }, t('detail.staffed')),
        el('th', { scope: 'col', class: 'num' }, t('detail.occupied')),
        el('th', { scope: 'col', class: 'num', title: t('detail.surge_title') }, t('detail.surge'))));
      const tbody = el('tbody', null, types.map((k) => {
        const b = h.beds[k];
        const av = available(b);
        const ov = overflow(b);
        return el('tr', { dataset: { bed: k } },
          el('th', { scope: 'row' }, t(`bed.${k}.long`)),
          el('td', { class: `num avail${av === 0 ? ' zero' : ''}` }, av === null ? '–' : fmt.int(av)),
          el('td', { class: 'num' }, num(b.staffed)),
          el('td', { class: 'num' }, num(b.occupied),
            ov > 0 ? el('span', { class: 'over', title: t('beds.overflow_title', { n: fmt.int(ov) }) }, `+${fmt.int(ov)}`) : null),
          el('td', { class: 'num muted' }, typeof b.surge24 === 'number' ? `+${fmt.int(b.surge24)}` : '–'));
      }));
      fill(this.beds, el('table', { class: 'grid detail-table', id: 'detail-beds' },
        el('caption', { class: 'sr-only' }, t('detail.beds')), thead, tbody), icuTable(h.beds, types));
      this.beds.classList.toggle('is-stale', f.freshness === 'stale' || never);
    });

    const sisterId = h.sister;
    const sister = sisterId ? this.feed.hospitals.get(sisterId) : null;
    const partners = [...this.feed.hospitals.values()].filter((x) => x.sister === h.id);
    set('contact', [h.phone, sisterId, sister && pick(sister.name), partners.map((x) => x.id).join(','), L].join('|'), () => {
      text(this.contactTitle, t('detail.contact'));
      const link = (x) => {
        const b = el('button', { type: 'button', class: 'link', dataset: { id: x.id } }, pick(x.name) || x.id);
        b.addEventListener('click', () => this.onSelect(x.id));
        return b;
      };
      const rows = [];
      rows.push(el('dt', null, t('detail.phone')), el('dd', null, h.phone
        ? el('a', { href: `tel:${h.phone.replace(/[^0-9+]/g, '')}`, id: 'detail-phone' }, h.phone)
        : el('span', { class: 'unknown' }, t('detail.none'))));
      rows.push(el('dt', null, t('detail.sister')), el('dd', { id: 'detail-sister' }, sister
        ? link(sister) : sisterId ? sisterId : el('span', { class: 'unknown' }, t('detail.none'))));
      if (partners.length) {
        rows.push(el('dt', null, t('detail.partners')), el('dd', { class: 'partners' },
          partners.map((x) => el('span', { class: 'partner' }, link(x)))));
      }
      fill(this.contact, rows);
    });

    set('specs', [(h.specialties || []).join(','), L].join('|'), () => {
      text(this.specTitle, t('detail.specialties'));
      const specs = h.specialties || [];
      fill(this.specs, specs.length
        ? specs.map((s) => el('li', { class: 'chip' }, t(`spec.${s}`)))
        : el('li', { class: 'unknown' }, t('detail.none')));
    });
  }

  // Inbound, at the door (longest wait), handover median, offload.
  drawDoor(d) {
    text(this.doorTitle, t('door.heading'));
    const row = (label, ...value) => [el('dt', null, label), el('dd', null, ...value)];
    const num = (n, id) => el('strong', { id, class: n ? 'door-n' : 'door-n zero' }, fmt.int(n));
    const loading = el('span', { class: 'unknown' }, t('door.unknown'));
    const longest = d.longestWaitMin !== null ? el('span', { class: 'muted' }, ` (${t('door.longest', { n: fmt.int(Math.round(d.longestWaitMin)) })})`) : null;
    // each one on its way, with its ETA: "115-HK-07 ~8 min"
    const etas = d.units.length ? el('span', { class: 'muted', id: 'detail-inbound-units' }, ` (${d.units.map((u) =>
      (typeof u.eta_min === 'number' ? t('door.unit_eta', { unit: u.id, n: fmt.int(Math.max(1, Math.round(u.eta_min))) }) : u.id)).join(', ')})`) : null;
    fill(this.doorFacts,
      row(t('door.inbound'), num(d.inbound, 'detail-inbound'), etas),
      row(t('door.waiting'), num(d.waiting, 'detail-waiting'), longest),
      row(t('door.median'), !d.known ? loading : d.medianMin === null
        ? el('span', { class: 'unknown' }, t('door.median_none'))
        : t('door.median_value', { n: fmt.int(Math.round(d.medianMin)), count: fmt.int(d.handovers) })),
      row(t('door.offload'), !d.known ? loading.cloneNode(true) : el('span', {
        id: 'detail-offload', class: d.delayed ? 'offload offload-delayed' : 'offload', dataset: { offload: d.delayed ? 'delayed' : 'normal' },
      }, d.delayed ? el('span', { class: 'fresh-icon', 'aria-hidden': 'true' }, '!') : null,
      t(d.delayed ? 'door.offload_delayed' : 'door.offload_normal'))));
    this.root.dataset.inbound = String(d.inbound);
  }
}
