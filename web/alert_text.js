// The words of an alert (docs/dispatch.md "Alerts") in the current
// language, built from the dictionaries with the rule, the subject's name
// and the value, so the language toggle changes them (the server's own
// `text` is used only for a rule newer than this page). Shared by the
// dispatcher's alert bar and the wall's ticker. No DOM here.

import { t, pick } from './i18n.js';
import * as fmt from './format.js';

// rule (diversion split by its value: 2 diversion, 3 closed; facility by
// its value: 1 compromised, 2 evacuating, 3 closed) -> dictionary key
const KEYS = {
  facility_1: 'alert.facility_compromised',
  facility_2: 'alert.facility_evacuating',
  facility_3: 'alert.facility_closed',
  level4: 'alert.level4',
  diversion: 'alert.diversion',
  closed: 'alert.closed',
  stale_feed: 'alert.stale_feed',
  icu_low: 'alert.icu_low',
  handover: 'alert.handover',
  unassigned: 'alert.unassigned',
  full_soon: 'alert.full_soon',
};
const ED_CLOSED = 3; // the server's value of a closed ED

// Alerts of one rule that started together come as one group ({group:
// true, count, members: [{subject, value, since}]}); its words count them.
const GROUP_KEYS = {
  level4: 'alert.level4_group',
  diversion: 'alert.diversion_group',
  stale_feed: 'alert.stale_feed_group',
  handover: 'alert.handover_group',
  unassigned: 'alert.unassigned_group',
  facility: 'alert.facility_group',
  full_soon: 'alert.full_soon_group',
};

// The sentence for one subject of a rule with its value.
function sentence(rule0, subject, value, hospitals, fallback) {
  const rule = rule0 === 'diversion' && value === ED_CLOSED ? 'closed'
    : rule0 === 'facility' ? `facility_${value}` : rule0;
  const key = KEYS[rule];
  if (!key) return fallback;
  const h = hospitals.get(subject);
  const name = (h && pick(h.name)) || subject;
  return t(key, { name, n: fmt.int(Number(value) || 0) });
}

// The sentence for alert a; hospitals: the feed's Map of hospitals.
export function alertText(a, hospitals) {
  const members = Array.isArray(a.members) ? a.members : [];
  if (a.group && members.length > 1) {
    if (!KEYS[a.rule] && !GROUP_KEYS[a.rule]) return pick(a.text) || a.id;
    return t(GROUP_KEYS[a.rule] || 'alert.group_other', { n: fmt.int(members.length) });
  }
  const one = a.group && members.length === 1 ? members[0] : a;
  return sentence(a.rule, one.subject, one.value, hospitals, pick(a.text) || a.id);
}

// The sentence of each member of a group (in the order the server sent them).
export function memberTexts(a, hospitals) {
  const members = Array.isArray(a.members) ? a.members : [];
  return members.map((m) => ({ subject: m.subject, text: sentence(a.rule, m.subject, m.value, hospitals, m.subject) }));
}

// The words of a rule ("Pressure level 4"), for mutes.
export function ruleName(rule) {
  return t(`alerts.rule_${rule}`);
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
