// A small SVG line chart for the 24 h trends (the hospital sparkline in
// the detail panel, the city lines on the wall). Our own code, no chart
// library: a line, the area under it, a few grid lines with labels and
// optional threshold lines.
//
// Every node is created once; a redraw only changes attributes and the
// data of text nodes, so a wall display redrawing it for days keeps a flat
// DOM. The drawing is in CSS pixels of the element's own size (measured
// with a ResizeObserver), so labels are never stretched.
//
// Gaps are drawn as gaps: two points further apart than 1.5 sampling
// intervals are not joined (the server was down in between). A lone point
// is drawn as a dot.
//
// A forecast (the 24-hour outlook, GET /api/v1/outlook) continues the line
// to the right: its expected values as a dashed line over the band of its
// 80 % interval, both starting from the line's last point when that is at most
// two hours before its first; the x range stretches to its last hour. The
// line carries data-end-ms/-v (its last point), the forecast
// data-start-ms/-v (its first).

import { textNode } from '../dom.js';

const NS = 'http://www.w3.org/2000/svg';
const MAX_Y_TICKS = 6;
const X_TICKS = 5;

function svg(tag, attrs, parent) {
  const e = document.createElementNS(NS, tag);
  for (const k of Object.keys(attrs || {})) e.setAttribute(k, String(attrs[k]));
  if (parent) parent.append(e);
  return e;
}

function setA(e, k, v) {
  const s = String(v);
  if (e.getAttribute(k) !== s) e.setAttribute(k, s);
}

// A "nice" step (1, 2, 2.5, 5 x 10^n) giving at most `count` intervals.
function niceStep(span, count) {
  const raw = span / Math.max(count, 1);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

export class TrendChart {
  // opts: { className, yTicks (max grid lines), thresholds: [{value, label}],
  //         formatY(v) -> string, formatX(ms) -> string, minSpan (smallest
  //         y range shown), floor (lowest y, e.g. 0), pad {l, r, t, b} }
  constructor(opts = {}) {
    this.o = Object.assign({
      className: '', yTicks: 4, thresholds: [], minSpan: 10, floor: null,
      formatY: (v) => String(v), formatX: (ms) => String(ms), pad: { l: 44, r: 12, t: 10, b: 22 },
    }, opts);
    this.w = 0;
    this.h = 0;
    this.data = null;
    this.message = '';
    this.root = svg('svg', { class: `trend ${this.o.className}`, role: 'img', focusable: 'false' });
    this.gridG = svg('g', { class: 'trend-grid' }, this.root);
    this.yLines = [];
    this.yLabels = [];
    for (let i = 0; i < MAX_Y_TICKS; i++) {
      const line = svg('line', { class: 'trend-gridline' }, this.gridG);
      const label = svg('text', { class: 'trend-ylabel', 'text-anchor': 'end', 'dominant-baseline': 'middle' }, this.gridG);
      this.yLines.push(line);
      this.yLabels.push({ el: label, text: textNode(label) });
    }
    this.xLabels = [];
    for (let i = 0; i < X_TICKS; i++) {
      const label = svg('text', { class: 'trend-xlabel', 'text-anchor': i === 0 ? 'start' : i === X_TICKS - 1 ? 'end' : 'middle' }, this.gridG);
      this.xLabels.push({ el: label, text: textNode(label) });
    }
    this.thresholds = this.o.thresholds.map((th) => {
      const line = svg('line', { class: 'trend-threshold' }, this.root);
      const label = svg('text', { class: 'trend-tlabel', 'text-anchor': 'end' }, this.root);
      return { th, line, label, text: textNode(label) };
    });
    this.band = svg('path', { class: 'trend-band' }, this.root);
    this.area = svg('path', { class: 'trend-area' }, this.root);
    this.forecastLine = svg('path', { class: 'trend-forecast' }, this.root);
    this.forecast = null;
    this.line = svg('path', { class: 'trend-line' }, this.root);
    this.dot = svg('circle', { class: 'trend-dot' }, this.root);
    this.msg = svg('text', { class: 'trend-msg', 'text-anchor': 'middle', 'dominant-baseline': 'middle' }, this.root);
    this.msgText = textNode(this.msg);
    this.observer = new ResizeObserver((entries) => {
      const r = entries[entries.length - 1].contentRect;
      const w = Math.round(r.width);
      const h = Math.round(r.height);
      if (w === this.w && h === this.h) return;
      this.w = w;
      this.h = h;
      this.draw();
    });
    this.observer.observe(this.root);
  }

  // points: [{ms, v}] oldest first (v null = unknown); fromMs/toMs: the
  // x range; intervalS: the sampling interval (for gaps).
  setData(data) {
    this.data = data;
    this.draw();
  }

  // The forecast after the data: [{ms, v (expected), lo, hi}] oldest first,
  // or null for none.
  setForecast(points) {
    this.forecast = points && points.length ? points : null;
    this.draw();
  }

  // A message instead of (or, with keepData, over) the line: "no history
  // yet", "loading", an error. Empty string: none.
  setMessage(text) {
    this.message = text || '';
    this.draw();
  }

  setLabel(text) {
    setA(this.root, 'aria-label', text);
  }

  // Relabels thresholds (language change).
  setThresholdLabels(labels) {
    this.thresholds.forEach((t, i) => {
      t.text.data = labels[i] || '';
    });
  }

  draw() {
    const { w, h } = this;
    if (!w || !h) return;
    setA(this.root, 'viewBox', `0 0 ${w} ${h}`);
    let pad = this.o.pad;
    if (this.o.padEm) {
      const em = parseFloat(getComputedStyle(this.root).fontSize) || 16;
      const p = this.o.padEm;
      pad = { l: p.l * em, r: p.r * em, t: p.t * em, b: p.b * em };
    }
    const x0 = pad.l;
    const x1 = w - pad.r;
    const y0 = pad.t;
    const y1 = h - pad.b;
    const d = this.data;
    const pts = d && d.points ? d.points.filter((p) => typeof p.v === 'number' && Number.isFinite(p.v)) : [];
    const fc = this.message ? [] : this.forecast || [];
    const showLine = pts.length > 0 && !this.message;
    this.msgText.data = this.message;
    setA(this.msg, 'x', (x0 + x1) / 2);
    setA(this.msg, 'y', (y0 + y1) / 2);

    // y range: the data, at least minSpan, thresholds near the data included
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of pts) {
      if (p.v < lo) lo = p.v;
      if (p.v > hi) hi = p.v;
    }
    for (const p of fc) {
      if (p.lo < lo) lo = p.lo;
      if (p.hi > hi) hi = p.hi;
    }
    const scaled = pts.length + fc.length > 0; // something to put a scale to
    if (!scaled) {
      lo = this.o.floor !== null ? this.o.floor : 0;
      hi = lo + this.o.minSpan;
    }
    for (const t of this.o.thresholds) {
      if (t.value >= lo - this.o.minSpan && t.value <= hi + this.o.minSpan) {
        lo = Math.min(lo, t.value);
        hi = Math.max(hi, t.value);
      }
    }
    if (hi - lo < this.o.minSpan) {
      const mid = (hi + lo) / 2;
      lo = mid - this.o.minSpan / 2;
      hi = mid + this.o.minSpan / 2;
    }
    if (this.o.floor !== null && lo < this.o.floor) {
      hi += this.o.floor - lo;
      lo = this.o.floor;
    }
    const step = niceStep(hi - lo, this.o.yTicks);
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
    if (this.o.floor !== null && lo < this.o.floor) lo = this.o.floor;
    const ys = (v) => y1 - ((v - lo) / (hi - lo || 1)) * (y1 - y0);

    for (let i = 0; i < MAX_Y_TICKS; i++) {
      const v = lo + i * step;
      const line = this.yLines[i];
      const label = this.yLabels[i];
      // no data: no scale either (only the message and the time axis)
      const on = scaled && v <= hi + step / 1000;
      setA(line, 'visibility', on ? 'visible' : 'hidden');
      setA(label.el, 'visibility', on ? 'visible' : 'hidden');
      if (!on) continue;
      const y = ys(v).toFixed(1);
      setA(line, 'x1', x0);
      setA(line, 'x2', x1);
      setA(line, 'y1', y);
      setA(line, 'y2', y);
      setA(label.el, 'x', x0 - 6);
      setA(label.el, 'y', y);
      const s = this.o.formatY(v);
      if (label.text.data !== s) label.text.data = s;
    }

    // x range: the answer's from..to (else the data's)
    const first = pts.length ? pts[0].ms : fc.length ? fc[0].ms : 0;
    const last = pts.length ? pts[pts.length - 1].ms : fc.length ? fc[0].ms : 1;
    const fromMs = d && d.fromMs !== null && d.fromMs !== undefined ? d.fromMs : first;
    let toMs = d && d.toMs !== null && d.toMs !== undefined ? d.toMs : last;
    if (fc.length) toMs = Math.max(toMs, fc[fc.length - 1].ms);
    const span = Math.max(toMs - fromMs, 1);
    const xs = (ms) => x0 + ((ms - fromMs) / span) * (x1 - x0);
    for (let i = 0; i < X_TICKS; i++) {
      const ms = fromMs + (span * i) / (X_TICKS - 1);
      const label = this.xLabels[i];
      setA(label.el, 'x', xs(ms).toFixed(1));
      setA(label.el, 'y', h - 2);
      const s = d || fc.length ? this.o.formatX(ms) : '';
      if (label.text.data !== s) label.text.data = s;
    }

    for (const t of this.thresholds) {
      const on = scaled && t.th.value >= lo && t.th.value <= hi;
      setA(t.line, 'visibility', on ? 'visible' : 'hidden');
      setA(t.label, 'visibility', on ? 'visible' : 'hidden');
      if (!on) continue;
      const y = ys(t.th.value).toFixed(1);
      setA(t.line, 'x1', x0);
      setA(t.line, 'x2', x1);
      setA(t.line, 'y1', y);
      setA(t.line, 'y2', y);
      setA(t.label, 'x', x1 - 2);
      setA(t.label, 'y', Number(y) - 3);
    }

    // line and area, broken at gaps
    let line = '';
    let area = '';
    if (showLine) {
      const gapMs = (d.intervalS ? d.intervalS * 1000 : span / 100) * 1.5;
      let seg = [];
      const flush = () => {
        if (!seg.length) return;
        const [fx, fy] = seg[0];
        if (seg.length === 1) {
          line += `M${fx},${fy}h0.01`; // a dot (round caps)
        } else {
          line += `M${seg.map((p) => `${p[0]},${p[1]}`).join('L')}`;
          area += `M${fx},${y1}L${seg.map((p) => `${p[0]},${p[1]}`).join('L')}L${seg[seg.length - 1][0]},${y1}Z`;
        }
        seg = [];
      };
      let prev = null;
      for (const p of pts) {
        if (prev && p.ms - prev.ms > gapMs) flush();
        seg.push([xs(p.ms).toFixed(1), ys(p.v).toFixed(1)]);
        prev = p;
      }
      flush();
    }
    setA(this.line, 'd', line || 'M0,0');
    setA(this.area, 'd', area || 'M0,0');
    setA(this.line, 'visibility', line ? 'visible' : 'hidden');
    setA(this.area, 'visibility', area ? 'visible' : 'hidden');
    const lastPt = showLine ? pts[pts.length - 1] : null;
    // where the line ends and the forecast starts, for tests and tools
    setA(this.line, 'data-end-ms', lastPt ? lastPt.ms : '');
    setA(this.line, 'data-end-v', lastPt ? lastPt.v : '');
    setA(this.dot, 'visibility', lastPt ? 'visible' : 'hidden');
    if (lastPt) {
      setA(this.dot, 'cx', xs(lastPt.ms).toFixed(1));
      setA(this.dot, 'cy', ys(lastPt.v).toFixed(1));
    }

    // the forecast: dashed from the last value (when it is the hour before)
    // through the expected values, over its band
    let fline = '';
    let band = '';
    if (fc.length) {
      const at = (p, v) => `${xs(p.ms).toFixed(1)},${ys(v).toFixed(1)}`;
      const joined = lastPt && fc[0].ms - lastPt.ms <= 2 * 3600e3;
      const head = joined ? `${at(lastPt, lastPt.v)}L` : '';
      const start = joined ? lastPt : fc[0];
      setA(this.forecastLine, 'data-start-ms', start.ms);
      setA(this.forecastLine, 'data-start-v', start.v);
      fline = `M${head}${fc.map((p) => at(p, p.v)).join('L')}`;
      // the band fans out from the known value the line starts at
      const bfc = joined ? [{ ms: lastPt.ms, lo: lastPt.v, hi: lastPt.v }, ...fc] : fc;
      band = `M${bfc.map((p) => at(p, p.hi)).join('L')}L${[...bfc].reverse().map((p) => at(p, p.lo)).join('L')}Z`;
    }
    if (!fline) {
      setA(this.forecastLine, 'data-start-ms', '');
      setA(this.forecastLine, 'data-start-v', '');
    }
    setA(this.forecastLine, 'd', fline || 'M0,0');
    setA(this.band, 'd', band || 'M0,0');
    setA(this.forecastLine, 'visibility', fline ? 'visible' : 'hidden');
    setA(this.band, 'visibility', band ? 'visible' : 'hidden');
  }
}
