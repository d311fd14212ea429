// A plausibility check on the hospital open in /manage (issue 15 part 5):
// the server applied a report that looks odd (occupied falling too far too
// fast, over staffed, all at 0) and flagged it. The card says what, with
// one button to confirm the figures (POST /api/v1/hospitals/{id}/confirm
// with the version the page holds); to correct them she uses the figures'
// form below, and saving clears the check too.

import { t } from '../i18n.js';
import { el, fill } from '../dom.js';
import { confirmHospital } from '../api.js';
import { checkText } from '../check_text.js';
import { problem, showNotice } from './manage_form.js';

export class CheckCard {
  // root: its section; opts: hospital() (the hospital in the form),
  // onApplied(h) (the server's state after the confirmation), onSignedOut().
  constructor(root, { hospital, onApplied, onSignedOut }) {
    this.root = root;
    this.hospital = hospital;
    this.onApplied = onApplied;
    this.onSignedOut = onSignedOut;
    this.sig = null;
    this.note = el('p', { id: 'check-note', role: 'status', hidden: true });
    this.text = el('p', { id: 'check-text' });
    this.button = el('button', { type: 'button', id: 'check-confirm', class: 'btn btn-primary btn-big' });
    this.button.addEventListener('click', () => this.confirm());
  }

  // Shows the check of the hospital in the form, or hides (again: language).
  refresh(force = false) {
    const h = this.hospital();
    const c = h && h.check;
    const sig = c ? `${h.id}|${c.version}|${checkText(c)}` : '';
    if (sig === this.sig && !force) return;
    if (h && h.id !== this.id) this.note.hidden = true; // another hospital: no old note
    this.id = h ? h.id : null;
    this.sig = sig;
    if (!c) {
      // keep the "confirmed" note in view after the check has gone
      this.root.hidden = this.note.hidden;
      fill(this.root, this.note);
      return;
    }
    this.root.hidden = false;
    this.root.dataset.rule = c.rule;
    this.button.textContent = t('check.confirm');
    this.note.hidden = true;
    fill(this.text, el('span', { class: 'check-badge' }, t('check.label')), ` ${checkText(c)}`);
    fill(this.root, el('div', { class: 'mg-card mg-check' }, this.text,
      el('p', { class: 'muted' }, t('check.correct')),
      el('div', { class: 'mg-actions' }, this.button), this.note));
  }

  async confirm() {
    const h = this.hospital();
    if (!h || !h.check || this.busy) return;
    this.busy = true;
    this.button.disabled = true;
    const res = await confirmHospital(h.id, h.version);
    this.busy = false;
    this.button.disabled = false;
    if (res.status === 401) {
      this.onSignedOut();
      return;
    }
    if (res.ok) {
      showNotice(this.note, 'ok', t('check.confirmed'));
      if (res.data && typeof res.data.version === 'number') this.onApplied(res.data);
      this.refresh(true);
      return;
    }
    const p = res.status === 409 ? { key: 'manage.conflict_title', detail: res.message } : problem(res);
    showNotice(this.note, 'bad', t(p.key, p.params), p.detail);
  }
}
