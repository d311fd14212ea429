// The current language and its dictionary. Vietnamese by default; the
// choice is remembered in localStorage (shared by every view of the origin,
// so the wall display follows the dispatcher's choice). A `?lang=en` in the
// page URL wins for that page without being remembered: a wall display can
// be pinned to a language by its URL. Every visible string comes from
// web/i18n/<lang>.js through t().

import vi from './i18n/vi.js';
import en from './i18n/en.js';

const DICTS = { vi, en };
const LOCALES = { vi: 'vi-VN', en: 'en-GB' };
const STORAGE_KEY = 'bedpulse.lang';

export const LANGS = Object.freeze(Object.keys(DICTS));

function stored() {
  try {
    return globalThis.localStorage ? globalThis.localStorage.getItem(STORAGE_KEY) : null;
  } catch (e) {
    return null; // storage disabled
  }
}

function fromUrl() {
  try {
    const l = new URLSearchParams(globalThis.location ? globalThis.location.search : '').get('lang');
    return DICTS[l] ? l : null;
  } catch (e) {
    return null;
  }
}

const pinned = fromUrl();
let current = pinned || (DICTS[stored()] ? stored() : 'vi');

export function lang() {
  return current;
}

// The BCP 47 locale for Intl.
export function locale() {
  return LOCALES[current];
}

export function setLang(l) {
  if (!DICTS[l]) return;
  current = l;
  try {
    if (globalThis.localStorage) globalThis.localStorage.setItem(STORAGE_KEY, l);
  } catch (e) {
    /* not remembered, still switched */
  }
}

// Calls fn(lang) when another page of this origin changes the remembered
// language (a page pinned by ?lang= keeps its own).
export function onStoredLangChange(fn) {
  if (pinned || !globalThis.addEventListener) return;
  globalThis.addEventListener('storage', (ev) => {
    if (ev.key !== STORAGE_KEY || !DICTS[ev.newValue] || ev.newValue === current) return;
    current = ev.newValue;
    fn(current);
  });
}

// The other language (what the toggle switches to).
export function otherLang() {
  return current === 'vi' ? 'en' : 'vi';
}

// The string for key with {placeholders} filled in. A missing key shows
// itself, which a test would catch.
export function t(key, params) {
  const s = DICTS[current][key];
  if (s === undefined) return key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

// A {vi, en} name in the current language (falling back to the other one).
export function pick(name) {
  if (!name || typeof name !== 'object') return '';
  return name[current] || name.vi || name.en || '';
}
