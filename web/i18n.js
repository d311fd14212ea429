// The current language and its dictionary. Vietnamese by default; the
// choice is remembered in localStorage (shared by every view of the origin,
// so the wall display follows the dispatcher's choice). A `?lang=en` in the
// page URL wins for that page without being remembered: a wall display can
// be pinned to a language by its URL. Every visible string comes from
// web/i18n/<lang>.js through t().
//
// Only the dictionary of the language shown is loaded (each is a module of
// its own, imported when needed: the other one comes only if the person
// switches). Loading the current one starts as soon as this module is
// evaluated; a page awaits `ready` before it renders words, and sends its
// first requests before that, so the dictionary travels alongside them.

const LOADERS = {
  vi: () => import('./i18n/vi.js'),
  en: () => import('./i18n/en.js'),
};
const DICTS = {};
const LOCALES = { vi: 'vi-VN', en: 'en-GB' };
const STORAGE_KEY = 'bedpulse.lang';

export const LANGS = Object.freeze(Object.keys(LOADERS));

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
    return LOADERS[l] ? l : null;
  } catch (e) {
    return null;
  }
}

const pinned = fromUrl();
let current = pinned || (LOADERS[stored()] ? stored() : 'vi');

// Loads the dictionary of language l (once); resolves with it.
export async function loadLang(l = current) {
  if (!DICTS[l]) DICTS[l] = (await LOADERS[l]()).default;
  return DICTS[l];
}

// Resolves once the dictionary of the language shown is loaded.
export const ready = loadLang(current);

export function lang() {
  return current;
}

// The BCP 47 locale for Intl.
export function locale() {
  return LOCALES[current];
}

// Switches to l once its dictionary is here (resolves then) and remembers
// the choice. Until then the page keeps the language it shows.
export async function setLang(l) {
  if (!LOADERS[l]) return;
  await loadLang(l);
  current = l;
  try {
    if (globalThis.localStorage) globalThis.localStorage.setItem(STORAGE_KEY, l);
  } catch (e) {
    /* not remembered, still switched */
  }
}

// Calls fn(lang) when another page of this origin changes the remembered
// language (a page pinned by ?lang= keeps its own), once its dictionary is
// loaded.
export function onStoredLangChange(fn) {
  if (pinned || !globalThis.addEventListener) return;
  globalThis.addEventListener('storage', async (ev) => {
    const l = ev.newValue;
    if (ev.key !== STORAGE_KEY || !LOADERS[l] || l === current) return;
    await loadLang(l);
    if (l === current) return;
    current = l;
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
  const dict = DICTS[current];
  const s = dict ? dict[key] : undefined;
  if (s === undefined) return key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

// A {vi, en} name in the current language (falling back to the other one).
export function pick(name) {
  if (!name || typeof name !== 'object') return '';
  return name[current] || name.vi || name.en || '';
}
