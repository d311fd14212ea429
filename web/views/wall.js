// The wall display (/wall): leadership's unattended, dark, read-from-5-m
// board. City totals per bed type, hospitals by pressure level (counts and
// the names at levels 4 and 3), current ED diversions and closures with
// reason and expiry, the fleet by status, the 24 h trends of city
// occupancy and free adult ICU beds, a clock, and a full-width banner when
// its own data is stale or the connection is lost.
//
// It runs for days, so every node is made once, in build(): lists are
// fixed pools of slots (hidden when unused, "+N more" for the rest) and
// every text is one text node whose .data changes. The DOM node count
// stays flat however many events arrive (a test counts them), and nothing
// accumulates in JS either.
//
// The alert ticker in the header shows the active alerts (never an
// incident's: the server leaves them out for walls, and so does the view)
// one at a time, not acknowledged and newest first, each for TICKER_MS, in
// the same few nodes; "no active alerts" when there are none. A group of
// alerts that started together is one item ("21 hospitals at pressure
// level 4"); a rule muted by a dispatcher says so.

import { t, pick, lang } from '../i18n.js';
import * as fmt from '../format.js';
import {
  BED_TYPES, AMBULANCE_STATUSES, FMS, AMBULANCE_GROUPS, cityTotals, cityInpatient, hospitalFigures, timeMs,
  occupancyPct, DEFAULT_PRESSURE,
} from '../derive.js';
import { el, textNode, data, attr } from '../dom.js';
import { TrendChart } from './trend.js';
import { bannerMessage, refusal } from './status.js';
import { alertText, alertSince, orderAlerts } from '../alert_text.js';

const FACILITY_SLOTS = 4; // facility problems listed under the diversions
const NAME_SLOTS = 8; // names listed per level (4 and 3); the rest as "+N"
const DIVERSION_SLOTS = 6;
const TICKER_MS = 8000; // each alert on the ticker this long

// A text element whose text node is kept: el + its node.
function tx(tag, props) {
  const e = el(tag, props);
  return { el: e, node: textNode(e) };
}

function show(e, on) {
  if (e.hidden === on) e.hidden = !on;
}

export class WallView {
  constructor(root, feed) {
    this.root = root;
    this.feed = feed;
    this.build();
  }

  build() {
    // alert ticker, in the header's middle (the subtitle gives way to it)
    const tk = {
      label: tx('span', { class: 'w-tk-label' }), pos: tx('span', { class: 'w-tk-pos' }), mark: tx('span', { class: 'w-tk-mark', 'aria-hidden': 'true' }),
      text: tx('div', { class: 'w-tk-text' }), since: tx('span', { class: 'w-tk-since' }), state: tx('span', { class: 'w-tk-state' }),
    };
    tk.item = el('div', { class: 'w-tk-item', id: 'w-ticker-item' }, tk.text.el);
    tk.el = el('section', { class: 'w-ticker', id: 'w-ticker', hidden: true, dataset: { count: '0', state: 'none' } },
      el('div', { class: 'w-tk-head' }, el('div', { class: 'w-tk-top' }, tk.mark.el, tk.label.el, tk.pos.el), tk.since.el, tk.state.el), tk.item);
    this.ticker = tk;

    // header
    this.h = {
      title: tx('h1', { class: 'w-title' }),
      sub: tx('span', { class: 'w-sub' }),
      connText: tx('span', { class: 'w-conn-text' }),
      time: tx('time', { class: 'w-time', id: 'w-clock' }),
      date: tx('span', { class: 'w-date' }),
      zone: tx('span', { class: 'w-zone' }),
      asOfLabel: tx('span', { class: 'w-asof-label' }),
      asOf: tx('span', { class: 'w-asof-value' }),
    };
    this.conn = el('div', { class: 'w-conn', id: 'w-conn', dataset: { state: 'connecting' } },
      el('span', { class: 'w-conn-dot', 'aria-hidden': 'true' }), this.h.connText.el);
    const head = el('header', { class: 'w-head' },
      el('div', { class: 'w-brand' }, el('span', { class: 'brand-mark', 'aria-hidden': 'true' }), this.h.title.el, this.h.sub.el),
      this.ticker.el,
      el('div', { class: 'w-status' }, this.conn,
        el('div', { class: 'w-asof' }, this.h.asOfLabel.el, ' ', this.h.asOf.el)),
      el('div', { class: 'w-clockbox' }, this.h.time.el, el('div', { class: 'w-dateline' }, this.h.date.el, ' · ', this.h.zone.el)));

    // banner
    this.bannerText = tx('p', { class: 'w-banner-text' });
    this.banner = el('div', { class: 'w-banner', id: 'wall-banner', role: 'alert', hidden: true },
      el('span', { class: 'w-banner-icon', 'aria-hidden': 'true' }, '!'), this.bannerText.el);

    // KPIs
    this.kpis = {};
    const kpi = (key) => {
      const k = { label: tx('div', { class: 'w-kpi-label' }), value: tx('span', { class: 'w-kpi-value' }),
        of: tx('span', { class: 'w-kpi-of' }), sub: tx('div', { class: 'w-kpi-sub' }) };
      k.el = el('div', { class: 'w-kpi', id: `w-kpi-${key}`, dataset: { kpi: key } },
        k.label.el, el('div', { class: 'w-kpi-main' }, k.value.el, k.of.el), k.sub.el);
      this.kpis[key] = k;
      return k.el;
    };
    const kpiRow = el('section', { class: 'w-kpis', 'aria-label': '' },
      ['occupancy', 'free', 'icu', 'ed', 'amb', 'reporting'].map(kpi));
    this.kpiRow = kpiRow;

    // beds by type
    this.bedsTitle = tx('h2', { class: 'w-h' });
    this.bedHead = ['type', 'free', 'staffed', 'occ'].map((k) => tx('th', { scope: 'col', class: `w-bh-${k}` }));
    this.bedRows = new Map();
    const tbody = el('tbody');
    for (const k of BED_TYPES) {
      const r = { name: tx('th', { scope: 'row' }), free: tx('span', { class: 'w-free' }), over: tx('span', { class: 'w-over' }),
        staffed: tx('td', { class: 'num' }), occ: tx('span', { class: 'w-occ-num' }) };
      r.tr = el('tr', { dataset: { bed: k } }, r.name.el, el('td', { class: 'num w-free-cell' }, r.free.el, r.over.el),
        r.staffed.el, el('td', { class: 'w-occ-cell' }, r.occ.el));
      tbody.append(r.tr);
      this.bedRows.set(k, r);
    }
    const beds = el('section', { class: 'w-card w-beds' }, this.bedsTitle.el,
      el('table', { class: 'w-table', id: 'w-beds' }, el('thead', null, el('tr', null, this.bedHead.map((x) => x.el))), tbody));

    // pressure levels
    this.levelsTitle = tx('h2', { class: 'w-h' });
    this.levelTiles = [4, 3, 2, 1].map((n) => {
      const x = { n, count: tx('span', { class: 'w-lvl-count' }), label: tx('span', { class: 'w-lvl-label' }) };
      x.el = el('div', { class: `w-lvl w-lvl-${n}`, dataset: { level: String(n) } },
        el('span', { class: 'w-lvl-num', 'aria-hidden': 'true' }, String(n)), x.count.el, x.label.el);
      return x;
    });
    this.nameLists = [4, 3].map((n) => {
      const x = { n, title: tx('h3', { class: 'w-names-title' }), more: tx('li', { class: 'w-more' }), slots: [] };
      const ul = el('ul', { class: 'w-names', id: `w-names-${n}` });
      for (let i = 0; i < NAME_SLOTS; i++) {
        const s = { name: tx('span', { class: 'w-name' }), tag: tx('span', { class: 'w-tag' }) };
        s.el = el('li', { hidden: true }, s.name.el, s.tag.el);
        ul.append(s.el);
        x.slots.push(s);
      }
      ul.append(x.more.el);
      x.el = el('div', { class: `w-namebox w-namebox-${n}` }, x.title.el, ul);
      return x;
    });
    const levels = el('section', { class: 'w-card w-levels' }, this.levelsTitle.el,
      el('div', { class: 'w-lvl-tiles' }, this.levelTiles.map((x) => x.el)),
      this.nameLists.map((x) => x.el));

    // diversions
    this.divTitle = tx('h2', { class: 'w-h' });
    this.divEmpty = tx('p', { class: 'w-empty' });
    this.divMore = tx('li', { class: 'w-more' });
    this.divSlots = [];
    const divList = el('ul', { class: 'w-div-list', id: 'w-diversions' });
    for (let i = 0; i < DIVERSION_SLOTS; i++) {
      const s = { status: tx('span', { class: 'ed' }), name: tx('span', { class: 'w-div-name' }), tag: tx('span', { class: 'w-tag' }),
        reason: tx('span', { class: 'w-div-reason' }), until: tx('span', { class: 'w-div-until' }) };
      s.el = el('li', { class: 'w-div', hidden: true },
        el('div', { class: 'w-div-top' }, s.status.el, s.name.el, s.tag.el),
        el('div', { class: 'w-div-bottom' }, s.reason.el, s.until.el));
      divList.append(s.el);
      this.divSlots.push(s);
    }
    divList.append(this.divMore.el);
    // facility problems (compromised, evacuating, closed), under the diversions
    this.facTitle = tx('h3', { class: 'w-fac-h' });
    this.facSlots = [];
    const facList = el('ul', { class: 'w-div-list', id: 'w-facility' });
    for (let i = 0; i < FACILITY_SLOTS; i++) {
      const s = { status: tx('span', { class: 'fac' }), name: tx('span', { class: 'w-div-name' }), reason: tx('span', { class: 'w-div-reason' }) };
      s.el = el('li', { class: 'w-div', hidden: true }, el('div', { class: 'w-div-top' }, s.status.el, s.name.el),
        el('div', { class: 'w-div-bottom' }, s.reason.el));
      facList.append(s.el);
      this.facSlots.push(s);
    }
    this.facBox = el('div', { class: 'w-fac', hidden: true }, this.facTitle.el, facList);
    const diversions = el('section', { class: 'w-card w-diversions' }, this.divTitle.el, divList, this.divEmpty.el, this.facBox);

    // ambulances
    this.ambTitle = tx('h2', { class: 'w-h' });
    this.ambRows = new Map();
    const ambList = el('ul', { class: 'w-amb-list', id: 'w-amb' });
    for (const st of AMBULANCE_STATUSES) {
      const r = { label: tx('span', { class: 'w-amb-label' }), count: tx('span', { class: 'w-amb-count' }), fill: el('span', { class: 'w-bar-fill' }) };
      r.el = el('li', { dataset: { status: st, group: AMBULANCE_GROUPS[st] } },
        el('span', { class: 'w-fms', 'aria-hidden': 'true' }, String(FMS[st])), r.label.el, r.count.el,
        el('span', { class: 'w-bar', 'aria-hidden': 'true' }, r.fill));
      ambList.append(r.el);
      this.ambRows.set(st, r);
    }
    const amb = el('section', { class: 'w-card w-ambulances' }, this.ambTitle.el, ambList);

    // trends
    this.trends = [
      { key: 'occupancy', chart: new TrendChart({
        className: 'w-trend', yTicks: 4, minSpan: 10, floor: 0, thresholds: [{ value: 85 }, { value: 95 }, { value: 110 }],
        formatY: (v) => fmt.pct(v), formatX: (ms) => fmt.time(ms), padEm: { l: 3.6, r: 0.6, t: 0.6, b: 1.5 },
      }), pick: (p) => p.occupancy_pct },
      { key: 'icu', chart: new TrendChart({
        className: 'w-trend', yTicks: 4, minSpan: 10, floor: 0,
        formatY: (v) => fmt.int(v), formatX: (ms) => fmt.time(ms), padEm: { l: 3.6, r: 0.6, t: 0.6, b: 1.5 },
      }), pick: (p) => p.icu_adult_available },
    ];
    for (const x of this.trends) {
      x.title = tx('h2', { class: 'w-h' });
      x.now = tx('span', { class: 'w-trend-now' });
      x.el = el('section', { class: 'w-card w-trendbox', id: `w-trend-${x.key}` },
        el('div', { class: 'w-trend-head' }, x.title.el, x.now.el), x.chart.root);
    }
    this.history = null; // last answer of /api/v1/history?series=city
    this.outlook = null; // last answer of /api/v1/outlook (the city)


    this.body = el('div', { class: 'w-body' }, kpiRow,
      el('div', { class: 'w-grid' }, beds, levels, diversions),
      el('div', { class: 'w-trends' }, this.trends.map((x) => x.el), amb));
    this.root.replaceChildren(head, this.banner, this.body);
  }

  // The last answer for the city series (or a failure).
  setHistory(result) {
    this.history = result;
    this.drawTrends();
    this.root.dataset.history = result.ok ? 'shown' : 'error';
  }

  // The last good answer of the city's outlook: free adult ICU beds over the
  // next 24 hours continue the ICU trend as a dashed line over its band.
  setOutlook(result) {
    if (result.ok) this.outlook = result;
    this.drawTrends();
  }

  // Free adult ICU beds expected (staffed - occupied; the band turned over).
  icuForecast() {
    const b = this.outlook && this.outlook.data.beds.icu_adult;
    if (!b || b.status !== 'ok' || typeof b.staffed !== 'number') return null;
    const free = (v) => Math.max(0, b.staffed - v);
    return b.points.map((p) => ({ ms: p.ms, v: free(p.v), lo: free(p.hi), hi: free(p.lo) }));
  }

  drawTrends() {
    const r = this.history;
    const cfg = (this.feed.meta && this.feed.meta.pressure) || { level2_pct: 85, level3_pct: 95, level4_pct: 110 };
    const th = this.trends[0].chart.o.thresholds;
    th[0].value = cfg.level2_pct;
    th[1].value = cfg.level3_pct;
    th[2].value = cfg.level4_pct;
    this.trends[0].chart.setThresholdLabels([2, 3, 4].map((n) => t('trend.threshold', { n })));
    for (const x of this.trends) {
      if (!r) {
        x.chart.setMessage(t('history.loading'));
        continue;
      }
      if (!r.ok) {
        x.chart.setData(null);
        x.chart.setMessage(t('history.error'));
        continue;
      }
      const points = r.data.points.map((p) => ({ ms: p.ms, v: typeof x.pick(p) === 'number' ? x.pick(p) : null }));
      const forecast = x.key === 'icu' ? this.icuForecast() : null;
      x.chart.setData({ points, fromMs: r.data.fromMs, toMs: r.data.toMs, intervalS: r.data.intervalS });
      x.chart.setForecast(forecast);
      x.el.dataset.forecast = forecast ? 'shown' : 'none';
      const known = points.filter((p) => p.v !== null);
      x.chart.setMessage(known.length ? '' : t('history.empty'));
      x.chart.setLabel(known.length ? `${t(`wall.trend_${x.key}`)}${forecast ? ` (${t('wall.icu_forecast')})` : ''}: ${t('trend.summary', {
        min: x.key === 'occupancy' ? fmt.pct(Math.min(...known.map((p) => p.v))) : fmt.int(Math.min(...known.map((p) => p.v))),
        max: x.key === 'occupancy' ? fmt.pct(Math.max(...known.map((p) => p.v))) : fmt.int(Math.max(...known.map((p) => p.v))),
        last: x.key === 'occupancy' ? fmt.pct(known[known.length - 1].v) : fmt.int(known[known.length - 1].v),
        time: fmt.time(known[known.length - 1].ms),
      })}` : t('history.empty'));
    }
  }

  // frame: {full, lang, clock, hospitals, ambulances, now}
  render(frame) {
    const now = frame.now;
    const feed = this.feed;
    if (frame.lang) this.renderChrome();
    this.renderStatus(now);
    this.renderTicker(now);
    if (!feed.hasState) return;
    this.root.dataset.offset = String(feed.offset);
    const cfg = feed.meta && feed.meta.pressure;
    const P = cfg || DEFAULT_PRESSURE;
    const hospitals = [...feed.hospitals.values()];
    const figs = hospitals.map((h) => ({ h, f: hospitalFigures(h, cfg, now) }));

    // KPIs
    const city = cityInpatient(hospitals);
    const pct = occupancyPct(city);
    const byType = cityTotals(hospitals, BED_TYPES);
    const icu = byType.icu_adult;
    let reporting = 0;
    let stale = 0;
    let late = 0;
    let diverting = 0;
    const levels = [0, 0, 0, 0, 0];
    for (const { f } of figs) {
      if (f.freshness === 'never') continue;
      reporting++;
      if (f.freshness === 'stale') stale++;
      if (f.freshness === 'late') late++;
      levels[f.level]++;
      if (f.ed === 'diversion' || f.ed === 'closed') diverting++;
    }
    let freeAmb = 0;
    for (const a of feed.ambulances.values()) if (AMBULANCE_GROUPS[a.status] === 'free') freeAmb++;
    const k = this.kpis;
    this.setKpi(k.occupancy, pct === null ? '–' : fmt.pct(pct), '',
      t('wall.kpi_occupancy_sub', { occupied: fmt.int(city.occupied), staffed: fmt.int(city.staffed) }),
      pct === null ? 0 : pct >= P.level4_pct ? 4 : pct >= P.level3_pct ? 3 : pct >= P.level2_pct ? 2 : 1);
    this.setKpi(k.free, fmt.int(city.available), '', city.overflow > 0 ? t('wall.kpi_overflow', { n: fmt.int(city.overflow) }) : t('wall.kpi_free_sub'), 0);
    this.setKpi(k.icu, fmt.int(icu.available), `/${fmt.int(icu.staffed)}`,
      [t('wall.kpi_icu_sub', { n: fmt.int(icu.hospitals) }),
        icu.ventilated.hospitals ? t('wall.kpi_icu_vent', { free: fmt.int(icu.ventilated.free), total: fmt.int(icu.ventilated.total) }) : null,
        icu.ecmo.hospitals ? t('wall.kpi_icu_ecmo', { free: fmt.int(icu.ecmo.free), total: fmt.int(icu.ecmo.total) }) : null,
      ].filter(Boolean).join(' · '), icu.staffed > 0 && icu.available === 0 ? 4 : 0);
    this.setKpi(k.ed, fmt.int(diverting), '', t('wall.kpi_ed_sub'), diverting > 0 ? 3 : 0);
    this.setKpi(k.amb, fmt.int(freeAmb), `/${fmt.int(feed.ambulances.size)}`, t('wall.kpi_amb_sub'), 0);
    // plausibility checks waiting for a manager: counted under the reports
    const checks = hospitals.filter((h) => h.check).map((h) => h.id).sort();
    this.setKpi(k.reporting, fmt.int(reporting), `/${fmt.int(hospitals.length)}`,
      t('wall.kpi_reporting_sub', { stale: fmt.int(stale), late: fmt.int(late) })
        + (checks.length ? ` · ${t('wall.kpi_checks', { n: fmt.int(checks.length) })}` : ''), stale > 0 ? 2 : 0);
    k.reporting.el.dataset.checks = checks.join(' ');

    // beds by type
    const present = new Set();
    for (const h of hospitals) for (const b of Object.keys(h.beds || {})) present.add(b);
    for (const [type, r] of this.bedRows) {
      const x = byType[type];
      show(r.tr, present.has(type));
      data(r.free.node, fmt.int(x.available));
      data(r.over.node, x.overflow > 0 ? `+${fmt.int(x.overflow)}` : '');
      data(r.staffed.node, fmt.int(x.staffed));
      const p = x.staffed > 0 ? (100 * x.occupied) / x.staffed : null;
      data(r.occ.node, p === null ? '–' : fmt.pct(p));
      const band = p === null ? '0' : p >= P.level4_pct ? '4' : p >= P.level3_pct ? '3' : p >= P.level2_pct ? '2' : '1';
      if (r.tr.dataset.band !== band) r.tr.dataset.band = band;
      r.tr.classList.toggle('is-zero', x.staffed > 0 && x.available === 0);
    }

    // levels
    for (const x of this.levelTiles) data(x.count.node, fmt.int(levels[x.n]));
    const collator = new Intl.Collator(lang());
    for (const list of this.nameLists) {
      const rows = figs.filter(({ f }) => f.freshness !== 'never' && f.level === list.n)
        .map(({ h, f }) => ({ name: pick(h.name) || h.id, f, occ: f.occupancyPct }))
        .sort((a, b) => (b.occ || 0) - (a.occ || 0) || collator.compare(a.name, b.name));
      list.slots.forEach((s, i) => {
        const r = rows[i];
        show(s.el, !!r);
        if (!r) return;
        data(s.name.node, r.name);
        const tag = r.f.freshness === 'stale' || r.f.freshness === 'late' ? `! ${t(`fresh.${r.f.freshness}`)}` : '';
        data(s.tag.node, tag);
        s.el.dataset.fresh = r.f.freshness;
      });
      const more = rows.length - list.slots.length;
      data(list.more.node, more > 0 ? t('wall.more', { n: fmt.int(more) }) : '');
      show(list.more.el, more > 0);
      data(list.title.node, t('wall.level_names', { n: list.n, count: fmt.int(rows.length) }));
      if (!rows.length) {
        show(list.slots[0].el, true);
        data(list.slots[0].name.node, t('wall.none'));
        data(list.slots[0].tag.node, '');
        list.slots[0].el.dataset.fresh = 'none';
      }
    }

    // diversions: closed first, then diversion; soonest expiry first
    const div = figs.filter(({ f }) => f.freshness !== 'never' && (f.ed === 'diversion' || f.ed === 'closed'))
      .map(({ h, f }) => ({ h, f, until: timeMs(h.ed && h.ed.until) }))
      .sort((a, b) => (a.f.ed === b.f.ed ? 0 : a.f.ed === 'closed' ? -1 : 1)
        || (a.until || Infinity) - (b.until || Infinity) || collator.compare(pick(a.h.name), pick(b.h.name)));
    this.divSlots.forEach((s, i) => {
      const r = div[i];
      show(s.el, !!r);
      if (!r) return;
      const cls = `ed ed-${r.f.ed}`;
      if (s.status.el.className !== cls) s.status.el.className = cls;
      data(s.status.node, t(`ed.${r.f.ed}`));
      data(s.name.node, pick(r.h.name) || r.h.id);
      data(s.tag.node, r.f.freshness === 'stale' || r.f.freshness === 'late' ? `! ${t(`fresh.${r.f.freshness}`)}` : '');
      data(s.reason.node, r.h.ed.reason || t('wall.no_reason'));
      data(s.until.node, r.until ? t('wall.until', { time: fmt.shortDateTime(r.until, now), left: fmt.until(r.until, now) }) : t('wall.no_until'));
      s.el.dataset.id = r.h.id;
      s.el.dataset.fresh = r.f.freshness;
    });
    const moreDiv = div.length - this.divSlots.length;
    data(this.divMore.node, moreDiv > 0 ? t('wall.more', { n: fmt.int(moreDiv) }) : '');
    show(this.divMore.el, moreDiv > 0);
    data(this.divEmpty.node, t('wall.no_diversions'));
    show(this.divEmpty.el, div.length === 0);
    data(this.divTitle.node, `${t('wall.diversions')} (${fmt.int(div.length)})`);

    // facility problems: closed, then evacuating, then compromised
    const order = { closed: 0, evacuating: 1, compromised: 2 };
    const fac = figs.filter(({ f }) => f.facility !== 'normal')
      .sort((a, b) => order[a.f.facility] - order[b.f.facility] || collator.compare(pick(a.h.name), pick(b.h.name)));
    this.facSlots.forEach((s, i) => {
      const r = fac[i];
      show(s.el, !!r);
      if (!r) return;
      const cls = `fac fac-${r.f.facility}`;
      if (s.status.el.className !== cls) s.status.el.className = cls;
      data(s.status.node, t(`fac.${r.f.facility}`));
      data(s.name.node, pick(r.h.name) || r.h.id);
      data(s.reason.node, r.h.facility.reason || t('wall.no_reason'));
      s.el.dataset.id = r.h.id;
      s.el.dataset.facility = r.f.facility;
    });
    show(this.facBox, fac.length > 0);
    data(this.facTitle.node, `${t('wall.facility')} (${fmt.int(fac.length)})`);

    // ambulances
    const counts = new Map(AMBULANCE_STATUSES.map((s) => [s, 0]));
    for (const a of feed.ambulances.values()) if (counts.has(a.status)) counts.set(a.status, counts.get(a.status) + 1);
    const total = feed.ambulances.size || 1;
    for (const [st, r] of this.ambRows) {
      const n = counts.get(st);
      data(r.count.node, fmt.int(n));
      const w = `${((100 * n) / total).toFixed(1)}%`;
      if (r.fill.style.width !== w) r.fill.style.width = w;
    }

    // current values beside the trend titles
    data(this.trends[0].now.node, pct === null ? '–' : t('wall.now', { v: fmt.pct(pct) }));
    data(this.trends[1].now.node, t('wall.now', { v: fmt.int(icu.available) }));
  }

  // One alert at a time, the next every TICKER_MS (by the clock, so every
  // wall shows the same one).
  renderTicker(now) {
    const tk = this.ticker;
    const feed = this.feed;
    show(tk.el, feed.hasAlerts);
    if (this.root.classList.contains('has-ticker') !== feed.hasAlerts) this.root.classList.toggle('has-ticker', feed.hasAlerts);
    if (!feed.hasAlerts) return;
    const alerts = orderAlerts(feed.alerts.filter((a) => !a.incident));
    const n = alerts.length;
    tk.el.dataset.count = String(n);
    data(tk.label.node, t('wall.alerts'));
    const i = n ? Math.floor(now / TICKER_MS) % n : 0;
    const a = alerts[i];
    data(tk.pos.node, n > 1 ? t('wall.alert_pos', { i: fmt.int(i + 1), n: fmt.int(n) }) : '');
    const state = !a ? 'none' : a.ack ? 'acked' : a.muted ? 'muted' : 'new';
    if (tk.item.dataset.state !== state) tk.item.dataset.state = state;
    if (tk.el.dataset.state !== state) tk.el.dataset.state = state;
    const id = a ? a.id : '';
    if (tk.item.dataset.id !== id) tk.item.dataset.id = id;
    data(tk.mark.node, state === 'acked' ? '✓' : '!');
    data(tk.text.node, a ? alertText(a, feed.hospitals) : t('wall.alerts_none'));
    data(tk.since.node, a ? alertSince(a, now) : '');
    data(tk.state.node, a && a.ack ? t('wall.alert_acked') : a && a.muted ? t('wall.alert_muted') : '');
  }

  setKpi(k, value, of, sub, band) {
    data(k.value.node, value);
    data(k.of.node, of);
    data(k.sub.node, sub);
    const b = String(band);
    if (k.el.dataset.band !== b) k.el.dataset.band = b;
  }

  renderChrome() {
    document.documentElement.lang = lang();
    document.title = t('wall.title');
    const h = this.h;
    data(h.title.node, t('app.brand'));
    data(h.sub.node, t('wall.subtitle'));
    data(h.zone.node, t('wall.zone'));
    data(h.asOfLabel.node, t('wall.as_of'));
    attr(this.kpiRow, 'aria-label', t('totals.label'));
    const labels = { occupancy: 'wall.kpi_occupancy', free: 'wall.kpi_free', icu: 'wall.kpi_icu', ed: 'wall.kpi_ed', amb: 'wall.kpi_amb', reporting: 'wall.kpi_reporting' };
    for (const [key, k] of Object.entries(this.kpis)) data(k.label.node, t(labels[key]));
    data(this.bedsTitle.node, t('wall.beds'));
    ['wall.col_type', 'wall.col_free', 'wall.col_staffed', 'wall.col_occ'].forEach((key, i) => data(this.bedHead[i].node, t(key)));
    for (const [type, r] of this.bedRows) data(r.name.node, t(`bed.${type}.long`));
    data(this.levelsTitle.node, t('wall.levels'));
    for (const x of this.levelTiles) data(x.label.node, t(`level.${x.n}`));
    data(this.ambTitle.node, t('amb.heading'));
    for (const [st, r] of this.ambRows) data(r.label.node, t(`amb.status.${st}`));
    for (const x of this.trends) data(x.title.node, t(`wall.trend_${x.key}`));
    this.drawTrends();
  }

  renderStatus(now) {
    const h = this.h;
    data(h.time.node, fmt.clock(now));
    data(h.date.node, fmt.longDate(now));
    const c = this.feed.connection();
    const state = c.status;
    if (this.conn.dataset.state !== state) this.conn.dataset.state = state;
    const refused = refusal(c);
    data(h.connText.node, refused ? t(`conn.${refused}`) : t(`wall.conn_${state}`));
    // figures are as of the last word from the server, or from its data source
    const heard = c.sourceStaleSinceMs ?? c.lastHeardMs;
    data(h.asOf.node, heard ? fmt.clock(heard) : t('time.never'));
    const msg = bannerMessage(this.feed, now, 'wall.banner_lost');
    const on = msg !== null;
    if (on) data(this.bannerText.node, msg);
    show(this.banner, on);
    if (this.root.classList.contains('is-stale') !== on) this.root.classList.toggle('is-stale', on);
  }
}
