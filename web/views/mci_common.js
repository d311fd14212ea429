// What the dispatcher's MCI panel (mci_panel.js) and the manager's ask card
// (mci_ask.js) share: the three triage classes and their marks (letter AND
// colour, never colour alone), counts as chips, the three number fields of
// an answer or a declaration with the server's 422 shown at each field, who
// answered in words, and the poller (the server pushes no MCI changes:
// pages ask every few seconds while one is open, rarely otherwise).

import { t } from '../i18n.js';
import * as fmt from '../format.js';
import { el, fill, text } from '../dom.js';

export const TRIAGE = ['immediate', 'delayed', 'minor'];
export const COUNT_MAX = 1000; // the server's limit per class

// The mark of a triage class: its letter on its colour.
export function triageMark(k, n) {
  return el('span', { class: `tri tri-${k}`, title: t(`mci.tri_${k}`) },
    el('span', { class: 'tri-k' }, t(`mci.tri_${k}_short`)), n === undefined ? null : el('span', { class: 'tri-n' }, fmt.int(n)));
}

// Counts {immediate, delayed, minor} as three marks; zero ones are quiet
// (with dashZero, all zero is a dash).
export function countChips(c, { dashZero = false } = {}) {
  const n = (k) => (c && c[k]) || 0;
  const dash = dashZero && total(c) === 0;
  return el('span', { class: `tri-counts${dash ? ' is-none' : ''}`, title: countText(c), dataset: { counts: TRIAGE.map(n).join(',') } },
    dash ? '–' : TRIAGE.map((k) => {
      const m = triageMark(k, (c && c[k]) || 0);
      if (!(c && c[k])) m.classList.add('is-zero');
      return m;
    }));
}

// "Immediate 2 · Delayed 3 · Minor 4"
export function countText(c) {
  return TRIAGE.map((k) => `${t(`mci.tri_${k}`)} ${fmt.int((c && c[k]) || 0)}`).join(' · ');
}

export const total = (c) => TRIAGE.reduce((s, k) => s + ((c && c[k]) || 0), 0);

// Who answered: "you", or the account's id as the server keeps it.
export function whoText(by, me) {
  return by && by === me ? t('mci.by_you') : (by || '–');
}

// Travel minutes as shown: whole minutes, at least 1.
export const etaMin = (eta) => fmt.int(Math.max(Math.ceil(eta || 0), 1));

// "14:05 (3 min ago)"
export function whenText(iso, now) {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && ms > 0 ? `${fmt.shortDateTime(ms, now)} (${fmt.ago(ms, now)})` : '–';
}

// Three labelled number fields, one per triage class. prefix: the ids'
// start; big: the manager's steppers (− / + of 44 px and more). Returns
// {root, inputs, set(counts), read() -> counts | null (errors shown), errors(r) -> handled}.
export function countFields(prefix, { big = false, values } = {}) {
  const inputs = {};
  const notes = {};
  const rows = TRIAGE.map((k) => {
    const id = `${prefix}-${k}`;
    const input = el('input', {
      id, class: `ctl num-ctl ${big ? 'big-num' : 'mci-num'}`, type: 'text', inputmode: 'numeric', pattern: '[0-9]*',
      autocomplete: 'off', enterkeyhint: 'done', dataset: { triage: k }, 'aria-describedby': `${id}-note`,
    });
    inputs[k] = input;
    notes[k] = el('span', { id: `${id}-note`, class: 'mci-field-note' });
    const label = el('label', { class: 'mci-field-label', for: id }, triageMark(k), ' ', t(`mci.tri_${k}`));
    if (!big) return el('div', { class: 'mci-field', dataset: { triage: k } }, label, input, notes[k]);
    const step = (n, sign) => el('button', {
      type: 'button', class: 'step', dataset: { step: String(n), for: id },
      'aria-label': t(n < 0 ? 'mci.minus' : 'mci.plus', { what: t(`mci.tri_${k}`) }),
    }, sign);
    return el('div', { class: 'mci-field mci-big', dataset: { triage: k } }, label,
      el('div', { class: 'stepper' }, step(-1, '−'), input, step(1, '+')), notes[k]);
  });
  const root = el('div', { class: big ? 'mci-fields mci-fields-big' : 'mci-fields' }, rows);
  const note = (k, msg) => {
    text(notes[k], msg || '');
    notes[k].hidden = !msg;
    inputs[k].setAttribute('aria-invalid', msg ? 'true' : 'false');
  };
  root.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-step]');
    if (!b) return;
    const input = root.querySelector(`#${b.dataset.for}`);
    const n = /^\d+$/.test(input.value.trim()) ? Number(input.value.trim()) : 0;
    input.value = String(Math.min(Math.max(n + Number(b.dataset.step), 0), COUNT_MAX));
    note(input.dataset.triage, '');
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
  root.addEventListener('input', (ev) => {
    if (ev.target.dataset.triage) note(ev.target.dataset.triage, '');
  });
  const set = (c) => {
    for (const k of TRIAGE) {
      inputs[k].value = c && Number.isInteger(c[k]) ? String(c[k]) : '';
      note(k, '');
    }
  };
  set(values);
  return {
    root,
    inputs,
    set,
    // the counts typed (an empty field is 0), or null with the problems at the fields
    read() {
      const out = {};
      let ok = true;
      for (const k of TRIAGE) {
        const v = inputs[k].value.trim();
        if (v !== '' && !/^\d+$/.test(v)) {
          note(k, t('mci.err_number'));
          ok = false;
        } else {
          out[k] = v === '' ? 0 : Number(v);
          note(k, '');
        }
      }
      if (!ok) root.querySelector('[aria-invalid="true"]').focus();
      return ok ? out : null;
    },
    // a 422's errors[].field ("immediate", "expected.minor") at the fields;
    // true when one was placed
    errors(r) {
      let placed = false;
      for (const e of (r.data && Array.isArray(r.data.errors)) ? r.data.errors : []) {
        const k = String(e.field || '').split('.').pop();
        if (!inputs[k]) continue;
        note(k, e.code === 'out_of_range' ? t('mci.err_range', { max: fmt.int(COUNT_MAX) }) : t('mci.err_invalid'));
        placed = true;
      }
      const first = root.querySelector('[aria-invalid="true"]');
      if (first) first.focus();
      return placed;
    },
  };
}

// A status line: kind ok | bad | '' (neutral); empty words hide it.
export function say(node, kind, words) {
  node.className = `mci-msg${kind ? ` mci-msg-${kind}` : ''}`;
  fill(node, words || '');
  node.hidden = !words;
}

// An answer that is not a success, in words.
export function failure(r) {
  if (r.status === 0) return t('mci.err_network');
  if (r.status === 401) return t('mci.err_signin');
  if (r.status === 403) return t('mci.err_forbidden');
  if (r.status === 404) return t('mci.err_gone');
  if (r.status === 422) return t('mci.err_fields');
  return t('mci.err_other', { status: r.status });
}

// Calls fn() (async; resolves true while something is open: the next call
// comes after fastMs, else after slowMs) until stop(). poke() calls it now.
export class Poller {
  constructor(fn, { fastMs = 3000, slowMs = 15000 } = {}) {
    this.fn = fn;
    this.fastMs = fastMs;
    this.slowMs = slowMs;
    this.timer = 0;
    this.running = false;
    this.busy = false;
    this.again = false;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.poke();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
  }

  async poke() {
    if (!this.running) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.busy = true;
    let open = false;
    try {
      open = await this.fn();
    } finally {
      this.busy = false;
    }
    if (!this.running) return;
    if (this.again) {
      this.again = false;
      this.poke();
      return;
    }
    this.timer = setTimeout(() => this.poke(), open ? this.fastMs : this.slowMs);
  }
}
