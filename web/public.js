// The public page (/public, issue 14): for citizens and the press, on a
// phone. It reads GET /api/v1/public (open to anyone; the server serialises
// it at most every 5 s and the browser revalidates it with its ETag) every
// REFRESH_MS and shows the city's free beds by type, then each hospital's
// emergency department (accepting / busy / diverting / closed, with a
// reason category, never the hospital's own words), whether the hospital
// is being evacuated or is closed, which emergency services (stroke,
// trauma, obstetric, pediatric) are unavailable, its free beds and
// when it last reported, with a search by name or district. Never an
// ambulance or an incident: the document has none.
//
// For tests: #pb-main carries data-state ("loading" | "ready" | "error")
// and data-generated (the document's time); each hospital data-id and its
// ED chip data-state; .pb-fac data-facility; .pb-svc-out data-services.

import { t, ready, lang, onStoredLangChange, pick } from './i18n.js';
import { el, fill, text } from './dom.js';
import { getPublic } from './api.js';
import { labelLangToggle, plainTopBar } from './views/status.js';
import * as fmt from './format.js';

const REFRESH_MS = 30000;
const SHOWN_BEDS = ['emergency', 'icu_adult', 'medical_surgical', 'pediatrics', 'obstetrics'];

const $ = (id) => document.getElementById(id);
const main = $('pb-main');
const state = { doc: null, error: null, query: '' };

const { brandName, brandSub, langButton } = plainTopBar($('topbar'), () => render());
onStoredLangChange(render);

const search = el('input', { id: 'pb-search', type: 'search', class: 'ctl big-ctl', autocomplete: 'off' });
const searchLabel = el('label', { for: 'pb-search', class: 'field-label' });
search.addEventListener('input', () => {
  state.query = fmt.fold(search.value.trim());
  renderHospitals();
});
fill($('pb-find'), searchLabel, search);

function bedsList(beds, id) {
  const items = SHOWN_BEDS.filter((b) => beds && beds[b] && beds[b].free !== null && beds[b].free !== undefined).map((b) => el('li', { class: 'pb-bed', dataset: { bed: b } },
    el('span', { class: 'pb-bed-n' }, fmt.int(beds[b].free)),
    el('span', { class: 'pb-bed-of' }, t('public.free_of', { bed: t(`bed.${b}.long`), staffed: fmt.int(beds[b].staffed) }))));
  return items.length ? el('ul', { class: 'pb-beds', id }, ...items) : el('p', { class: 'lead', id }, t('public.no_figures'));
}

function updated(iso, now) {
  const ms = Date.parse(iso || '');
  return Number.isFinite(ms) ? t('public.updated', { time: fmt.shortDateTime(ms, now), ago: fmt.ago(ms, now) }) : t('public.never');
}

function renderCity(now) {
  const d = state.doc;
  fill($('pb-city'),
    el('h2', { id: 'pb-city-title', class: 'card-title' }, t('public.city')),
    el('p', { class: 'lead', id: 'pb-reporting' }, t('public.reporting', { n: fmt.int(d.city.reporting), total: fmt.int(d.city.hospitals) })),
    bedsList(d.city.beds, 'pb-city-beds'),
    el('p', { class: 'pb-h-updated' }, updated(d.city.updated, now)));
}

function districtName(id) {
  const x = state.doc.districts.find((y) => y.id === id);
  return x ? pick(x.name) : id;
}

function hospitalItem(h, now) {
  const ed = h.ed && h.ed.state ? h.ed.state : 'unknown';
  const reason = h.ed && h.ed.reason ? t(`public.reason_${h.ed.reason}`) : null;
  const beds = SHOWN_BEDS.filter((b) => h.beds && h.beds[b] && h.beds[b].free !== null && h.beds[b].free !== undefined)
    .map((b) => t('public.free_short', { n: fmt.int(h.beds[b].free), bed: t(`bed.${b}.short`) }));
  const out = h.facility === 'evacuating' || h.facility === 'closed'
    ? el('p', { class: 'pb-fac', role: 'note', dataset: { facility: h.facility } }, t(`public.facility_${h.facility}`)) : null;
  const svc = (h.services_unavailable || []).length
    ? el('p', { class: 'pb-svc-out', dataset: { services: h.services_unavailable.join(' ') } },
      t('public.services_out', { list: h.services_unavailable.map((x) => t(`svc.${x}`)).join(', ') })) : null;
  const phone = h.phone ? el('a', { href: `tel:${h.phone.replace(/[^+0-9]/g, '')}`, class: 'pb-phone' }, h.phone) : null;
  return el('li', { class: 'pb-h', dataset: { id: h.id, search: fmt.fold(`${h.name.vi} ${h.name.en} ${districtName(h.district)}`) } },
    el('h3', { class: 'pb-h-name' }, pick(h.name)),
    el('p', { class: 'pb-h-where' }, districtName(h.district), ' · ', t(`tier.${h.tier}`), phone ? ' · ' : null, phone),
    out,
    el('span', { class: 'pb-ed', dataset: { state: ed } }, t(`public.ed_${ed}`), reason ? ` — ${reason}` : null),
    svc,
    el('p', { class: 'pb-h-beds' }, beds.length ? beds.join(' · ') : t('public.no_figures')),
    el('p', { class: 'pb-h-updated' }, updated(h.updated, now)));
}

function renderHospitals() {
  if (!state.doc) return;
  let shown = 0;
  for (const li of $('pb-hospitals').children) {
    const on = !state.query || li.dataset.search.includes(state.query);
    li.hidden = !on;
    if (on) shown++;
  }
  main.dataset.shown = String(shown);
}

function render() {
  document.documentElement.lang = lang();
  document.title = t('public.page_title');
  text(brandName, t('app.brand'));
  text(brandSub, t('public.subtitle'));
  labelLangToggle(langButton);
  text(searchLabel, t('public.search'));
  search.placeholder = t('public.search_placeholder');
  fill($('pb-intro'), el('h2', { class: 'card-title' }, t('public.title')), el('p', { class: 'lead' }, t('public.lead')),
    state.error ? el('p', { class: 'notice notice-bad', role: 'alert', id: 'pb-error' }, t('public.err')) : null);
  const d = state.doc;
  if (!d) return;
  const now = Date.now();
  renderCity(now);
  // those that do not accept first, then by name
  const order = { closed: 0, diverting: 1, busy: 2, accepting: 3 };
  const hs = d.hospitals.slice().sort((a, b) => ((order[a.ed.state] ?? 4) - (order[b.ed.state] ?? 4)) || pick(a.name).localeCompare(pick(b.name), lang()));
  fill($('pb-hospitals'), ...hs.map((h) => hospitalItem(h, now)));
  renderHospitals();
  fill($('pb-foot'),
    el('p', null, t('public.licence', { publisher: d.publisher }), ' ', el('a', { href: d.licence.url, rel: 'license' }, d.licence.name), '.'),
    el('p', null, t('public.open_data'), ' ', el('a', { href: '/api/v1/public/daily.csv', id: 'pb-csv' }, 'CSV'), ' · ',
      el('a', { href: '/api/v1/public/daily.json', id: 'pb-json' }, 'JSON'), ' · ', el('a', { href: '/api/v1/public' }, 'API')));
}

async function load() {
  try {
    const r = await getPublic();
    if (!r.ok) throw new Error(r.error);
    const doc = r.data;
    if (!doc || !Array.isArray(doc.hospitals)) throw new Error('bad_json');
    await ready; // the words, before the page says ready
    state.doc = doc;
    state.error = null;
    main.dataset.generated = state.doc.generated;
    main.dataset.state = 'ready';
  } catch (e) {
    await ready;
    state.error = e;
    if (!state.doc) main.dataset.state = 'error';
  }
  render();
}

// the document is asked for at once; the page's words travel alongside it
load();
await ready;
render();
setInterval(load, REFRESH_MS);
