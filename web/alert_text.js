// The words of an alert (docs/dispatch.md "Alerts") in the current
// language, built from the dictionaries with the rule, the subject's name
// and the value, so the language toggle changes them (the server's own
// `text` is used only for a rule newer than this page). Shared by the
// dispatcher's alert bar and the wall's ticker. No DOM here.

import { t, pick } from './i18n.js';
import * as fmt from './format.js';

// rule (diversion split by its value: 2 diversion, 3 closed) -> dictionary key
const KEYS = {
  level4: 'alert.level4',
  diversion: 'alert.diversion',
  closed: 'alert.closed',
  stale_feed: 'alert.stale_feed',
  icu_low: 'alert.icu_low',
  handover: 'alert.handover',
  unassigned: 'alert.unassigned',
};
const ED_CLOSED = 3; // the server's value of a closed ED

// The sentence for alert a; hospitals: the feed's Map of hospitals.
export function alertText(a, hospitals) {
  const rule = a.rule === 'diversion' && a.value === ED_CLOSED ? 'closed' : a.rule;
  const key = KEYS[rule];
  if (!key) return pick(a.text) || a.id;
  const h = hospitals.get(a.subject);
  const name = (h && pick(h.name)) || a.subject;
  return t(key, { name, n: fmt.int(Number(a.value) || 0) });
}

// When it was raised: "since 14:05 (12 min ago)", Hanoi time.
export function alertSince(a, now) {
  const ms = Date.parse(a.since);
  if (!Number.isFinite(ms)) return '';
  return t('alerts.since', { time: fmt.shortDateTime(ms, now), ago: fmt.ago(ms, now) });
}

// Who acknowledged it and when, or '' while nobody has.
export function alertAcked(a, now) {
  if (!a.ack) return '';
  const ms = Date.parse(a.ack.at);
  return t('alerts.acked', { name: a.ack.name || a.ack.by || '?', time: Number.isFinite(ms) ? fmt.shortDateTime(ms, now) : '–' });
}

const unackedFirst = (a, b) => (!a.ack === !b.ack ? 0 : a.ack ? 1 : -1)
  || (Date.parse(b.since) || 0) - (Date.parse(a.since) || 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

// The alerts in the order people read them: not acknowledged first, newest first.
export function orderAlerts(alerts) {
  return [...alerts].sort(unackedFirst);
}
