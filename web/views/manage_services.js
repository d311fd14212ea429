// The services and the facility of the hospital open in /manage (issue
// 15): per service it has (CT, cath lab, ...) its status now, and a small
// form to change it — available, limited or unavailable, with a reason and
// an optional expiry — sent on its own as PATCH {"services":{"<service>":
// {...}}}; and the facility (normal, compromised, evacuating, closed, with
// a reason, power, oxygen and water) as PATCH {"facility":{...}}; both with
// the version the page holds (If-Match), like the figures' form.

import { t } from '../i18n.js';
import { el, fill, text } from '../dom.js';
import { SERVICES, SVC_STATUSES, FAC_STATUSES, facilityStatus, svcEffective } from '../derive.js';
import { patchHospital } from '../api.js';
import { problem, showNotice, fromHanoiInput } from './manage_form.js';

export class ServicesEditor {
  // root: its section; opts: hospital() (the hospital in the form),
  // onApplied(h) (the server's state after a save), now(), onSignedOut().
  constructor(root, { hospital, onApplied, now, onSignedOut }) {
    this.root = root;
    this.hospital = hospital;
    this.onApplied = onApplied;
    this.now = now;
    this.onSignedOut = onSignedOut;
    this.id = null;
    this.rows = new Map(); // service -> {status, reason, until, save, current, note}
    root.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (ev.target.dataset.fac !== undefined) this.saveFacility();
      else this.save(ev.target.dataset.svc);
    });
  }

  // The form for the hospital in the form (again: another hospital or language).
  build() {
    const h = this.hospital();
    const svcs = h ? SERVICES.filter((k) => h.services && h.services[k]) : [];
    this.id = h ? h.id : null;
    this.fac = null;
    this.root.hidden = !h;
    this.rows = new Map();
    fill(this.root, h ? [el('h2', { class: 'mg-h' }, t('fac.label')), this.facilityCard(),
      svcs.length ? el('h2', { class: 'mg-h' }, t('manage.services')) : null,
      ...svcs.map((k) => this.row(k))] : null);
    this.refresh();
  }

  row(k) {
    const id = (x) => `svc-${k}-${x}`;
    const r = {
      current: el('span', { class: 'svc-current', id: id('current') }),
      status: el('select', { class: 'ctl', id: id('status') },
        SVC_STATUSES.map((s) => el('option', { value: s }, t(`svcs.${s}`)))),
      reason: el('input', { class: 'ctl', id: id('reason'), type: 'text', maxlength: '200', autocomplete: 'off' }),
      until: el('input', { class: 'ctl', id: id('until'), type: 'datetime-local' }),
      save: el('button', { type: 'submit', class: 'btn btn-primary', id: id('save') }, t('manage.svc_save')),
      note: el('p', { id: id('note'), role: 'status', hidden: true }),
    };
    this.rows.set(k, r);
    return el('form', { class: 'mg-card mg-svc', dataset: { svc: k }, novalidate: true },
      el('div', { class: 'mg-card-title' }, el('span', null, t(`svc.${k}`)), ' ', r.current),
      el('label', { class: 'field-label', for: r.status.id }, t('manage.svc_status')), r.status,
      el('label', { class: 'field-label', for: r.reason.id }, t('manage.svc_reason')), r.reason,
      el('label', { class: 'field-label', for: r.until.id }, t('manage.svc_until')), r.until,
      el('div', { class: 'mg-actions' }, r.save), r.note);
  }

  facilityCard() {
    const sel = (id, values, word) => el('select', { class: 'ctl', id },
      values.map((v) => el('option', { value: v }, word(v))));
    const f = {
      current: el('span', { class: 'svc-current', id: 'fac-current' }),
      status: sel('fac-status', FAC_STATUSES, (v) => t(`fac.${v}`)),
      reason: el('input', { class: 'ctl', id: 'fac-reason', type: 'text', maxlength: '200', autocomplete: 'off' }),
      save: el('button', { type: 'submit', class: 'btn btn-primary', id: 'fac-save' }, t('manage.fac_save')),
      note: el('p', { id: 'fac-note', role: 'status', hidden: true }),
    };
    const utils = { power: ['mains', 'generator', 'out'], oxygen: ['normal', 'low', 'out'], water: ['normal', 'out'] };
    const fields = [];
    for (const [u, values] of Object.entries(utils)) {
      f[u] = sel(`fac-${u}`, ['', ...values], (v) => (v ? t(`fac.${u}_${v}`) : '–'));
      fields.push(el('label', { class: 'field-label', for: f[u].id }, t(`fac.${u}`)), f[u]);
    }
    const h = this.hospital();
    const cur = h.facility || {};
    f.status.value = facilityStatus(h);
    f.reason.value = cur.reason || '';
    for (const u of Object.keys(utils)) f[u].value = cur[u] || '';
    this.fac = f;
    return el('form', { class: 'mg-card mg-svc', dataset: { fac: '' }, novalidate: true },
      el('div', { class: 'mg-card-title' }, el('span', null, t('fac.label')), ' ', f.current),
      el('label', { class: 'field-label', for: f.status.id }, t('manage.svc_status')), f.status,
      el('label', { class: 'field-label', for: f.reason.id }, t('manage.svc_reason')), f.reason,
      ...fields, el('div', { class: 'mg-actions' }, f.save), f.note);
  }

  // The status each service and the facility have now, from the live state.
  refresh() {
    const h = this.hospital();
    if (!h || h.id !== this.id) return;
    if (this.fac) {
      const st = facilityStatus(h);
      text(this.fac.current, t(`fac.${st}`));
      this.fac.current.dataset.status = st;
    }
    for (const [k, r] of this.rows) {
      const s = h.services && h.services[k];
      const eff = svcEffective(s, this.now());
      text(r.current, t(`svcs.${eff}`));
      r.current.dataset.status = eff;
    }
  }

  save(k) {
    const r = this.rows.get(k);
    if (!r) return;
    const body = { status: r.status.value };
    if (body.status !== 'available') {
      if (r.reason.value.trim()) body.reason = r.reason.value.trim();
      if (r.until.value) body.until = fromHanoiInput(r.until.value);
    }
    this.send(r, { services: { [k]: body } }, t(`svc.${k}`));
  }

  saveFacility() {
    const f = this.fac;
    const body = { status: f.status.value };
    if (f.reason.value.trim()) body.reason = f.reason.value.trim();
    for (const u of ['power', 'oxygen', 'water']) if (f[u].value) body[u] = f[u].value;
    this.send(f, { facility: body }, t('fac.label'));
  }

  // Sends one change with the page's version; r: the card (save, note).
  async send(r, change, what) {
    const h = this.hospital();
    if (!h || this.busy) return;
    this.busy = true;
    r.save.disabled = true;
    const res = await patchHospital(h.id, h.version, change);
    this.busy = false;
    r.save.disabled = false;
    if (res.status === 401) {
      this.onSignedOut();
      return;
    }
    if (res.ok) {
      if (res.data && typeof res.data.version === 'number') this.onApplied(res.data);
      showNotice(r.note, 'ok', t('manage.svc_saved', { service: what }));
      this.refresh();
      return;
    }
    const p = res.status === 422 || res.status === 409
      ? { key: res.status === 409 ? 'manage.conflict_title' : 'manage.invalid', detail: res.message }
      : problem(res);
    showNotice(r.note, 'bad', t(p.key, p.params), p.detail);
  }
}
