// Mass-casualty incidents on the dispatcher view (docs/dispatch.md
// "Mass-casualty mode"), in the incidents tab:
//
// - the strip at the top: the open MCIs (a click opens one) and "Declare
//   MCI", a small form at the selected incident's position or else the
//   patient pin (a click on the map sets it): address, radius, expected
//   Immediate / Delayed / Minor -> POST /api/v1/mci;
// - the panel (where the incident panel is, replacing it while open): the
//   hospitals in range nearest first with ETA, a trauma mark, each answer
//   (what it can take, who, when) or "waiting for an answer" with "record a
//   phone answer" (an inline form), the suggested share and the patients
//   sent; the totals (asked, answered, can, suggested, unplaced — marked
//   when above zero —, sent); "send a patient" (triage, destination from
//   the list, optional unit); the patients; closing the MCI.
//
// The server pushes no MCI changes: the open list is asked every
// SLOW_MS while none is open (another dispatcher may declare one), every
// FAST_MS while one is, together with the shown one. Forms are built once
// per MCI and kept across redraws, so polling never loses what is typed.

import { t, pick, lang } from '../i18n.js';
import * as fmt from '../format.js';
import { el, fill, attr, text } from '../dom.js';
import { listMcis, getMci, declareMci, answerMci, sendMciPatient, closeMci } from '../api.js';
import {
  TRIAGE, triageMark, countChips, countText, whoText, whenText, countFields, say, failure, Poller, total, etaMin,
} from './mci_common.js';

const FAST_MS = 3000;
const SLOW_MS = 15000;
const PATIENTS_SHOWN = 50;

export class MciBoard {
  // strip: where the open list and the declare form go; slot: the panel's
  // place. opts: where() -> {lat, lon, address, from: 'incident' | 'pin'} |
  // null, onOpen(id) (the incident panel gives way), onMap(list, shownId),
  // me() (this page's token id), say(words) (the live region).
  constructor(strip, slot, feed, { where, onOpen, onMap, me, say: announce }) {
    this.feed = feed;
    this.where = where;
    this.onOpen = onOpen;
    this.onMap = onMap;
    this.me = me;
    this.announce = announce;
    this.list = []; // the open MCIs (without hospitals)
    this.id = null; // the one shown
    this.view = null; // its full view
    this.phone = null; // {hospital, fields, row, msg}: the phone answer being recorded
    this.sig = '';
    this.msgs = new Map(); // status line -> {kind, words()}
    this.poller = new Poller(() => this.poll(), { fastMs: FAST_MS, slowMs: SLOW_MS });
    this.buildStrip(strip);
    this.buildPanel(slot);
  }

  start() {
    this.poller.start();
  }

  // -- polling --------------------------------------------------------------------------

  async poll() {
    const r = await listMcis();
    if (r.ok && r.data && Array.isArray(r.data.mcis)) {
      this.list = r.data.mcis.sort((a, b) => String(a.declared_at).localeCompare(String(b.declared_at)));
      this.drawList();
    }
    if (this.id) await this.fetchShown();
    this.onMap(this.list, this.id);
    return this.list.length > 0 || !!this.id;
  }

  async fetchShown() {
    const id = this.id;
    const r = await getMci(id);
    if (this.id !== id) return;
    if (r.ok && r.data) {
      this.view = r.data;
      this.draw();
    } else if (r.status === 404) {
      this.close();
    }
  }

  // -- the strip: open MCIs, declaring one ----------------------------------------------

  buildStrip(host) {
    this.stripTitle = el('h3', { class: 'mci-strip-title' });
    this.declareOpen = el('button', { type: 'button', id: 'mci-declare-open', class: 'btn mci-btn-danger' });
    this.listEl = el('ul', { id: 'mci-list', class: 'mci-list' });
    this.declareForm = el('form', { id: 'mci-declare', class: 'mci-declare', hidden: true, novalidate: true });
    this.strip = el('div', { id: 'mci-strip', class: 'mci-strip' },
      el('div', { class: 'mci-strip-head' }, this.stripTitle, this.declareOpen), this.listEl, this.declareForm);
    host.prepend(this.strip);
    this.declareOpen.addEventListener('click', () => this.showDeclare(this.declareForm.hidden));
    this.listEl.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-id]');
      if (b) this.open(b.dataset.id);
    });
    this.declareForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.declare();
    });
    this.buildDeclare();
  }

  buildDeclare() {
    this.dWhere = el('p', { id: 'mci-declare-where', class: 'mci-where' });
    this.dAddress = el('input', { id: 'mci-declare-address', class: 'ctl', type: 'text', maxlength: '200', autocomplete: 'off' });
    this.dRadius = el('input', { id: 'mci-declare-radius', class: 'ctl mci-num', type: 'text', inputmode: 'decimal', value: '10', autocomplete: 'off' });
    this.dRadiusNote = el('span', { class: 'mci-field-note', hidden: true });
    this.dExpected = countFields('mci-declare-expected');
    this.dMsg = el('p', { id: 'mci-declare-msg', class: 'mci-msg', role: 'status', hidden: true });
    this.dSubmit = el('button', { type: 'submit', id: 'mci-declare-submit', class: 'btn mci-btn-danger' });
    this.dCancel = el('button', { type: 'button', class: 'btn btn-quiet' });
    this.dCancel.addEventListener('click', () => this.showDeclare(false));
    this.dLabels = {
      address: el('label', { class: 'mci-field-label', for: 'mci-declare-address' }),
      radius: el('label', { class: 'mci-field-label', for: 'mci-declare-radius' }),
      expected: el('span', { class: 'mci-field-label' }),
    };
    fill(this.declareForm, this.dWhere,
      el('div', { class: 'mci-declare-grid' },
        el('div', { class: 'mci-field mci-f-address' }, this.dLabels.address, this.dAddress),
        el('div', { class: 'mci-field mci-f-radius' }, this.dLabels.radius, this.dRadius, this.dRadiusNote)),
      this.dLabels.expected, this.dExpected.root,
      el('div', { class: 'mci-actions' }, this.dSubmit, this.dCancel), this.dMsg);
  }

  showDeclare(on) {
    this.declareForm.hidden = !on;
    attr(this.declareOpen, 'aria-expanded', String(on));
    if (!on) return;
    const w = this.where();
    if (w && w.address && !this.dAddress.value) this.dAddress.value = w.address;
    this.tell(this.dMsg);
    this.refreshWhere();
    this.dAddress.focus();
  }

  // The position line of the declare form (the pin moved, an incident was chosen).
  refreshWhere() {
    if (this.declareForm.hidden) return;
    const w = this.where();
    this.dSubmit.disabled = !w;
    text(this.dWhere, w
      ? t(w.from === 'incident' ? 'mci.where_incident' : 'mci.where_pin', { pos: `${fmt.dec(w.lat, 4)}, ${fmt.dec(w.lon, 4)}` })
      : t('mci.where_none'));
    this.dWhere.classList.toggle('is-missing', !w);
  }

  async declare() {
    const w = this.where();
    if (!w) return;
    const expected = this.dExpected.read();
    const radiusText = this.dRadius.value.trim().replace(',', '.');
    const radius = radiusText === '' ? 10 : Number(radiusText);
    const radiusOk = Number.isFinite(radius) && radius >= 1 && radius <= 50;
    text(this.dRadiusNote, radiusOk ? '' : t('mci.err_radius'));
    this.dRadiusNote.hidden = radiusOk;
    if (!expected || !radiusOk) return;
    this.dSubmit.disabled = true;
    const r = await declareMci({
      lat: Number(w.lat.toFixed(5)), lon: Number(w.lon.toFixed(5)), radius_km: radius, address: this.dAddress.value.trim(), expected,
    });
    this.dSubmit.disabled = false;
    if (r.status !== 201 || !r.data) {
      if (r.status === 422) this.dExpected.errors(r);
      this.tell(this.dMsg, 'bad', () => failure(r));
      return;
    }
    this.showDeclare(false);
    this.dAddress.value = '';
    this.dExpected.set(null);
    this.list = this.list.filter((m) => m.id !== r.data.id).concat([r.data]);
    this.drawList();
    this.announce(t('mci.declared_say', { address: r.data.address || r.data.id, n: fmt.int(r.data.asked) }));
    this.open(r.data.id, r.data);
  }

  drawList() {
    text(this.stripTitle, t('mci.strip_title', { n: fmt.int(this.list.length) }));
    text(this.declareOpen, t('mci.declare'));
    this.strip.classList.toggle('has-open', this.list.length > 0);
    fill(this.listEl, this.list.map((m) => el('li', null,
      el('button', {
        type: 'button', class: 'mci-list-item', dataset: { id: m.id }, 'aria-current': m.id === this.id ? 'true' : null,
      },
      el('span', { class: 'mci-mark mci-mark-mini', 'aria-hidden': 'true' }, 'MCI'),
      el('span', { class: 'mci-list-addr', dataset: { freeText: '' } }, m.address || m.id),
      el('span', { class: 'mci-list-facts' }, t('mci.list_facts', { answered: fmt.int(m.answered), asked: fmt.int(m.asked) }),
        total(m.unplaced) > 0 ? el('span', { class: 'mci-unplaced-tag' }, t('mci.unplaced_n', { n: fmt.int(total(m.unplaced)) })) : null)))));
  }

  // -- the panel ------------------------------------------------------------------------

  buildPanel(slot) {
    this.title = el('h2', { id: 'mci-title', class: 'detail-title', tabindex: '-1' });
    this.sub = el('p', { id: 'mci-sub', class: 'detail-sub' });
    this.hide = el('button', { type: 'button', id: 'mci-hide', class: 'btn-icon' }, '×');
    this.hide.addEventListener('click', () => this.close());
    this.totals = el('dl', { id: 'mci-totals', class: 'mci-totals' });
    this.hospH = el('h3', { class: 'detail-h' });
    this.hospTable = el('table', { id: 'mci-hospitals', class: 'grid mci-hospitals' });
    this.hospTable.addEventListener('click', (ev) => this.onTableClick(ev));
    this.sendH = el('h3', { class: 'detail-h' });
    this.patH = el('h3', { class: 'detail-h' });
    this.patients = el('ol', { id: 'mci-patients', class: 'mci-patients' });
    this.closeBtn = el('button', { type: 'button', id: 'mci-close', class: 'btn btn-quiet' });
    this.closeSure = el('button', { type: 'button', id: 'mci-close-confirm', class: 'btn mci-btn-danger', hidden: true });
    this.closeMsg = el('p', { class: 'mci-msg', role: 'status', hidden: true });
    this.closeBtn.addEventListener('click', () => {
      this.closeSure.hidden = !this.closeSure.hidden;
      text(this.closeBtn, t(this.closeSure.hidden ? 'mci.close' : 'mci.close_cancel'));
    });
    this.closeSure.addEventListener('click', () => this.closeIncident());
    this.sendForm = this.buildSend();
    this.root = el('section', { id: 'mci', class: 'inc-panel mci-panel', hidden: true, 'aria-labelledby': 'mci-title' },
      el('div', { class: 'detail-head' }, el('span', { class: 'mci-mark mci-mark-big', 'aria-hidden': 'true' }, 'MCI'),
        el('div', { class: 'detail-names' }, this.title, this.sub), this.hide),
      el('div', { class: 'inc-body' }, this.totals, this.hospH, this.hospTable, this.sendH, this.sendForm,
        this.patH, this.patients, el('div', { class: 'mci-actions mci-close-row' }, this.closeBtn, this.closeSure), this.closeMsg));
    this.root.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !ev.target.closest('input, select')) {
        ev.preventDefault();
        ev.stopPropagation();
        this.close();
      }
    });
    slot.append(this.root);
  }

  buildSend() {
    this.sTriage = el('select', { id: 'mci-send-triage', class: 'ctl' });
    this.sDest = el('select', { id: 'mci-send-dest', class: 'ctl' });
    this.sUnit = el('input', { id: 'mci-send-unit', class: 'ctl', type: 'text', list: 'mci-units', autocomplete: 'off', maxlength: '32' });
    this.sUnits = el('datalist', { id: 'mci-units' });
    this.sSubmit = el('button', { type: 'submit', id: 'mci-send-submit', class: 'btn btn-primary' });
    this.sMsg = el('p', { id: 'mci-send-msg', class: 'mci-msg', role: 'status', hidden: true });
    this.sLabels = ['mci-send-triage', 'mci-send-dest', 'mci-send-unit'].map((f) => el('label', { class: 'mci-field-label', for: f }));
    this.sTriage.addEventListener('change', () => this.suggestDest(true));
    this.sDest.addEventListener('change', () => {
      this.sDest.dataset.chosen = '1';
    });
    const form = el('form', { id: 'mci-send', class: 'mci-send', novalidate: true },
      el('div', { class: 'mci-send-grid' },
        el('div', { class: 'mci-field' }, this.sLabels[0], this.sTriage),
        el('div', { class: 'mci-field mci-f-dest' }, this.sLabels[1], this.sDest),
        el('div', { class: 'mci-field' }, this.sLabels[2], this.sUnit, this.sUnits),
        el('div', { class: 'mci-field mci-f-submit' }, this.sSubmit)), this.sMsg);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.sendPatient();
    });
    return form;
  }

  open(id, view = null) {
    if (this.id !== id) {
      this.id = id;
      this.view = view;
      this.phone = null;
      this.sig = '';
      this.sDest.dataset.chosen = '';
      this.tell(this.sMsg);
      this.tell(this.closeMsg);
      this.closeSure.hidden = true;
    }
    this.onOpen(id);
    this.root.hidden = false;
    this.drawStatic();
    this.draw();
    this.drawList();
    this.onMap(this.list, this.id);
    this.title.focus();
    this.poller.poke();
  }

  close() {
    if (!this.id) return;
    this.id = null;
    this.view = null;
    this.phone = null;
    this.root.hidden = true;
    this.drawList();
    this.onMap(this.list, null);
  }

  // A status line whose words follow the language (words: a function; none hides it).
  tell(node, kind = '', words = null) {
    if (words) this.msgs.set(node, { kind, words });
    else this.msgs.delete(node);
    say(node, kind, words ? words() : '');
  }

  get isOpen() {
    return !!this.id;
  }

  // frame: the app's (lang, clock)
  render(frame) {
    if (frame.lang) {
      if (this.declareForm.hidden) this.buildDeclare(); // its labels, in the new language
      this.drawStatic();
      this.drawList();
      this.refreshWhere();
      this.sig = '';
      for (const [node, m] of this.msgs) say(node, m.kind, m.words());
    }
    if (this.id && (frame.lang || frame.clock)) this.draw();
  }

  drawStatic() {
    attr(this.hide, 'aria-label', t('mci.hide'));
    attr(this.hide, 'title', t('mci.hide'));
    text(this.hospH, t('mci.hospitals_heading'));
    text(this.sendH, t('mci.send_heading'));
    text(this.closeBtn, t(this.closeSure.hidden ? 'mci.close' : 'mci.close_cancel'));
    text(this.closeSure, t('mci.close_confirm'));
    text(this.sSubmit, t('mci.send'));
    ['mci.send_triage', 'mci.send_dest', 'mci.send_unit'].forEach((k, i) => text(this.sLabels[i], t(k)));
    attr(this.sUnit, 'placeholder', t('mci.send_unit_placeholder'));
    const tri = this.sTriage.value || 'immediate';
    fill(this.sTriage, TRIAGE.map((k) => el('option', { value: k }, t(`mci.tri_${k}`))));
    this.sTriage.value = tri;
    text(this.dLabels.address, t('mci.address'));
    text(this.dLabels.radius, t('mci.radius'));
    text(this.dLabels.expected, t('mci.expected'));
    text(this.dSubmit, t('mci.declare_submit'));
    text(this.dCancel, t('mci.cancel'));
  }

  // Everything that follows the view; redrawn when it (or the minute) changes.
  draw() {
    const v = this.view;
    const now = this.feed.serverNow();
    const sig = [JSON.stringify(v), lang(), Math.floor(now / 60000), this.me()].join('|');
    if (sig === this.sig) return;
    this.sig = sig;
    if (!v) {
      text(this.title, t('mci.loading'));
      return;
    }
    this.root.dataset.id = v.id;
    this.root.dataset.status = v.status;
    text(this.title, t('mci.title', { address: v.address || t('inc.no_address') }));
    const at = Date.parse(v.declared_at);
    text(this.sub, t('mci.sub', {
      id: v.id, time: Number.isFinite(at) ? fmt.shortDateTime(at, now) : '–', who: whoText(v.declared_by, this.me()), km: fmt.km(v.radius_km),
    }));
    this.drawTotals(v);
    this.drawHospitals(v, now);
    this.drawSendOptions(v);
    this.drawPatients(v, now);
  }

  drawTotals(v) {
    const item = (key, value, extra = {}) => el('div', Object.assign({ class: 'mci-total', dataset: { total: key } }, extra),
      el('dt', null, t(`mci.total_${key}`)), el('dd', null, value));
    const unplaced = total(v.unplaced);
    fill(this.totals,
      item('asked', fmt.int(v.asked)),
      item('answered', el('span', { class: v.answered < v.asked ? 'mci-waiting' : '' }, `${fmt.int(v.answered)} / ${fmt.int(v.asked)}`)),
      item('expected', countChips(v.expected)),
      item('can', countChips(v.can)),
      item('suggested', countChips(v.suggested)),
      item('unplaced', [countChips(v.unplaced), unplaced ? el('span', { class: 'mci-unplaced-tag' }, t('mci.unplaced_n', { n: fmt.int(unplaced) })) : null],
        { class: `mci-total${unplaced ? ' is-unplaced' : ''}` }),
      item('sent', countChips(v.sent)));
  }

  drawHospitals(v, now) {
    const me = this.me();
    const head = el('thead', null, el('tr', null,
      el('th', { scope: 'col' }, t('mci.col_hospital')),
      el('th', { scope: 'col', class: 'num' }, t('mci.col_eta')),
      el('th', { scope: 'col' }, t('mci.col_answer')),
      el('th', { scope: 'col' }, t('mci.col_suggested')),
      el('th', { scope: 'col' }, t('mci.col_sent'))));
    const rows = [];
    for (const h of v.hospitals || []) {
      const name = pick(h.name) || h.id;
      const a = h.answer;
      const phoneBtn = el('button', { type: 'button', class: 'link mci-phone-btn', dataset: { phone: h.id } },
        t(a ? 'mci.phone_change' : 'mci.phone_record'));
      const answer = a
        ? el('div', { class: 'mci-answer' }, countChips(a.can),
          el('div', { class: 'mci-answer-by' }, t('mci.answer_by', { who: whoText(a.by, me), when: whenText(a.at, now) })), phoneBtn)
        : el('div', { class: 'mci-answer' }, el('span', { class: 'mci-waiting' }, t('mci.waiting')), ' ', phoneBtn);
      rows.push(el('tr', { dataset: { hospital: h.id, answered: a ? 'yes' : 'no' } },
        el('th', { scope: 'row', class: 'mci-h-name' }, name,
          h.trauma ? el('span', { class: 'mci-trauma', title: t('mci.trauma_title') }, t('mci.trauma')) : null,
          el('span', { class: 'name-sub' }, t(`tier.${h.tier}`))),
        el('td', { class: 'num mci-eta' }, t('time.dur_min', { n: etaMin(h.eta_min) })),
        el('td', { class: 'mci-h-answer' }, answer),
        el('td', { class: 'mci-h-suggested' }, countChips(h.suggested, { dashZero: true })),
        el('td', { class: 'mci-h-sent' }, countChips(h.sent, { dashZero: true }))));
      if (this.phone && this.phone.hospital === h.id) rows.push(this.phone.row);
    }
    if (!rows.length) rows.push(el('tr', null, el('td', { colspan: '5', class: 'table-message' }, t('mci.none_in_range'))));
    fill(this.hospTable, head, el('tbody', null, rows));
  }

  onTableClick(ev) {
    const b = ev.target.closest('button[data-phone]');
    if (!b) return;
    const id = b.dataset.phone;
    if (this.phone && this.phone.hospital === id) {
      this.phone = null;
    } else {
      const h = (this.view.hospitals || []).find((x) => x.id === id);
      this.phone = this.phoneForm(h);
    }
    this.sig = '';
    this.draw();
    if (this.phone) this.phone.fields.inputs.immediate.focus();
  }

  phoneForm(h) {
    const fields = countFields(`mci-phone-${h.id}`, { values: h.answer ? h.answer.can : null });
    const msg = el('p', { class: 'mci-msg', role: 'status', hidden: true });
    const save = el('button', { type: 'submit', class: 'btn btn-primary mci-phone-save' }, t('mci.phone_save'));
    const cancel = el('button', { type: 'button', class: 'btn btn-quiet' }, t('mci.cancel'));
    const form = el('form', { class: 'mci-phone', novalidate: true, 'aria-label': t('mci.phone_label', { name: pick(h.name) }) },
      el('p', { class: 'mci-phone-title' }, t('mci.phone_label', { name: pick(h.name) })),
      fields.root, el('div', { class: 'mci-actions' }, save, cancel), msg);
    const row = el('tr', { class: 'mci-phone-row', dataset: { phoneFor: h.id } }, el('td', { colspan: '5' }, form));
    cancel.addEventListener('click', () => {
      this.phone = null;
      this.sig = '';
      this.draw();
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const can = fields.read();
      if (!can) return;
      save.disabled = true;
      const r = await answerMci(this.id, h.id, can);
      save.disabled = false;
      if (!r.ok) {
        if (r.status === 422) fields.errors(r);
        this.tell(msg, 'bad', () => failure(r));
        return;
      }
      this.phone = null;
      this.announce(t('mci.phone_saved', { name: pick(h.name) }));
      await this.fetchShown();
    });
    return { hospital: h.id, fields, row };
  }

  // The destination list: the hospitals in range, nearest first, each with
  // what is left of its suggestion for the chosen class.
  drawSendOptions(v) {
    const chosen = this.sDest.value;
    const tri = this.sTriage.value || 'immediate';
    fill(this.sDest, (v.hospitals || []).map((h) => {
      const left = Math.max(((h.suggested && h.suggested[tri]) || 0) - ((h.sent && h.sent[tri]) || 0), 0);
      return el('option', { value: h.id },
        `${pick(h.name) || h.id} · ${t('time.dur_min', { n: etaMin(h.eta_min) })}${left ? ` · ${t('mci.left', { n: fmt.int(left) })}` : ''}`);
    }));
    if (chosen && [...this.sDest.options].some((o) => o.value === chosen)) this.sDest.value = chosen;
    this.suggestDest(false);
    fill(this.sUnits, [...this.feed.ambulances.keys()].sort().map((id) => el('option', { value: id })));
    this.sSubmit.disabled = !(v.hospitals || []).length || v.status !== 'open';
  }

  // Picks the nearest hospital with room left in the suggestion for the
  // chosen class, unless she chose one (or force: the class changed).
  suggestDest(force) {
    if (!this.view || (this.sDest.dataset.chosen && !force)) return;
    if (force) {
      this.sDest.dataset.chosen = '';
      this.drawSendOptions(this.view);
      return;
    }
    const tri = this.sTriage.value;
    const h = (this.view.hospitals || []).find((x) => ((x.suggested && x.suggested[tri]) || 0) > ((x.sent && x.sent[tri]) || 0));
    if (h) this.sDest.value = h.id;
  }

  async sendPatient() {
    if (!this.view || !this.sDest.value) return;
    const body = { triage: this.sTriage.value, destination: this.sDest.value };
    const unit = this.sUnit.value.trim();
    if (unit) body.unit = unit;
    this.sSubmit.disabled = true;
    const r = await sendMciPatient(this.id, body);
    this.sSubmit.disabled = false;
    if (r.status !== 201) {
      const field = r.status === 422 && r.data && Array.isArray(r.data.errors) && r.data.errors[0] ? r.data.errors[0].field : '';
      this.tell(this.sMsg, 'bad', () => (field === 'unit' ? t('mci.err_unit') : failure(r)));
      if (field === 'unit') this.sUnit.focus();
      return;
    }
    const h = (this.view.hospitals || []).find((x) => x.id === body.destination);
    this.tell(this.sMsg, 'ok', () => t('mci.sent_ok', { triage: t(`mci.tri_${body.triage}`), name: h ? pick(h.name) : body.destination }));
    this.sUnit.value = '';
    this.sDest.dataset.chosen = '';
    await this.fetchShown();
  }

  drawPatients(v, now) {
    const list = v.patients || [];
    text(this.patH, t('mci.patients_heading', { n: fmt.int(list.length) }));
    const names = new Map((v.hospitals || []).map((h) => [h.id, pick(h.name)]));
    const shown = list.slice(-PATIENTS_SHOWN).reverse();
    fill(this.patients, shown.map((p) => {
      const at = Date.parse(p.at);
      return el('li', { dataset: { n: String(p.n), triage: p.triage, destination: p.destination } },
        el('span', { class: 'mci-pat-n' }, `#${fmt.int(p.n)}`), triageMark(p.triage),
        el('span', { class: 'mci-pat-dest' }, `→ ${names.get(p.destination) || pick((this.feed.hospitals.get(p.destination) || {}).name) || p.destination}`),
        p.unit ? el('code', { class: 'mci-pat-unit' }, p.unit) : null,
        el('span', { class: 'mci-pat-at' }, Number.isFinite(at) ? fmt.shortDateTime(at, now) : ''));
    }), list.length ? null : el('li', { class: 'mci-empty' }, t('mci.patients_none')),
    list.length > PATIENTS_SHOWN ? el('li', { class: 'mci-empty' }, t('mci.patients_more', { n: fmt.int(list.length - PATIENTS_SHOWN) })) : null);
    attr(this.patients, 'title', list.length ? countText(v.sent) : null);
  }

  async closeIncident() {
    const id = this.id;
    this.closeSure.disabled = true;
    const r = await closeMci(id);
    this.closeSure.disabled = false;
    if (!r.ok && r.status !== 404) {
      this.tell(this.closeMsg, 'bad', () => failure(r));
      return;
    }
    this.list = this.list.filter((m) => m.id !== id);
    this.announce(t('mci.closed_say', { id }));
    this.close();
    this.poller.poke();
  }
}
