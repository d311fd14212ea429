// Boot of the manager view (/manage): who is signed in, the hospitals the
// token may write (a manager's own; all of them, with a search, for an
// admin), the form of the chosen one (views/manage_form.js), the CSV import
// (views/manage_import.js), and the live feed that keeps the figures on
// screen current while she edits. A browser that is not signed in is sent
// to /signin and comes back here; an account that may not write is told so.
//
// The chosen hospital is kept in the URL fragment (#h=<id>), so a reload or
// a bookmark opens it again.

import { LiveFeed } from './live.js';
import { t, ready, setLang, otherLang, onStoredLangChange, pick } from './i18n.js';
import { el, fill, text } from './dom.js';
import { whoAmI, signOut, getHospitals, getHospital } from './api.js';
import { StatusBar } from './views/status.js';
import { ManageForm, problem, showNotice } from './views/manage_form.js';
import { ServicesEditor } from './views/manage_services.js';
import { CheckCard } from './views/manage_check.js';
import { ImportView } from './views/manage_import.js';
import { MciAsk } from './views/mci_ask.js';
import * as fmt from './format.js';

window.__bpBootCount = (window.__bpBootCount || 0) + 1;

// Who is signed in, and the live feed (a manager's holds her hospitals
// only): asked at once, while the dictionary of the page's language is on
// its way; on a slow link each round trip counts. The feed is stopped again
// if she may not write; a browser not signed in is refused it (4401) and
// sent to sign in.
const feed = new LiveFeed({ url: `${window.location.protocol === 'https:' ? 'wss:' : 'ws:'}//${window.location.host}/ws` });
const firstWho = whoAmI();
feed.start();
await ready;

const SIGNIN = '/signin#next=%2Fmanage';
const CLOCK_MS = 1000;
const FEW = 6; // up to this many hospitals are buttons; more get a search
const SHOWN = 8; // search results shown at once

const $ = (id) => document.getElementById(id);
const announcer = $('announcer');
const status = new StatusBar({
  header: $('topbar'), banner: $('stale-banner'), say: (m) => text(announcer, m),
  titleKey: 'manage.page_title', subtitleKey: 'manage.subtitle',
}, feed, () => setLang(otherLang()).then(relang));

let who = null;
let scope = []; // the hospitals this token may write, from GET /api/v1/hospitals
let query = '';
let problemShown = null; // {key, params, detail, retry}

function goSignIn() {
  window.location.replace(SIGNIN);
}

const form = new ManageForm($('mg-hospital'), { now: () => feed.serverNow(), me: null, onSignedOut: goSignIn });
const importer = new ImportView($('mg-import-section'), {
  hospital: () => form.h,
  onApplied: (h) => form.adopt(h, () => true),
  onSignedOut: goSignIn,
});
$('mg-import-section').hidden = true;
const services = new ServicesEditor($('mg-services'), {
  hospital: () => form.h,
  onApplied: (h) => form.adopt(h, () => true),
  now: () => feed.serverNow(),
  onSignedOut: goSignIn,
});

const check = new CheckCard($('mg-check'), {
  hospital: () => form.h,
  onApplied: (h) => form.adopt(h, () => true),
  onSignedOut: goSignIn,
});

// 115's mass-casualty question, at the top while one of her hospitals is
// asked: all of hers, or (an admin) the one open in the form
const mci = new MciAsk($('mg-mci'), {
  hospitals: () => (scope.length <= FEW ? scope.map((h) => h.id) : [form.id].filter(Boolean)),
  me: () => (who && who.token_id) || null,
  now: () => feed.serverNow(),
  onSignedOut: goSignIn,
});

// -- who is signed in ------------------------------------------------------------------

const writer = (w) => w && (w.role === 'manager' || w.role === 'admin');

function renderAccount() {
  const box = $('mg-account');
  if (!who) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const out = el('button', { type: 'button', id: 'mg-signout', class: 'link' }, t('manage.sign_out'));
  out.addEventListener('click', leave);
  fill(box,
    el('span', { class: 'mg-who' }, who.name ? el('span', { 'data-free-text': true }, who.name) : null,
      who.name ? ' · ' : null, t(`role.${who.role}`)),
    out);
}

async function leave() {
  feed.stop();
  await signOut();
  window.location.replace('/signin');
}

// A full-width message instead of the form: no rights, or the server said no.
function renderProblem() {
  const box = $('mg-problem');
  box.hidden = !problemShown;
  if (!problemShown) return;
  const p = problemShown;
  const line = el('p');
  showNotice(line, p.kind || 'bad', t(p.key, p.params), p.detail);
  const actions = [];
  if (p.retry) {
    const again = el('button', { type: 'button', id: 'mg-retry', class: 'btn btn-quiet btn-big' }, t('manage.retry'));
    again.addEventListener('click', p.retry);
    actions.push(again);
  }
  if (p.signOut) {
    const out = el('button', { type: 'button', id: 'mg-signout-big', class: 'btn btn-primary btn-big' }, t('manage.sign_out'));
    out.addEventListener('click', leave);
    actions.push(out);
  }
  fill(box, line, el('div', { class: 'actions' }, actions));
}

// -- choosing a hospital ----------------------------------------------------------------

function chosenFromUrl() {
  const id = new URLSearchParams(window.location.hash.slice(1)).get('h');
  return scope.find((h) => h.id === id) ? id : null;
}

function renderPicker() {
  const box = $('mg-picker');
  box.hidden = scope.length < 2;
  if (box.hidden) return;
  const current = form.id;
  const button = (h) => {
    const b = el('button', { type: 'button', class: 'pick', dataset: { id: h.id }, 'aria-pressed': String(h.id === current) }, pick(h.name));
    b.addEventListener('click', () => choose(h.id));
    return b;
  };
  if (scope.length <= FEW) {
    fill(box, el('div', { class: 'picks', role: 'group', 'aria-label': t('manage.pick') }, scope.map(button)));
    return;
  }
  const search = el('input', {
    type: 'search', id: 'mg-search', class: 'ctl big-ctl', value: query, autocomplete: 'off',
    placeholder: t('manage.search_placeholder'),
  });
  const results = el('div', { class: 'picks', id: 'mg-results', role: 'group', 'aria-label': t('manage.pick') });
  const list = () => {
    const q = fmt.fold(query.trim());
    const hits = scope.filter((h) => !q || fmt.fold(`${h.name.vi} ${h.name.en} ${h.id}`).includes(q));
    fill(results, hits.slice(0, SHOWN).map(button),
      hits.length > SHOWN ? el('p', { class: 'hint' }, t('manage.more_hits', { n: fmt.int(hits.length - SHOWN) })) : null,
      hits.length ? null : el('p', { class: 'hint' }, t('manage.no_hits')));
  };
  search.addEventListener('input', () => {
    query = search.value;
    list();
  });
  list();
  const details = el('details', { class: 'mg-search', open: !current },
    el('summary', null, current ? t('manage.change_hospital', { n: fmt.int(scope.length) }) : t('manage.pick_hospital', { n: fmt.int(scope.length) })),
    el('label', { class: 'field-label', for: 'mg-search' }, t('manage.search')), search, results);
  fill(box, details);
}

async function choose(id) {
  if (id === form.id) return;
  if (form.changed().length && !window.confirm(t('manage.discard'))) return;
  window.history.replaceState(null, '', `#h=${encodeURIComponent(id)}`);
  await open(id);
}

// Opens hospital id in the form: `known` is its state when the caller has
// it already (the list she was given at boot), else it is asked for.
async function open(id, known) {
  const r = known ? { ok: true, status: 200, data: known } : await getHospital(id);
  if (r.status === 401) {
    goSignIn();
    return;
  }
  if (!r.ok) {
    const p = problem(r);
    problemShown = Object.assign(p, { retry: () => open(id) });
    renderProblem();
    return;
  }
  problemShown = null;
  renderProblem();
  // the live feed may already know a newer state than this answer
  form.load(r.data);
  form.merge(feed.hospitals.get(id));
  form.flush(); // an edit kept on the phone from before
  importer.reset();
  services.build();
  check.refresh(true);
  $('mg-import-section').hidden = false;
  renderPicker();
  if (scope.length > FEW) mci.poke(); // an admin's chosen hospital may be asked
}

// -- boot ---------------------------------------------------------------------------------

async function boot(asked) {
  problemShown = null;
  const r = await (asked || whoAmI());
  if (r.status === 401 || (r.ok && (!r.data || !r.data.role || r.data.anonymous))) {
    goSignIn();
    return;
  }
  if (!r.ok) {
    problemShown = Object.assign(problem(r), { retry: () => boot() });
    renderProblem();
    return;
  }
  who = r.data;
  form.me = who.token_id;
  renderAccount();
  if (!writer(who)) {
    feed.stop();
    problemShown = { key: 'manage.cannot_write', params: { role: t(`role.${who.role}`) }, kind: 'warn', signOut: true };
    renderProblem();
    return;
  }
  // her hospitals (only hers: not the city), beside the live feed
  feed.start();
  const hs = await getHospitals({ mine: true });
  if (hs.status === 401) {
    goSignIn();
    return;
  }
  if (!hs.ok || !Array.isArray(hs.data)) {
    problemShown = Object.assign(problem(hs), { retry: () => boot() });
    renderProblem();
    return;
  }
  scope = who.hospitals === '*' ? hs.data : hs.data.filter((h) => who.hospitals.includes(h.id));
  document.body.classList.remove('no-feed');
  mci.start();
  renderPicker();
  const first = chosenFromUrl() || (scope.length <= FEW && scope.length ? scope[0].id : null);
  if (first) await open(first, scope.find((h) => h.id === first));
  else if (!scope.length) {
    problemShown = { key: 'manage.no_hospitals', kind: 'warn', signOut: true };
    renderProblem();
  }
}

// -- live updates, clock, language ---------------------------------------------------------

let frame = { lang: true, now: 0 };
let frameId = 0;

function schedule() {
  if (!frameId) frameId = window.requestAnimationFrame(render);
}

function relang() {
  frame.lang = true;
  schedule();
}

function render() {
  frameId = 0;
  const f = Object.assign({}, frame, { now: feed.serverNow() });
  frame = { lang: false };
  status.render(f);
  // a refused live feed (the session ended) asks for a sign-in: back here afterwards
  if (f.lang) {
    text(announcer, ''); // said in the other language
    $('mg-skip').textContent = t('manage.skip');
    renderAccount();
    renderProblem();
    renderPicker();
    form.build();
    services.build();
    check.refresh(true);
    importer.build();
    mci.relang();
  }
}

feed.addEventListener('snapshot', () => {
  if (form.id) form.merge(feed.hospitals.get(form.id));
  check.refresh();
  schedule();
});
feed.addEventListener('changes', (e) => {
  if (form.id && e.detail.hospitals.has(form.id)) {
    form.merge(feed.hospitals.get(form.id));
    services.refresh();
    check.refresh();
  }
});
feed.addEventListener('connection', () => {
  schedule();
  if (feed.status === 'live') form.flush(); // an edit kept on the phone goes now
});
onStoredLangChange(relang);
window.setInterval(schedule, CLOCK_MS);
window.setInterval(() => {
  form.refreshClock();
  mci.clock();
}, 10 * CLOCK_MS);
window.addEventListener('online', () => {
  feed.reconnectNow();
  form.flush();
});

render();
boot(firstWho);
