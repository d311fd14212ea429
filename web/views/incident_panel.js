// The selected 115 incident, under the queue: its facts (category,
// priority, address, when the call came, the unit or how long it waits for
// one) and where to send the patient — the hospitals ranked by the server
// for its position, category and priority (GET /api/v1/recommend, the same
// ranking as GET /api/v1/incidents' `recommend`), each with its rank,
// travel time, free beds of the needed type, ambulances inbound, ED status
// and the server's reason in the current language. A name selects that
// hospital on the map and opens its detail.
//
// The ranking follows capacity: asked again when the incident changes (at
// once), when hospitals or ambulances change (at most every REFRESH_MIN_MS)
// and every REFRESH_MAX_MS anyway (travel speeds follow the time of day).
// The clock frame (1 s) is what checks, so there is no timer to leak.

import { t, pick, lang } from '../i18n.js';
import * as fmt from '../format.js';
import { fetchRecommend } from '../api.js';
import { el, fill, attr, text } from '../dom.js';
import { incidentIcon, drawIncidentIcon, incidentTitle, incidentAges, priorityOf } from './incidents.js';

const REFRESH_MIN_MS = 3000;
const REFRESH_MAX_MS = 15000;
const ERROR_RETRY_MS = 5000;
export const DESTINATIONS = 5;

export class IncidentPanel {
  constructor(slot, feed, { onClose, onHospital, onDestinations }) {
    this.feed = feed;
    this.onClose = onClose;
    this.onHospital = onHospital;
    this.onDestinations = onDestinations;
    this.id = null;
    this.sig = {};
    this.build(slot);
  }

  build(slot) {
    this.icon = incidentIcon('im-big');
    this.title = el('h2', { id: 'incident-title', class: 'detail-title', tabindex: '-1' });
    this.sub = el('p', { class: 'detail-sub' });
    this.closeButton = el('button', { type: 'button', id: 'incident-close', class: 'btn-icon' }, '×');
    this.closeButton.addEventListener('click', () => this.onClose());
    this.facts = el('dl', { class: 'detail-facts', id: 'incident-facts' });
    this.destTitle = el('h3', { class: 'detail-h inc-dest-h' });
    this.destTime = el('span', { class: 'inc-dest-time' });
    this.destNote = el('p', { class: 'trend-note' });
    this.destMsg = el('p', { class: 'inc-dest-msg', id: 'incident-dest-msg', role: 'status' });
    this.dest = el('ol', { class: 'inc-dest', id: 'incident-dest' });
    this.root = el('section', { id: 'incident', class: 'inc-panel', hidden: true, 'aria-labelledby': 'incident-title' },
      el('div', { class: 'detail-head' }, this.icon.root,
        el('div', { class: 'detail-names' }, this.title, this.sub), this.closeButton),
      el('div', { class: 'inc-body' }, this.facts,
        el('div', { class: 'inc-dest-head' }, this.destTitle, this.destTime), this.destMsg, this.dest, this.destNote));
    this.root.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        this.onClose();
      }
    });
    this.dest.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-hospital]');
      if (b) this.onHospital(b.dataset.hospital);
    });
    slot.append(this.root);
  }

  open(id) {
    if (this.id !== id) {
      this.id = id;
      this.sig = {};
      this.rec = null; // {key, ms, result}
      this.asked = { key: null, ms: 0 };
      this.dirty = false;
      this.shown = false; // no ranking drawn yet for this incident
      fill(this.dest);
      this.onDestinations([]);
    }
    this.root.hidden = false;
    this.render({ full: true, lang: false, clock: false, hospitals: new Set(), ambulances: new Set(), incidents: new Set(), now: this.feed.serverNow() });
  }

  close() {
    this.id = null;
    this.root.hidden = true;
    this.onDestinations([]);
  }

  // -- the ranking ----------------------------------------------------------------

  // Asks the server when the question changed, when figures changed (at
  // most every REFRESH_MIN_MS) or every REFRESH_MAX_MS.
  maybeAsk(inc, frame) {
    if (frame.hospitals.size || frame.ambulances.size) this.dirty = true;
    const key = [inc.lat, inc.lon, inc.category, inc.priority].join('|');
    const since = Date.now() - this.asked.ms;
    const failed = this.rec && !this.rec.result.ok;
    const due = key !== this.asked.key
      || (this.dirty && since >= REFRESH_MIN_MS)
      || since >= (failed ? ERROR_RETRY_MS : REFRESH_MAX_MS);
    if (!due || this.inFlight) return;
    this.ask(inc, key);
  }

  async ask(inc, key) {
    const id = this.id;
    this.inFlight = true;
    this.dirty = false;
    this.asked = { key, ms: Date.now() };
    const result = await fetchRecommend({
      lat: inc.lat, lon: inc.lon, category: inc.category, priority: inc.priority, limit: DESTINATIONS,
    });
    this.inFlight = false;
    if (this.id !== id || this.asked.key !== key) return; // another question since
    this.rec = { key, ms: this.feed.serverNow(), result };
    this.sig.dest = null;
    this.drawDestinations();
    if (result.ok) {
      this.onDestinations(this.candidates().map((c) => ({ hospital: c.hospital, rank: c.rank })), { first: !this.shown });
      this.shown = true;
    }
  }

  candidates() {
    const r = this.rec && this.rec.result;
    return r && r.ok && Array.isArray(r.data.candidates) ? r.data.candidates : [];
  }

  // -- rendering ------------------------------------------------------------------

  render(frame) {
    if (!this.id) return;
    const inc = this.feed.incidents.get(this.id);
    if (!inc) {
      this.onClose(); // closed by the CAD
      return;
    }
    this.maybeAsk(inc, frame);
    if (!(frame.full || frame.lang || frame.clock || frame.incidents.has(this.id) || frame.hospitals.size)) return;
    const now = frame.now;
    const L = lang();
    const { start, open } = incidentAges(inc, now);
    const set = (key, sig, draw) => {
      if (this.sig[key] === sig) return;
      this.sig[key] = sig;
      draw();
    };
    set('head', [inc.version, L].join('|'), () => {
      drawIncidentIcon(this.icon, inc, 'im-big');
      text(this.title, incidentTitle(inc));
      text(this.sub, inc.id);
      attr(this.closeButton, 'aria-label', t('inc.close'));
      attr(this.closeButton, 'title', t('inc.close'));
      attr(this.root, 'aria-label', t('inc.label', { id: inc.id }));
      this.root.dataset.id = inc.id;
      this.root.dataset.priority = String(priorityOf(inc));
    });
    const dh = inc.destination ? this.feed.hospitals.get(inc.destination) : null;
    set('facts', [inc.version, open, dh && pick(dh.name), L].join('|'), () => {
      const row = (label, ...value) => [el('dt', null, label), el('dd', null, ...value)];
      const rows = [];
      rows.push(row(t('inc.col.address'), inc.address
        ? el('span', { id: 'incident-address', dataset: { freeText: '' } }, inc.address)
        : el('span', { class: 'unknown' }, t('inc.no_address'))));
      rows.push(row(t('inc.received'), start
        ? el('time', { datetime: new Date(start).toISOString() }, t('inc.received_value', { time: fmt.shortDateTime(start, now), dur: open }))
        : el('span', { class: 'unknown' }, '–')));
      rows.push(row(t('inc.unit'), inc.unit
        ? el('code', { id: 'incident-unit' }, inc.unit)
        : el('span', { class: 'i-no-unit', id: 'incident-unit' }, `${t('inc.no_unit')} · ${t('inc.waiting_unit', { dur: open })}`)));
      if (inc.destination) rows.push(row(t('inc.destination'), dh ? pick(dh.name) : inc.destination));
      if (typeof inc.lat === 'number') {
        rows.push(row(t('inc.position'), el('span', { class: 'muted' }, `${fmt.dec(inc.lat, 4)}, ${fmt.dec(inc.lon, 4)}`)));
      }
      fill(this.facts, rows);
    });
    if (frame.lang || frame.full) {
      text(this.destTitle, t('inc.dest_heading'));
      text(this.destNote, t('inc.dest_note'));
    }
    this.drawDestinations();
  }

  drawDestinations() {
    const rec = this.rec;
    const L = lang();
    const sig = [rec ? rec.ms : 0, L].join('|');
    if (this.sig.dest === sig) return;
    this.sig.dest = sig;
    text(this.destTime, rec ? t('inc.dest_updated', { time: fmt.clock(rec.ms) }) : '');
    const say = (msg) => {
      text(this.destMsg, msg);
      this.destMsg.hidden = !msg;
    };
    if (!rec) {
      say(t('inc.dest_loading'));
      return;
    }
    if (!rec.result.ok) {
      say(t('inc.dest_error')); // the last good list stays
      return;
    }
    const list = this.candidates();
    say(list.length ? '' : t('inc.dest_none'));
    fill(this.dest, list.map((c) => this.destination(c, L)));
  }

  destination(c, L) {
    const h = this.feed.hospitals.get(c.hospital);
    const name = (h && pick(h.name)) || pick(c.name) || c.hospital;
    const eta = typeof c.eta_min === 'number' ? fmt.int(Math.ceil(c.eta_min)) : '–';
    const bed = c.bed_type ? t(`bed.${c.bed_type}.short`) : '';
    const facts = [
      c.known
        ? el('span', { class: `inc-free${c.free > 0 ? '' : ' zero'}` }, t('inc.free', { n: fmt.int(c.free), bed }))
        : el('span', { class: 'inc-free unknown' }, t('inc.free_unknown', { bed })),
    ];
    if (c.inbound > 0) facts.push(el('span', { class: 'inc-inbound' }, t('inc.inbound', { n: fmt.int(c.inbound) })));
    if (c.ed && c.ed !== 'normal') facts.push(el('span', { class: `ed ed-${c.ed}` }, t(`ed.${c.ed}`)));
    const reason = c.reason && (c.reason[L] || c.reason.vi || c.reason.en);
    return el('li', { class: 'inc-dest-item', dataset: { hospital: c.hospital, rank: String(c.rank), eta: String(c.eta_min) } },
      el('span', { class: 'inc-rank', title: t('inc.rank_title', { n: c.rank }) }, String(c.rank)),
      el('div', { class: 'inc-dest-main' },
        el('div', { class: 'inc-dest-line' },
          el('button', { type: 'button', class: 'link inc-dest-name', dataset: { hospital: c.hospital }, title: t('inc.dest_select', { name }) }, name),
          el('span', { class: 'inc-eta', title: t('inc.eta_title') }, t('time.dur_min', { n: eta }))),
        reason ? el('div', { class: 'inc-reason' }, reason) : null,
        el('div', { class: 'inc-dest-facts' }, facts.flatMap((x, i) => (i ? [' · ', x] : [x])))));
  }
}
