// The manager's form for one hospital (/manage): per bed type a big
// "occupied" field with − / + steppers, staffed and 24 h surge beds behind
// it, the ED status with reason and expiry, and the dock that stays at the
// bottom of the screen: "confirm figures, no change" while nothing is
// edited, "undo" and "save" once something is, and every answer of the
// server in words (docs/protocol.md §3, manager writes).
//
// Each field keeps the figure the server last gave (`base`) and what the
// manager has typed (`value`); it is edited when they differ, and Save sends
// only those, with If-Match: the version the figures on screen came from.
// A live change of a field she is not editing updates it; a live change of
// one she is editing leaves her figure alone and marks it "changed
// meanwhile" — and her save then goes out with the version she started
// from, so the server answers 409 and she chooses between both figures:
// a newer figure is never overwritten without her seeing it.
//
// A save that finds no connection is kept on the phone (outbox.js) and
// shown as "not yet sent", field by field; it goes out by itself when the
// link is back (flush(), called by the page), with the version it was
// based on, so a colleague's change meanwhile is still a conflict with
// both values. It survives a reload: opening the hospital again restores
// it.

import { t, pick } from '../i18n.js';
import { el, fill, text, flash, endFlashes } from '../dom.js';
import { BED_TYPES, ED_STATUSES, edEffective, freshness, timeMs } from '../derive.js';
import { patchHospital } from '../api.js';
import { pendingEdit, keepEdit, dropEdit } from '../outbox.js';
import * as fmt from '../format.js';

const BED_KEYS = ['occupied', 'staffed', 'surge24'];
// The intensive-care detail of the ICU types (issue 15 part 3): two pairs,
// each sent whole (total and free), behind "more" like staffed.
const ICU_KEYS = ['ventilated.total', 'ventilated.free', 'ecmo.total', 'ecmo.free'];
const ICU_TYPES = ['icu_adult', 'icu_pediatric'];
const keysOf = (bed) => (ICU_TYPES.includes(bed) ? [...BED_KEYS, ...ICU_KEYS] : BED_KEYS);
// The other half of a pair's field ('ventilated.total' -> 'ventilated.free').
const partnerOf = (path) => path.replace(/\.(total|free)$/, (m, p) => (p === 'total' ? '.free' : '.total'));
const ED_KEYS = ['status', 'reason', 'until'];
const HANOI_OFFSET_MS = 7 * 3600 * 1000; // Asia/Ho_Chi_Minh keeps no daylight saving time
const QUICK_HOURS = [2, 4, 8];
// server error codes with words of their own (others read as "not valid")
const ERROR_CODES = new Set(['out_of_range', 'too_long', 'bad_time', 'bad_value', 'bad_string']);

// A datetime-local value ("2026-11-22T14:00") for ms, in Hanoi time.
export function toHanoiInput(ms) {
  return ms > 0 ? new Date(ms + HANOI_OFFSET_MS).toISOString().slice(0, 16) : '';
}

// The RFC 3339 time (with the Hanoi zone) of a datetime-local value.
export function fromHanoiInput(s) {
  return s.length === 16 ? `${s}:00+07:00` : `${s}+07:00`;
}

// What an unsuccessful answer means for the person, in words: { key,
// params, detail } (detail: the server's own message). Shared with the
// import view.
export function problem(r) {
  const wait = { n: fmt.int(r.retryAfterS || 1) };
  if (r.status === 0) return { key: 'manage.err_network' };
  if (r.status === 403) return { key: 'manage.err_forbidden', detail: r.message };
  if (r.status === 413) return { key: 'manage.err_too_large', detail: r.message };
  if (r.status === 428) return { key: 'manage.err_precondition', detail: r.message };
  if (r.status === 429) return { key: 'manage.err_rate', params: wait };
  if (r.status === 503) return { key: 'manage.err_unavailable', params: wait };
  return { key: 'manage.err_server', params: { status: r.status }, detail: r.message };
}

// Fills a notice element: kind ok | bad | warn, the words, and the server's
// own message (English, as the server writes it) below them.
export function showNotice(node, kind, words, detail) {
  node.hidden = !words;
  node.className = `notice notice-${kind}`;
  fill(node, words, detail ? el('span', { class: 'notice-detail', lang: 'en', 'data-free-text': true }, detail) : null);
}

function figure(v) {
  return Number.isInteger(v) ? String(v) : '';
}

// What the server's hospital h says for field f, as the form shows it.
function baseOf(h, f, nowMs) {
  if (f.group !== 'ed') {
    const b = h.beds && h.beds[f.group];
    return figure(b ? f.key.split('.').reduce((o, k) => (o ? o[k] : null), b) : null);
  }
  const status = edEffective(h.ed, nowMs);
  if (f.key === 'status') return status;
  if (status === 'normal') return '';
  return f.key === 'reason' ? (h.ed.reason || '') : toHanoiInput(timeMs(h.ed.until));
}

export class ManageForm {
  // root: where the form goes; opts: now() (server time, ms), me (the token
  // id: its writes read "you"), onSignedOut() (the session has ended).
  constructor(root, { now, me, onSignedOut }) {
    this.root = root;
    this.now = now;
    this.me = me;
    this.onSignedOut = onSignedOut;
    this.h = null;
    this.fields = new Map(); // path -> field
    this.stamps = new Map(); // bed type -> {source, at} of its last change seen here
    this.busy = false;
    this.conflict = null; // {current, version}
    this.notice = null; // {kind, key, params, detail, list}
    this.pending = null; // the edit kept on the phone, not yet sent (outbox.js)
    endFlashes(root);
    root.addEventListener('input', (ev) => this.onInput(ev));
    root.addEventListener('click', (ev) => this.onClick(ev));
    root.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.save();
    });
  }

  get id() {
    return this.h ? this.h.id : null;
  }

  // -- the model ---------------------------------------------------------------------

  // Starts over with hospital h (from GET /api/v1/hospitals/{id}).
  load(h) {
    this.h = structuredClone(h);
    this.version = h.version;
    this.editVersion = null;
    this.fields = new Map();
    this.stamps = new Map();
    this.conflict = null;
    this.notice = null;
    const now = this.now();
    const add = (group, key) => {
      const f = { path: group === 'ed' ? `ed.${key}` : `beds.${group}.${key}`, group, key, meanwhile: null, error: null };
      f.base = baseOf(h, f, now);
      f.value = f.base;
      this.fields.set(f.path, f);
    };
    for (const bed of BED_TYPES) if (h.beds && h.beds[bed]) for (const key of keysOf(bed)) add(bed, key);
    for (const key of ED_KEYS) add('ed', key);
    this.pending = null;
    const kept = this.me ? pendingEdit(this.me, h.id) : null;
    if (kept) this.restore(kept);
    this.build();
  }

  // Puts an edit kept on the phone back into the fields (it is sent by
  // flush()).
  restore(kept) {
    for (const [path, v] of Object.entries(kept.values)) {
      const f = this.fields.get(path);
      if (f && typeof v === 'string') f.value = v;
    }
    this.pending = kept;
    this.setNotice('warn', 'manage.unsent', { time: fmt.clock(kept.at) });
  }

  // The ED field named k (status, reason, until).
  ed(k) {
    return this.fields.get(`ed.${k}`);
  }

  dirty(f) {
    return f.value !== f.base;
  }

  changed() {
    return [...this.fields.values()].filter((f) => this.dirty(f));
  }

  // The version Save sends: the one her edits started from while a live
  // change touched one of them (so the server shows her the conflict).
  ifMatch() {
    if (this.pending) return this.pending.version; // what the kept edit was based on
    return [...this.fields.values()].some((f) => f.meanwhile !== null && this.dirty(f)) ? this.editVersion : this.version;
  }

  // A newer state of the hospital from the live feed.
  merge(h) {
    if (!this.h || !h || !(h.version > this.h.version)) return;
    const now = this.now();
    const groups = new Set();
    for (const f of this.fields.values()) {
      const nb = baseOf(h, f, now);
      if (nb === f.base) continue;
      groups.add(f.group);
      if (this.dirty(f)) {
        if (f.meanwhile === null && this.editVersion === null) this.editVersion = this.version;
        f.meanwhile = nb === f.value ? null : nb;
      } else {
        f.value = nb;
        f.flash = true;
      }
      f.base = nb;
    }
    this.stampGroups(groups, h);
    this.h = structuredClone(h);
    this.version = Math.max(h.version, this.version);
    this.refresh();
  }

  // Takes the server's hospital h as the new base (after a write, or when
  // she chooses). keep(f): keep what she typed in f.
  adopt(h, keep = () => false) {
    const now = this.now();
    const groups = new Set();
    for (const f of this.fields.values()) {
      const nb = baseOf(h, f, now);
      if (nb !== f.base) groups.add(f.group);
      if (!(this.dirty(f) && keep(f))) {
        if (f.value !== nb) f.flash = true;
        f.value = nb;
      }
      f.base = nb;
      f.meanwhile = null;
      f.error = null;
    }
    this.stampGroups(groups, h);
    this.h = structuredClone(h);
    this.version = h.version;
    this.editVersion = null;
    this.conflict = null;
    this.pending = null; // she has seen this version: a save goes against it (and is kept again if it cannot go)
    this.refresh();
  }

  stampGroups(groups, h) {
    for (const g of groups) if (g !== 'ed') this.stamps.set(g, { source: h.source, at: h.at });
  }

  // Client checks: what the server could never take. The figures' range is
  // the server's to judge (its 422 names the field).
  validate() {
    let ok = true;
    const fail = (f, key) => {
      f.error = { key };
      ok = false;
    };
    for (const f of this.changed()) {
      if (f.group === 'ed') continue;
      if (f.value.trim() === '') fail(f, 'manage.err_required');
      else if (!/^\d+$/.test(f.value.trim())) fail(f, 'manage.err_number');
      // a pair goes whole: its other half is needed too
      const other = f.key.includes('.') ? this.fields.get(partnerOf(f.path)) : null;
      if (other && !this.dirty(other) && !/^\d+$/.test(other.value.trim())) fail(other, 'manage.err_required');
    }
    const status = this.ed('status');
    const reason = this.ed('reason');
    const edEdited = ED_KEYS.some((k) => this.dirty(this.ed(k)));
    if (edEdited && status.value !== 'normal' && reason.value.trim() === '') fail(reason, 'manage.err_reason');
    return ok;
  }

  // The PATCH body: only what changed.
  change() {
    const out = {};
    let ed = false;
    for (const f of this.changed()) {
      if (f.group === 'ed') {
        ed = true;
        continue;
      }
      out.beds = out.beds || {};
      out.beds[f.group] = out.beds[f.group] || {};
      const [key, half] = f.key.split('.');
      if (half) { // the pair, whole
        const v = (p) => Number(this.fields.get(`beds.${f.group}.${key}.${p}`).value.trim());
        out.beds[f.group][key] = { total: v('total'), free: v('free') };
      } else {
        out.beds[f.group][f.key] = Number(f.value.trim());
      }
    }
    if (ed) {
      const v = (k) => this.ed(k).value.trim();
      out.ed = { status: v('status') };
      if (v('status') !== 'normal') {
        if (v('reason')) out.ed.reason = v('reason');
        if (v('until')) out.ed.until = fromHanoiInput(v('until'));
      }
      // the ED status is replaced as a whole: keep the waiting count
      if (this.h.ed && Number.isInteger(this.h.ed.waiting)) out.ed.waiting = this.h.ed.waiting;
    }
    return out;
  }

  // -- talking to the server -----------------------------------------------------------

  async save() {
    if (this.busy || !this.h) return;
    for (const f of this.fields.values()) f.error = null;
    if (!this.changed().length) return;
    if (!this.validate()) {
      this.setNotice('bad', 'manage.fix_fields');
      this.refresh();
      this.focusFirstError();
      return;
    }
    const sent = new Map([...this.fields.values()].map((f) => [f.path, f.value]));
    const change = this.change();
    const r = await this.send(change);
    if (!r) return;
    if (r.status === 0) {
      this.keepUnsent(change);
    } else if (r.status === 200 || r.status === 202) {
      this.forget();
      const typedSince = (f) => f.value !== sent.get(f.path);
      if (r.status === 200) {
        this.adopt(r.data, typedSince);
        this.setNotice('ok', 'manage.saved', { time: fmt.clock(timeMs(r.data.updated) || this.now()), version: fmt.int(r.data.version) });
      } else {
        // stored, not yet in this server's live state: what she sent is the figure now
        for (const f of this.fields.values()) if (!typedSince(f)) f.base = f.value;
        this.version = r.data.version;
        this.setNotice('ok', 'manage.accepted');
      }
    } else if (r.status === 409 && r.error === 'conflict' && r.data.current) {
      this.conflict = { current: r.data.current };
      this.notice = null;
    } else {
      await this.failed(r);
    }
    this.refresh();
  }

  // No connection: the edit is kept on the phone until it can be sent.
  keepUnsent(change) {
    const values = {};
    for (const f of this.changed()) values[f.path] = f.value;
    const edit = { owner: this.me || '', hospital: this.h.id, version: this.ifMatch(), values, change, at: Date.now() };
    if (keepEdit(edit)) {
      this.pending = edit;
      this.setNotice('warn', 'manage.unsent', { time: fmt.clock(edit.at) });
    } else {
      this.setNotice('bad', 'manage.err_network'); // the phone cannot keep it either
    }
  }

  // The kept edit is sent, or she gave it up: off the phone.
  forget() {
    if (this.h && this.me) dropEdit(this.me, this.h.id);
    this.pending = null;
  }

  // Sends the edit kept on the phone, if there is one and nothing else is
  // going on (the page calls it when the connection is back).
  flush() {
    if (!this.pending || this.busy || this.conflict) return;
    if (!this.changed().length) {
      this.forget(); // the figures on screen are hers already
      this.refresh();
      return;
    }
    this.save();
  }

  // "Figures confirmed, no change": a new report time.
  async confirm() {
    if (this.busy || !this.h || this.changed().length) return;
    const r = await this.send({ confirm: true });
    if (!r) return;
    if (r.status === 200) {
      this.adopt(r.data);
      this.setNotice('ok', 'manage.confirmed', { time: fmt.clock(timeMs(r.data.at) || this.now()) });
    } else if (r.status === 409 && r.data && r.data.current) {
      // someone changed them first: show theirs, let her look before confirming
      this.adopt(r.data.current);
      this.setNotice('warn', 'manage.confirm_conflict', this.byParams(r.data.current));
    } else {
      await this.failed(r);
    }
    this.refresh();
  }

  async send(change) {
    this.busy = true;
    this.refreshDock();
    const r = await patchHospital(this.h.id, this.ifMatch(), change);
    this.busy = false;
    if (r.status === 401) {
      this.onSignedOut();
      return null;
    }
    return r;
  }

  // Any other answer: words in the dock, each field's error at the field.
  // A kept edit is given up unless the server only asks to wait.
  async failed(r) {
    if (r.status !== 429 && r.status !== 503) this.forget();
    if (r.status === 422 && r.data && Array.isArray(r.data.errors)) {
      const rest = [];
      for (const e of r.data.errors) {
        const f = this.fields.get(e.field);
        if (f) f.error = { key: ERROR_CODES.has(e.code) ? `manage.err_${e.code}` : 'manage.err_invalid', detail: e.message };
        else rest.push(e.message);
      }
      this.setNotice('bad', 'manage.invalid', null, rest.join(' · '));
      this.refresh();
      this.focusFirstError();
      return;
    }
    if (r.status === 409) {
      // a report with a later time is stored: show it, keep what she typed
      this.setNotice('warn', 'manage.newer_report', null, r.message);
      return;
    }
    const p = problem(r);
    this.setNotice('bad', p.key, p.params, p.detail);
  }

  keepMine() {
    const current = this.conflict.current;
    this.adopt(current, () => true);
    if (!this.changed().length) {
      this.setNotice('ok', 'manage.same_now');
      this.refresh();
      return;
    }
    this.save();
  }

  useCurrent() {
    this.forget();
    this.adopt(this.conflict.current);
    this.setNotice('ok', 'manage.used_current');
    this.refresh();
  }

  setNotice(kind, key, params, detail) {
    this.notice = { kind, key, params: params || {}, detail };
  }

  byParams(h) {
    const at = timeMs(h.updated) || timeMs(h.at);
    return { source: this.sourceName(h.source), time: at ? fmt.clock(at) : '–' };
  }

  sourceName(src) {
    if (!src) return t('manage.source_none');
    return src === `web:${this.me}` ? t('manage.source_you', { source: src }) : src;
  }

  focusFirstError() {
    const f = [...this.fields.values()].find((x) => x.error);
    if (!f || !f.els) return;
    if (f.els.more) f.els.more.open = true;
    const target = f.els.input || f.els.focus;
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: 'center' });
  }

  // -- events ------------------------------------------------------------------------------

  onInput(ev) {
    const path = ev.target.dataset && ev.target.dataset.field;
    const f = path && this.fields.get(path);
    if (!f) return;
    f.value = ev.target.value;
    f.error = null;
    if (!this.dirty(f)) f.meanwhile = null;
    this.refresh({ inputs: false });
  }

  onClick(ev) {
    const b = ev.target.closest('button');
    if (!b || !this.root.contains(b)) return;
    if (b.dataset.step) {
      const f = this.fields.get(b.dataset.for);
      const n = /^\d+$/.test(f.value.trim()) ? Number(f.value.trim()) : Number(f.base || 0);
      f.value = String(Math.max(n + Number(b.dataset.step), 0));
      f.error = null;
      if (!this.dirty(f)) f.meanwhile = null;
      this.refresh();
    } else if (b.dataset.hours) {
      const f = this.ed('until');
      const ms = Math.ceil((this.now() + Number(b.dataset.hours) * 3600000) / 60000) * 60000;
      f.value = b.dataset.hours === '0' ? '' : toHanoiInput(ms);
      f.error = null;
      this.refresh();
    } else if (b.id === 'mg-confirm') this.confirm();
    else if (b.id === 'mg-undo') {
      this.forget();
      for (const f of this.fields.values()) {
        f.value = f.base;
        f.error = null;
        f.meanwhile = null;
      }
      this.editVersion = null;
      this.notice = null;
      this.refresh();
    } else if (b.id === 'mg-keep') this.keepMine();
    else if (b.id === 'mg-use') this.useCurrent();
  }

  // -- building --------------------------------------------------------------------------

  // The whole form, again (a new hospital, another language): the figures
  // live in the model, so nothing typed is lost.
  build() {
    if (!this.h) {
      this.root.replaceChildren();
      return;
    }
    const beds = BED_TYPES.filter((b) => this.fields.has(`beds.${b}.occupied`));
    this.cards = new Map();
    this.nameEl = el('h2', { id: 'mg-name', class: 'mg-name' }, pick(this.h.name));
    this.reportEl = el('p', { id: 'mg-report', class: 'mg-report' });
    this.noticeEl = el('p', { id: 'mg-notice', role: 'status', hidden: true });
    this.conflictEl = el('div', { id: 'mg-conflict', class: 'mg-conflict', role: 'alert', hidden: true });
    this.confirmBtn = el('button', { type: 'button', id: 'mg-confirm', class: 'btn btn-ok btn-big' });
    this.undoBtn = el('button', { type: 'button', id: 'mg-undo', class: 'btn btn-quiet btn-big' });
    this.saveBtn = el('button', { type: 'submit', id: 'mg-save', class: 'btn btn-primary btn-big' });
    this.actions = el('div', { class: 'mg-actions' }, this.confirmBtn, this.undoBtn, this.saveBtn);
    this.dock = el('div', { id: 'mg-dock', class: 'mg-dock' }, this.noticeEl, this.conflictEl, this.actions);
    fill(this.root,
      el('div', { class: 'mg-head' }, this.nameEl, this.reportEl),
      el('form', { id: 'mg-form', class: 'mg-form', novalidate: true, 'aria-labelledby': 'mg-name' },
        el('div', { class: 'mg-cards' }, beds.map((b) => this.bedCard(b)), this.edCard()),
        this.dock));
    this.refresh();
  }

  numberInput(f, cls) {
    return el('input', {
      id: `f-${f.group}-${f.key}`, class: `ctl num-ctl ${cls}`, type: 'text', inputmode: 'numeric', pattern: '[0-9]*',
      autocomplete: 'off', enterkeyhint: 'done', dataset: { field: f.path }, 'aria-describedby': `${f.group}-${f.key}-last ${f.group}-${f.key}-note`,
    });
  }

  // The lines under a field: its last value, "changed meanwhile", its error.
  fieldNotes(f) {
    f.els.last = el('span', { id: `${f.group}-${f.key}-last`, class: 'mg-last' });
    f.els.note = el('span', { id: `${f.group}-${f.key}-note`, class: 'mg-notes' });
    return [f.els.last, f.els.note];
  }

  bedCard(bed) {
    const label = t(`bed.${bed}.long`);
    const occ = this.fields.get(`beds.${bed}.occupied`);
    occ.els = {};
    occ.els.input = this.numberInput(occ, 'big-num');
    const step = (n, sign) => el('button', {
      type: 'button', class: 'step', dataset: { step: String(n), for: occ.path },
      'aria-label': t(n < 0 ? 'manage.minus' : 'manage.plus', { bed: label }),
    }, sign);
    const free = el('span', { class: 'mg-free' });
    const summary = el('summary', { class: 'mg-more-sum' });
    const more = el('details', { class: 'mg-more' }, summary);
    more.append(el('div', { class: 'mg-minis' }, ['staffed', 'surge24'].map((k) => this.miniField(this.fields.get(`beds.${bed}.${k}`), more))));
    if (ICU_TYPES.includes(bed)) {
      more.append(el('div', { class: 'mg-minis mg-icu', dataset: { icu: bed } },
        ICU_KEYS.map((k) => this.miniField(this.fields.get(`beds.${bed}.${k}`), more))));
    }
    const card = el('fieldset', { class: 'mg-card', dataset: { bed } },
      el('legend', { class: 'mg-card-title' }, el('span', null, label), free),
      el('label', { class: 'field-label', for: occ.els.input.id }, t('manage.occupied')),
      el('div', { class: 'stepper' }, step(-1, '−'), occ.els.input, step(1, '+')),
      this.fieldNotes(occ),
      more);
    this.cards.set(bed, { free, summary });
    return card;
  }

  miniField(f, more) {
    f.els = { more };
    f.els.input = this.numberInput(f, 'mini-num');
    return el('div', { class: 'mg-mini' },
      el('label', { class: 'field-label', for: f.els.input.id }, t(`manage.${f.key}`)),
      f.els.input, this.fieldNotes(f));
  }

  edCard() {
    const status = this.ed('status');
    const reason = this.ed('reason');
    const until = this.ed('until');
    status.els = { radios: [] };
    const seg = el('div', { class: 'seg', role: 'radiogroup', 'aria-labelledby': 'ed-status-label' },
      ED_STATUSES.map((s) => {
        const r = el('input', { type: 'radio', name: 'ed-status', id: `ed-s-${s}`, value: s, dataset: { field: status.path } });
        status.els.radios.push(r);
        return el('label', { class: `seg-opt seg-${s}`, for: r.id }, r, el('span', null, t(`ed.${s}`)));
      }));
    status.els.focus = status.els.radios[0];
    reason.els = {};
    reason.els.input = el('input', {
      id: 'f-ed-reason', class: 'ctl', type: 'text', maxlength: '200', autocomplete: 'off',
      dataset: { field: reason.path }, 'aria-describedby': 'ed-reason-last ed-reason-note',
    });
    until.els = {};
    until.els.input = el('input', {
      id: 'f-ed-until', class: 'ctl', type: 'datetime-local', dataset: { field: until.path },
      'aria-describedby': 'ed-until-hint ed-until-last ed-until-note',
    });
    const quick = [...QUICK_HOURS.map((h) => el('button', { type: 'button', class: 'chip-btn', dataset: { hours: String(h) } },
      t('manage.ed_plus_hours', { n: fmt.int(h) }))),
    el('button', { type: 'button', class: 'chip-btn', dataset: { hours: '0' } }, t('manage.ed_no_until'))];
    this.edDetails = el('div', { class: 'mg-ed-more' },
      el('div', null,
        el('label', { class: 'field-label', for: 'f-ed-reason' }, t('manage.ed_reason')),
        reason.els.input, this.fieldNotes(reason)),
      el('div', null,
        el('label', { class: 'field-label', for: 'f-ed-until' }, t('manage.ed_until')),
        until.els.input,
        el('div', { class: 'chips-row' }, quick),
        el('span', { id: 'ed-until-hint', class: 'hint' }, t('manage.ed_until_hint')),
        this.fieldNotes(until)));
    return el('fieldset', { class: 'mg-card mg-ed', dataset: { bed: 'ed' } },
      el('legend', { class: 'mg-card-title' }, el('span', null, t('manage.ed'))),
      el('span', { id: 'ed-status-label', class: 'field-label' }, t('manage.ed_status')),
      seg, this.fieldNotes(status),
      this.edDetails);
  }

  // -- rendering -----------------------------------------------------------------------------

  // Brings the DOM up to the model. inputs: false while she types (the
  // input already shows what she typed).
  refresh({ inputs = true } = {}) {
    if (!this.h || !this.nameEl) return;
    for (const f of this.fields.values()) this.refreshField(f, inputs);
    for (const bed of this.cards.keys()) this.refreshCard(bed);
    const edOpen = this.ed('status').value !== 'normal';
    this.edDetails.hidden = !edOpen;
    this.refreshClock();
    this.refreshDock();
  }

  refreshField(f, inputs) {
    const els = f.els;
    if (!els) return;
    if (els.radios) {
      for (const r of els.radios) r.checked = r.value === f.value;
    } else if (inputs && els.input.value !== f.value) {
      els.input.value = f.value;
    }
    const input = els.input || els.radios[0].closest('.seg');
    input.classList.toggle('is-dirty', this.dirty(f));
    if (els.input) els.input.setAttribute('aria-invalid', f.error ? 'true' : 'false');
    if (f.flash) {
      flash(input);
      f.flash = false;
    }
    const notes = [];
    if (this.pending && this.dirty(f)) notes.push(el('span', { class: 'mg-unsent' }, t('manage.unsent_field')));
    if (f.meanwhile !== null) {
      notes.push(el('span', { class: 'mg-meanwhile' }, t('manage.meanwhile', { value: this.shown(f, f.meanwhile) })));
    }
    if (f.error) {
      notes.push(el('span', { class: 'mg-err' }, t(f.error.key),
        f.error.detail ? el('span', { class: 'notice-detail', lang: 'en', 'data-free-text': true }, f.error.detail) : null));
    }
    fill(els.note, notes);
    if (els.more && (f.error || f.meanwhile !== null)) els.more.open = true;
  }

  // A field's value as words: figures, ED statuses and times.
  shown(f, v) {
    if (v === '') return '–';
    if (f.group !== 'ed') return fmt.int(Number(v));
    if (f.key === 'status') return t(`ed.${v}`);
    if (f.key === 'until') return fmt.shortDateTime(Date.parse(fromHanoiInput(v)), this.now());
    return v;
  }

  refreshCard(bed) {
    const { free, summary } = this.cards.get(bed);
    const num = (k) => {
      const v = this.fields.get(`beds.${bed}.${k}`).value.trim();
      return /^\d+$/.test(v) ? Number(v) : null;
    };
    const staffed = num('staffed');
    const occupied = num('occupied');
    if (staffed === null || occupied === null) text(free, t('manage.free_unknown'));
    else if (occupied > staffed) text(free, t('manage.over', { n: fmt.int(occupied - staffed), staffed: fmt.int(staffed) }));
    else text(free, t('manage.free', { n: fmt.int(staffed - occupied), staffed: fmt.int(staffed) }));
    free.classList.toggle('is-over', staffed !== null && occupied !== null && occupied >= staffed);
    const sv = (k) => this.shown(this.fields.get(`beds.${bed}.${k}`), this.fields.get(`beds.${bed}.${k}`).value);
    text(summary, t('manage.more', { staffed: sv('staffed'), surge: sv('surge24') }));
  }

  // Everything that says "when": the report line and each field's last value.
  refreshClock() {
    if (!this.h || !this.reportEl) return;
    const now = this.now();
    const at = timeMs(this.h.at);
    const state = freshness(this.h.at, this.h.report_interval_s, now);
    const when = (ms) => ({ time: fmt.shortDateTime(ms, now), ago: fmt.ago(ms, now) });
    fill(this.reportEl, at
      ? [t('manage.report', Object.assign(when(at), { source: this.sourceName(this.h.source) })), ' ',
        el('span', { class: `fresh-tag fresh-${state}` }, t(`fresh.${state}`))]
      : t('manage.report_never'));
    for (const f of this.fields.values()) {
      if (!f.els || !f.els.last) continue;
      const base = this.shown(f, f.base);
      if (f.key === 'reason') {
        // free text, in whatever language it was written
        fill(f.els.last, f.base === '' ? null : [`${t('manage.last_label')} `, el('span', { 'data-free-text': true }, base)]);
      } else if (f.key === 'until') text(f.els.last, f.base === '' ? '' : t('manage.last_short', { value: base }));
      else if (f.key !== 'occupied' && f.group !== 'ed') text(f.els.last, t('manage.last_short', { value: base }));
      else {
        const stamp = (f.group !== 'ed' && this.stamps.get(f.group)) || { source: this.h.source, at: this.h.at };
        const sAt = f.base === '' ? 0 : timeMs(stamp.at); // an unknown figure was never reported
        text(f.els.last, sAt ? t('manage.last', Object.assign(when(sAt), { value: base, source: this.sourceName(stamp.source) }))
          : t('manage.last_never', { value: base }));
      }
    }
  }

  refreshDock() {
    if (!this.dock) return;
    const n = this.changed().length;
    const conflict = !!this.conflict;
    this.actions.hidden = conflict;
    this.confirmBtn.hidden = n > 0;
    this.undoBtn.hidden = n === 0;
    this.saveBtn.hidden = n === 0;
    this.confirmBtn.disabled = this.busy;
    this.saveBtn.disabled = this.busy;
    text(this.confirmBtn, this.busy && n === 0 ? t('manage.confirming') : t('manage.confirm'));
    text(this.undoBtn, t('manage.undo'));
    text(this.saveBtn, this.busy ? t('manage.saving') : t(n === 1 ? 'manage.save_one' : 'manage.save', { n: fmt.int(n) }));
    const nt = this.notice;
    showNotice(this.noticeEl, nt ? nt.kind : 'ok', nt ? t(nt.key, nt.params) : '', nt && nt.detail);
    this.conflictEl.hidden = !conflict;
    if (conflict) this.renderConflict();
  }

  renderConflict() {
    const cur = this.conflict.current;
    const now = this.now();
    const rows = [];
    for (const f of this.changed()) {
      const theirs = baseOf(cur, f, now);
      if (theirs === f.value) continue;
      const what = f.group === 'ed' ? t(`manage.ed_${f.key}`) : `${t(`bed.${f.group}.short`)} · ${t(`manage.${f.key}`)}`;
      // the figure's name on a row of its own: both values fit a phone's width
      rows.push(el('tr', { class: 'diff-what' }, el('th', { colspan: '2', scope: 'colgroup' }, what)),
        el('tr', { dataset: { field: f.path } },
          el('td', { class: 'mine', 'data-free-text': f.key === 'reason' }, this.shown(f, f.value)),
          el('td', { class: 'current', 'data-free-text': f.key === 'reason' }, this.shown(f, theirs))));
    }
    fill(this.conflictEl,
      el('h3', { class: 'mg-conflict-title' }, t('manage.conflict_title')),
      el('p', null, t('manage.conflict_by', this.byParams(cur))),
      el('table', { class: 'grid mg-diff' },
        el('thead', null, el('tr', null,
          el('th', { scope: 'col' }, t('manage.conflict_mine')), el('th', { scope: 'col' }, t('manage.conflict_current')))),
        el('tbody', null, rows)),
      el('div', { class: 'mg-actions' },
        el('button', { type: 'button', id: 'mg-use', class: 'btn btn-quiet btn-big' }, t('manage.use_current')),
        el('button', { type: 'button', id: 'mg-keep', class: 'btn btn-primary btn-big' }, t('manage.keep_mine'))));
  }
}
