// Numbers, times and relative times for the current language, all in
// Hanoi time (Asia/Ho_Chi_Minh) whatever the browser's zone.

import { locale, t } from './i18n.js';

export const TIME_ZONE = 'Asia/Ho_Chi_Minh';

const cache = new Map();

function formatter(kind, make) {
  const key = `${kind}|${locale()}`;
  let f = cache.get(key);
  if (!f) {
    f = make(locale());
    cache.set(key, f);
  }
  return f;
}

export function int(n) {
  return formatter('int', (l) => new Intl.NumberFormat(l, { maximumFractionDigits: 0 })).format(n);
}

// Occupancy percent. Floored, so the figure shown never crosses a (whole
// number) pressure threshold the level has not crossed.
export function pct(p) {
  return formatter('pct', (l) => new Intl.NumberFormat(l, { style: 'percent', maximumFractionDigits: 0 }))
    .format(Math.floor(p) / 100);
}

// HH:MM
export function time(ms) {
  return formatter('time', (l) => new Intl.DateTimeFormat(l, {
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: TIME_ZONE,
  })).format(ms);
}

// HH:MM:SS
export function clock(ms) {
  return formatter('clock', (l) => new Intl.DateTimeFormat(l, {
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZone: TIME_ZONE,
  })).format(ms);
}

function dayKey(ms) {
  return formatter('day', () => new Intl.DateTimeFormat('en-CA', {
    year: 'numeric', month: '2-digit', day: '2-digit', timeZone: TIME_ZONE,
  })).format(ms);
}

// HH:MM today, else day/month HH:MM.
export function shortDateTime(ms, nowMs) {
  if (dayKey(ms) === dayKey(nowMs)) return time(ms);
  return formatter('sdt', (l) => new Intl.DateTimeFormat(l, {
    day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: TIME_ZONE,
  })).format(ms);
}

// Full date and time, for tooltips.
export function dateTime(ms) {
  return formatter('dt', (l) => new Intl.DateTimeFormat(l, {
    dateStyle: 'medium', timeStyle: 'medium', hourCycle: 'h23', timeZone: TIME_ZONE,
  })).format(ms);
}

// "5 min ago"; under a minute (or in the future) "just now", or with
// { seconds: true } "35 sec ago" (for the stale-data banner).
// Relative times come from the dictionaries (time.*_ago, time.in_*), the
// numbers from the language's number format.
export function ago(ms, nowMs, { seconds = false } = {}) {
  const s = Math.floor((nowMs - ms) / 1000);
  if (s < 60) return seconds && s > 0 ? t('time.sec_ago', { n: int(s) }) : t('time.just_now');
  const min = Math.floor(s / 60);
  if (min < 60) return t('time.min_ago', { n: int(min) });
  const h = Math.floor(min / 60);
  if (h < 48) return t('time.h_ago', { n: int(h) });
  return t('time.d_ago', { n: int(Math.floor(h / 24)) });
}

// Lower case without diacritics, for filtering ("dong da" finds "Đống Đa").
export function fold(s) {
  return String(s || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, 'd').toLowerCase();
}

// A distance in km with one decimal ("2,4 km" / "2.4 km").
export function km(d) {
  const n = formatter('km', (l) => new Intl.NumberFormat(l, { minimumFractionDigits: 1, maximumFractionDigits: 1 })).format(d);
  return t('unit.km', { n });
}

// One decimal, for coordinates and trend values.
export function dec(n, digits = 1) {
  return formatter(`dec${digits}`, (l) => new Intl.NumberFormat(l, {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  })).format(n);
}

// Weekday and date, for the wall clock.
export function longDate(ms) {
  return formatter('ld', (l) => new Intl.DateTimeFormat(l, {
    weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: TIME_ZONE,
  })).format(ms);
}

// "in 2 h" / "in 35 min": time left until ms (an ED diversion's expiry).
export function until(ms, nowMs) {
  const min = Math.max(Math.ceil((ms - nowMs) / 60000), 0);
  if (min < 60) return t('time.in_min', { n: int(min) });
  const h = Math.floor(min / 60);
  if (h < 48) return t('time.in_h', { n: int(h) });
  return t('time.in_d', { n: int(Math.floor(h / 24)) });
}

// A duration in whole minutes ("12 min", "1 h 5 min"): how long an
// incident has been open, how long it waits for a unit.
export function duration(ms) {
  const min = Math.max(Math.floor(ms / 60000), 0);
  if (min < 60) return t('time.dur_min', { n: int(min) });
  return t('time.dur_h', { h: int(Math.floor(min / 60)), m: int(min % 60) });
}
