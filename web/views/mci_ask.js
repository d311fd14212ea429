// The manager view's mass-casualty card (/manage; docs/dispatch.md
// "Mass-casualty mode"): when an open MCI has one of her hospitals in
// range, a card at the top of the page asks "how many can you take now?"
// with three big number fields (Immediate / Delayed / Minor, − / +
// steppers) and Send (PUT /api/v1/mci/{id}/answers/{hospital}); it shows
// her last answer (or the one 115 took on the phone), who gave it and
// when, and the server's 422 at the fields. One card per MCI and hospital.
//
// The server pushes no MCI changes: the open list (GET /api/v1/mci), then
// each open one (GET /api/v1/mci/{id}: is her hospital in `hospitals`?),
// every FAST_MS while she is asked, every SLOW_MS otherwise. What she typed
// survives the polls; a new answer from elsewhere replaces the figures only
// while she has not touched them.

import { t, pick } from '../i18n.js';
import * as fmt from '../format.js';
import { el, fill, text } from '../dom.js';
import { listMcis, getMci, answerMci } from '../api.js';
import { TRIAGE, countChips, countFields, whoText, whenText, say, failure, Poller, etaMin } from './mci_common.js';

const FAST_MS = 4000;
const SLOW_MS = 15000;

export class MciAsk {
  // root: the section at the top of the page. opts: hospitals() (the ids
  // she answers for), me() (her token id), now() (server time),
  // onSignedOut(), onChange(n) (cards shown).
  constructor(root, { hospitals, me, now, onSignedOut, onChange = () => {} }) {
    this.root = root;
    this.hospitals = hospitals;
    this.me = me;
    this.now = now;
    this.onSignedOut = onSignedOut;
    this.onChange = onChange;
    this.cards = new Map(); // "mci|hospital" -> card
    this.poller = new Poller(() => this.poll(), { fastMs: FAST_MS, slowMs: SLOW_MS });
    root.hidden = true;
  }

  start() {
    this.poller.start();
  }

  poke() {
    this.poller.poke();
  }

  async poll() {
    const r = await listMcis();
    if (r.status === 401) {
      this.onSignedOut();
      return false;
    }
    if (!r.ok || !r.data || !Array.isArray(r.data.mcis)) return this.cards.size > 0; // try again later
    const mine = new Set(this.hospitals());
    const seen = new Set();
    for (const m of r.data.mcis) {
      const one = await getMci(m.id);
      if (!one.ok || !one.data || one.data.status !== 'open') continue;
      for (const h of one.data.hospitals || []) {
        if (!mine.has(h.id)) continue;
        const key = `${m.id}|${h.id}`;
        seen.add(key);
        this.update(key, one.data, h);
      }
    }
    for (const [key, card] of this.cards) {
      if (seen.has(key)) continue;
      card.root.remove();
      this.cards.delete(key);
    }
    this.root.hidden = this.cards.size === 0;
    this.onChange(this.cards.size);
    return this.cards.size > 0;
  }

  update(key, mci, h) {
    let card = this.cards.get(key);
    if (!card) {
      card = { key, mci, h, touched: false };
      this.build(card);
      this.cards.set(key, card);
      this.root.append(card.root);
    }
    const before = JSON.stringify(card.h.answer);
    card.mci = mci;
    card.h = h;
    if (!card.touched && JSON.stringify(h.answer) !== before) card.fields.set(h.answer ? h.answer.can : null);
    this.draw(card);
  }

  // The card's DOM; the figures typed stay when it is built again (language).
  build(card) {
    const typed = card.fields ? TRIAGE.map((k) => card.fields.inputs[k].value) : null;
    const id = `mci-ask-${card.mci.id}-${card.h.id}`;
    card.title = el('h2', { id: `${id}-title`, class: 'mci-ask-title' },
      el('span', { class: 'mci-mark', 'aria-hidden': 'true' }, 'MCI'), el('span', null, t('mci.ask_title')));
    card.text = el('p', { class: 'mci-ask-text' });
    card.expected = el('p', { class: 'mci-ask-expected' });
    card.fields = countFields(id, { big: true, values: card.h.answer ? card.h.answer.can : null });
    if (typed) TRIAGE.forEach((k, i) => { card.fields.inputs[k].value = typed[i]; });
    card.send = el('button', { type: 'submit', class: 'btn btn-primary btn-big mci-ask-send' }, t('mci.ask_send'));
    card.msg = el('p', { class: 'mci-msg', role: 'status', hidden: true });
    card.last = el('p', { class: 'mci-ask-last' });
    const form = el('form', { class: 'mci-ask-form', novalidate: true, 'aria-labelledby': `${id}-title` },
      card.fields.root, card.send, card.msg);
    form.addEventListener('input', () => {
      card.touched = true;
    });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.send(card);
    });
    const root = el('section', { class: 'card mci-ask', role: 'region', 'aria-labelledby': `${id}-title`, dataset: { mci: card.mci.id, hospital: card.h.id } },
      card.title, card.text, card.expected, form, card.last);
    if (card.root) card.root.replaceWith(root);
    card.root = root;
  }

  draw(card) {
    const { mci, h } = card;
    const now = this.now();
    text(card.text, t('mci.ask_text', {
      address: mci.address || t('inc.no_address'), eta: etaMin(h.eta_min), name: pick(h.name) || h.id,
    }));
    fill(card.expected, t('mci.ask_expected'), ' ', countChips(mci.expected));
    const a = h.answer;
    fill(card.last, a
      ? [t('mci.ask_last'), ' ', countChips(a.can), ' ', t('mci.answer_by', { who: whoText(a.by, this.me()), when: whenText(a.at, now) })]
      : t('mci.ask_never'));
    card.root.dataset.answered = a ? 'yes' : 'no';
  }

  async send(card) {
    const can = card.fields.read();
    if (!can) return;
    card.send.disabled = true;
    text(card.send, t('mci.ask_sending'));
    const r = await answerMci(card.mci.id, card.h.id, can);
    card.send.disabled = false;
    text(card.send, t('mci.ask_send'));
    if (r.status === 401) {
      this.onSignedOut();
      return;
    }
    if (!r.ok) {
      if (r.status === 422) card.fields.errors(r);
      say(card.msg, 'bad', failure(r));
      if (r.status === 404) this.poke(); // closed meanwhile
      return;
    }
    card.touched = false;
    say(card.msg, 'ok', t('mci.ask_sent', { time: fmt.clock(this.now()) }));
    // the answer as stored, with who and when, until the next poll
    card.h = Object.assign({}, card.h, { answer: { can: r.data.can, by: r.data.by, at: new Date(this.now()).toISOString() } });
    this.draw(card);
    this.poke();
  }

  relang() {
    for (const card of this.cards.values()) {
      this.build(card);
      this.draw(card);
    }
  }

  clock() {
    for (const card of this.cards.values()) this.draw(card);
  }
}
