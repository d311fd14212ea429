// The notifications page (/account, issue 14): a signed-in person sees the
// notifications she asked for (GET /api/v1/subscriptions: her own), makes
// one (POST: a webhook with its secret, or an e-mail address; the events;
// filters by hospital, district, tier and lowest pressure level; the language of the
// messages; quiet hours, which level 4 and mass-casualty events ignore)
// and ends one (DELETE). The server checks everything: a refused body
// (422) comes back with every field named, and each is shown beside its
// control, in words, with the server's own message (English) under it. A
// webhook to a loopback or private address is refused there too
// (docs/security.md "Webhook targets").
//
// A browser not signed in is sent to /signin and comes back here; an
// account that may not subscribe (a data feed, the public) is told so.
//
// For tests: the list carries data-state ("loading" | "ready" | "error")
// and data-count; each item data-id; the form data-state ("idle" |
// "sending" | "refused" | "made").

import { t, ready, lang, onStoredLangChange, pick } from './i18n.js';
import { el, fill, text, attr } from './dom.js';
import { request, whoAmI, signOut, getHospitals, getPublic } from './api.js';
import { labelLangToggle, plainTopBar } from './views/status.js';
import * as fmt from './format.js';

const SIGNIN = '/signin#next=%2Faccount';
// the server's event names (one string: they are not dictionary keys)
const EVENTS = 'alert.raised alert.cleared alert.acked ed.status hospital.stale mci.declared mci.closed'.split(' ');
const TIERS = ['central', 'city', 'district', 'private'];
const MAY = new Set(['dispatcher', 'manager', 'admin', 'wall']);

const $ = (id) => document.getElementById(id);
const announcer = $('announcer');
const say = (m) => text(announcer, m);

// who: GET /api/v1/session; subs: the list (null: not read); names: hospital id -> {vi, en}
// districts: id -> {vi, en} (from the public document)
const state = { who: null, subs: null, listError: null, names: new Map(), districts: new Map(), notice: null };

// -- the top bar --------------------------------------------------------------------

const { brandName, brandSub, langButton } = plainTopBar($('topbar'), () => {
  say(''); // what was said, in the other language, is not left behind
  render();
});
onStoredLangChange(render);

// -- the form (built once: what is typed survives a language switch) ----------------

const ctl = (tag, props) => el(tag, Object.assign({ class: 'ctl big-ctl' }, props));
const f = {
  channelWebhook: el('input', { type: 'radio', name: 'channel', id: 'ac-ch-webhook', value: 'webhook' }),
  channelEmail: el('input', { type: 'radio', name: 'channel', id: 'ac-ch-email', value: 'email', checked: true }),
  address: ctl('input', { id: 'ac-address', type: 'email', autocomplete: 'email', spellcheck: 'false' }),
  url: ctl('input', { id: 'ac-url', type: 'url', spellcheck: 'false', autocapitalize: 'off' }),
  secret: ctl('input', { id: 'ac-secret', type: 'password', autocomplete: 'new-password', spellcheck: 'false' }),
  events: EVENTS.map((ev) => el('input', { type: 'checkbox', id: `ac-ev-${ev.replace('.', '-')}`, value: ev, checked: ev === EVENTS[0] || ev === EVENTS[5] })),
  hospitals: ctl('select', { id: 'ac-hospitals', multiple: true }),
  districts: ctl('select', { id: 'ac-districts', multiple: true }),
  tiers: TIERS.map((tier) => el('input', { type: 'checkbox', id: `ac-tier-${tier}`, value: tier })),
  minLevel: ctl('select', { id: 'ac-min-level' }),
  lang: ctl('select', { id: 'ac-lang' }),
  quiet: el('input', { type: 'checkbox', id: 'ac-quiet' }),
  quietFrom: ctl('input', { id: 'ac-quiet-from', type: 'time', value: '22:00' }),
  quietTo: ctl('input', { id: 'ac-quiet-to', type: 'time', value: '06:30' }),
  submit: el('button', { type: 'submit', id: 'ac-submit', class: 'btn btn-primary btn-big' }),
  general: el('p', { id: 'ac-form-error', class: 'notice notice-bad', role: 'alert', hidden: true }),
};
// the place of each field's error, by the server's field name (its first part)
const ERR_SLOTS = ['channel', 'address', 'url', 'secret', 'events', 'hospitals', 'districts', 'tiers', 'min_level', 'lang', 'quiet_hours'];
const errs = Object.fromEntries(ERR_SLOTS.map((k) => [k, el('p', { class: 'ac-err', id: `ac-err-${k}`, hidden: true })]));
// controls marked invalid with each slot
const invalidOf = {
  address: [f.address], url: [f.url], secret: [f.secret], hospitals: [f.hospitals], districts: [f.districts], min_level: [f.minLevel],
  lang: [f.lang], quiet_hours: [f.quietFrom, f.quietTo],
};
const labels = {};
const label = (key, forId) => (labels[key] = el('label', { class: 'field-label', for: forId }));
const check = (input, key) => el('label', { class: 'ac-check', for: input.id }, input, (labels[key] = el('span')));
const legend = (key) => (labels[key] = el('legend'));

f.minLevel.append(...[1, 2, 3, 4].map((n) => el('option', { value: String(n) })));
f.lang.append(el('option', { value: 'vi', lang: 'vi' }, 'Tiếng Việt'), el('option', { value: 'en', lang: 'en' }, 'English'));
f.lang.value = lang();

const webhookBox = el('div', { id: 'ac-webhook' },
  label('url', 'ac-url'), f.url, el('p', { class: 'hint', id: 'ac-url-hint' }), errs.url,
  label('secret', 'ac-secret'), f.secret, el('p', { class: 'hint', id: 'ac-secret-hint' }), errs.secret);
const emailBox = el('div', { id: 'ac-email' }, label('address', 'ac-address'), f.address, errs.address);
const quietBox = el('div', { class: 'ac-row', id: 'ac-quiet-times' },
  el('label', { for: 'ac-quiet-from' }, (labels.quiet_from = el('span')), f.quietFrom),
  el('label', { for: 'ac-quiet-to' }, (labels.quiet_to = el('span')), f.quietTo));

const form = el('form', { id: 'ac-form', class: 'ac-form', novalidate: true, dataset: { state: 'idle' } },
  el('fieldset', null, legend('channel'),
    el('div', { class: 'ac-checks' }, check(f.channelEmail, 'ch_email'), check(f.channelWebhook, 'ch_webhook')), errs.channel),
  emailBox, webhookBox,
  el('fieldset', null, legend('events'),
    el('div', { class: 'ac-checks' }, ...f.events.map((x) => check(x, `ev_${x.value}`))), errs.events),
  el('fieldset', null, legend('filters'), el('p', { class: 'hint', id: 'ac-filters-hint' }),
    label('hospitals', 'ac-hospitals'), f.hospitals, errs.hospitals,
    label('districts', 'ac-districts'), f.districts, errs.districts,
    el('div', { class: 'ac-checks', role: 'group', 'aria-labelledby': 'ac-tiers-label' },
      (labels.tiers = el('span', { id: 'ac-tiers-label', class: 'field-label' })), ...f.tiers.map((x) => check(x, `tier_${x.value}`))), errs.tiers,
    label('min_level', 'ac-min-level'), f.minLevel, errs.min_level),
  label('lang', 'ac-lang'), f.lang, errs.lang,
  el('fieldset', null, legend('quiet'), check(f.quiet, 'quiet_on'), el('p', { class: 'hint', id: 'ac-quiet-hint' }), quietBox, errs.quiet_hours),
  f.general, el('div', { class: 'actions' }, f.submit));

for (const r of [f.channelEmail, f.channelWebhook, f.quiet]) r.addEventListener('change', updateForm);
form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  make();
});

// The body of POST /api/v1/subscriptions from the form.
function body() {
  const webhook = f.channelWebhook.checked;
  const b = webhook
    ? { channel: 'webhook', url: f.url.value.trim(), secret: f.secret.value }
    : { channel: 'email', address: f.address.value.trim() };
  b.events = f.events.filter((x) => x.checked).map((x) => x.value);
  const hospitals = [...f.hospitals.selectedOptions].map((o) => o.value);
  const districts = [...f.districts.selectedOptions].map((o) => o.value);
  const tiers = f.tiers.filter((x) => x.checked).map((x) => x.value);
  b.filters = { min_level: Number(f.minLevel.value) };
  if (hospitals.length) b.filters.hospitals = hospitals;
  if (districts.length) b.filters.districts = districts;
  if (tiers.length) b.filters.tiers = tiers;
  b.lang = f.lang.value;
  b.quiet_hours = f.quiet.checked ? { from: f.quietFrom.value, to: f.quietTo.value } : null;
  return b;
}

function slotOf(field) {
  const head = String(field || '').split(/[.[]/)[0];
  if (head === 'filters') return String(field).split(/[.[]/)[1] || null;
  return head;
}

function clearErrors() {
  for (const k of ERR_SLOTS) errs[k].hidden = true;
  for (const list of Object.values(invalidOf)) for (const c of list) attr(c, 'aria-invalid', null);
  f.general.hidden = true;
}

// Every refused field beside its control: our words, then the server's.
function showErrors(list) {
  clearErrors();
  const rest = [];
  for (const e of list) {
    const slot = slotOf(e.field);
    const box = errs[slot];
    if (!box) {
      rest.push(e);
      continue;
    }
    const words = e.code === 'private_target' ? t('account.err_private') : t('account.err_field');
    const line = el('span', null, words, el('span', { class: 'notice-detail', lang: 'en', 'data-free-text': true }, e.message || e.field));
    if (box.hidden) fill(box, line);
    else box.append(line);
    box.hidden = false;
    for (const c of invalidOf[slot] || []) attr(c, 'aria-invalid', 'true');
  }
  if (rest.length) {
    fill(f.general, t('account.err_other', { error: rest.map((e) => e.field || e.error).join(', ') }),
      el('span', { class: 'notice-detail', lang: 'en', 'data-free-text': true }, rest.map((e) => e.message).join(' ')));
    f.general.hidden = false;
  }
}

async function make() {
  form.dataset.state = 'sending';
  updateForm();
  const r = await request('POST', '/api/v1/subscriptions', { json: body() });
  if (r.status === 401) {
    window.location.replace(SIGNIN);
    return;
  }
  if (r.ok) {
    form.dataset.state = 'made';
    clearErrors();
    f.secret.value = '';
    state.notice = 'account.made';
    say(t('account.made'));
    await load();
    return;
  }
  form.dataset.state = 'refused';
  const list = r.data && Array.isArray(r.data.errors) && r.data.errors.length
    ? r.data.errors
    : [{ field: '', error: r.error, message: r.message || r.error }];
  showErrors(list);
  updateForm();
  const first = form.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
}

async function remove(id) {
  const r = await request('DELETE', `/api/v1/subscriptions/${encodeURIComponent(id)}`);
  if (r.status === 401) {
    window.location.replace(SIGNIN);
    return;
  }
  state.notice = r.ok || r.status === 404 ? 'account.removed' : null;
  state.listError = r.ok || r.status === 404 ? null : r;
  if (state.notice) say(t(state.notice));
  await load();
}

// -- rendering ----------------------------------------------------------------------

function updateForm() {
  const webhook = f.channelWebhook.checked;
  webhookBox.hidden = !webhook;
  emailBox.hidden = webhook;
  quietBox.hidden = !f.quiet.checked;
  f.submit.disabled = form.dataset.state === 'sending';
  text(f.submit, form.dataset.state === 'sending' ? t('account.sending') : t('account.submit'));
}

function relabelForm() {
  for (const [k, node] of Object.entries(labels)) if (k !== 'new_title') text(node, t(labelKey(k)));
  text($('ac-url-hint'), t('account.url_hint'));
  text($('ac-secret-hint'), t('account.secret_hint'));
  text($('ac-filters-hint'), t('account.filters_hint'));
  text($('ac-quiet-hint'), t('account.quiet_hint'));
  [...f.minLevel.options].forEach((o) => text(o, t('account.level_at_least', { n: o.value, label: t(`level.${o.value}`) })));
  options(f.hospitals, state.names);
  options(f.districts, state.districts);
  updateForm();
}

// A multiple select's options from id -> {vi, en}, by name, the choice kept.
function options(select, names) {
  const chosen = new Set([...select.selectedOptions].map((o) => o.value));
  const list = [...names].map(([id, name]) => [id, pick(name)]).sort((a, b) => a[1].localeCompare(b[1], lang()));
  fill(select, ...list.map(([id, name]) => el('option', { value: id, selected: chosen.has(id) }, name)));
}

// The words of a label: a tier's own, else account.f_<name> ("ev_alert.raised": account.f_ev_alert_raised).
function labelKey(k) {
  return k.startsWith('tier_') ? `tier.${k.slice(5)}` : `account.f_${k.replace(/\./g, '_')}`;
}

function eventWords(list) {
  return list.map((ev) => t(labelKey(`ev_${ev}`))).join(', ');
}

function facts(s) {
  const out = [t('account.events_are', { list: eventWords(s.events || []) })];
  const fl = s.filters || {};
  if (fl.hospitals && fl.hospitals.length) {
    out.push(t('account.only_hospitals', { list: fl.hospitals.map((id) => (state.names.has(id) ? pick(state.names.get(id)) : id)).join(', ') }));
  }
  if (fl.districts && fl.districts.length) {
    out.push(t('account.only_districts', { list: fl.districts.map((id) => (state.districts.has(id) ? pick(state.districts.get(id)) : id)).join(', ') }));
  }
  if (fl.tiers && fl.tiers.length) out.push(t('account.only_tiers', { list: fl.tiers.map((x) => t(`tier.${x}`)).join(', ') }));
  if (fl.min_level > 1) out.push(t('account.level_at_least', { n: fl.min_level, label: t(`level.${fl.min_level}`) }));
  out.push(t('account.in_lang', { lang: t(s.lang === 'en' ? 'account.lang_en' : 'account.lang_vi') }));
  if (s.quiet_hours) out.push(t('account.quiet_from_to', { from: s.quiet_hours.from, to: s.quiet_hours.to }));
  return out.join(' · ');
}

function renderList() {
  const box = $('ac-list');
  const subs = state.subs || [];
  box.dataset.state = state.subs ? 'ready' : state.listError ? 'error' : 'loading';
  box.dataset.count = String(subs.length);
  const notice = state.notice ? el('p', { class: 'notice notice-ok', role: 'status', id: 'ac-notice' }, t(state.notice)) : null;
  const problem = state.listError
    ? el('p', { class: 'notice notice-bad', role: 'alert', id: 'ac-list-error' }, t('account.err_list', { error: state.listError.error || '' }))
    : null;
  const items = subs.map((s) => {
    const del = el('button', { type: 'button', class: 'btn btn-quiet ac-delete', dataset: { id: s.id } }, t('account.delete'));
    const target = s.channel === 'webhook' ? t('account.to_webhook', { url: s.url }) : t('account.to_email', { address: s.address });
    attr(del, 'aria-label', t('account.delete_label', { target }));
    del.addEventListener('click', () => remove(s.id));
    return el('li', { class: 'ac-sub', dataset: { id: s.id, channel: s.channel } },
      el('p', { class: 'ac-sub-target', 'data-free-text': true }, target),
      el('p', { class: 'ac-sub-facts' }, facts(s), ' · ', t('account.since', { time: fmt.shortDateTime(Date.parse(s.created), Date.now()) })),
      del);
  });
  fill(box,
    el('h2', { id: 'ac-list-title', class: 'card-title' }, t('account.list_title')),
    notice, problem,
    state.subs && !subs.length ? el('p', { class: 'lead', id: 'ac-empty' }, t('account.none')) : null,
    !state.subs && !state.listError ? el('p', { class: 'lead', role: 'status' }, t('account.loading')) : null,
    subs.length ? el('ul', { class: 'ac-subs', id: 'ac-subs' }, ...items) : null);
}

function renderWho() {
  const box = $('ac-who');
  const w = state.who;
  if (!w) {
    fill(box, el('p', { class: 'lead', role: 'status' }, t('account.checking')));
    return;
  }
  const out = el('button', { type: 'button', id: 'ac-signout', class: 'link' }, t('manage.sign_out'));
  out.addEventListener('click', async () => {
    await signOut();
    window.location.replace('/signin');
  });
  const may = MAY.has(w.role);
  fill(box,
    el('h2', { class: 'card-title' }, t('account.title')),
    el('p', { class: 'lead' }, t(may ? 'account.lead' : 'account.may_not')),
    el('p', null, el('span', { id: 'ac-who-name' }, w.name ? el('span', { 'data-free-text': true }, w.name) : null, w.name ? ' · ' : null,
      t(`role.${w.role}`)), ' · ', out));
}

function render() {
  document.documentElement.lang = lang();
  document.title = t('account.page_title');
  text(brandName, t('app.brand'));
  text(brandSub, t('account.subtitle'));
  labelLangToggle(langButton);
  renderWho();
  const may = state.who && MAY.has(state.who.role);
  $('ac-list').hidden = !may;
  $('ac-new').hidden = !may;
  if (!may) return;
  renderList();
  if (!$('ac-new').contains(form)) fill($('ac-new'), (labels.new_title = el('h2', { id: 'ac-new-title', class: 'card-title' })), form);
  text(labels.new_title, t('account.new_title'));
  relabelForm();
}

async function load() {
  const r = await request('GET', '/api/v1/subscriptions');
  if (r.status === 401) {
    window.location.replace(SIGNIN);
    return;
  }
  if (r.ok && r.data && Array.isArray(r.data.subscriptions)) {
    state.subs = r.data.subscriptions;
    state.listError = null;
  } else {
    state.listError = r;
  }
  render();
}

async function start() {
  const asked = whoAmI(); // sent while the page's words load
  await ready;
  render();
  const r = await asked;
  if (!r.ok || !r.data || !r.data.role || r.data.anonymous) {
    window.location.replace(SIGNIN);
    return;
  }
  state.who = r.data;
  render();
  if (!MAY.has(r.data.role)) return;
  const hs = await getHospitals();
  if (hs.ok && Array.isArray(hs.data)) state.names = new Map(hs.data.map((h) => [h.id, h.name]));
  // the districts' names: the public document has them (open to all)
  const pub = await getPublic();
  if (pub.ok && pub.data && Array.isArray(pub.data.districts)) state.districts = new Map(pub.data.districts.map((d) => [d.id, d.name]));
  await load();
}

start();
