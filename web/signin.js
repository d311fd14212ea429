// The sign-in page (/signin): exchanges a token for the session cookie
// (POST /api/v1/session, docs/security.md) and goes on to the page that sent
// the browser here. The token comes in the URL fragment of a demo link
// (#token=bp_…&next=/wall; signin_fragment.js has already taken it off the
// address bar) or is pasted into the form. A browser already signed in is
// told who it is, with "continue" and "sign out".
//
// `next` is followed only when it is a path of this site, so a crafted link
// cannot send a freshly signed-in browser elsewhere.

import { t, ready, lang, onStoredLangChange, pick } from './i18n.js';
import { el, fill } from './dom.js';
import { whoAmI, signIn, signOut, getHospitals } from './api.js';
import { labelLangToggle, plainTopBar } from './views/status.js';
import * as fmt from './format.js';

const fragment = new URLSearchParams(String(window.__bpFragment || '').replace(/^#/, ''));
delete window.__bpFragment;

// A path on this site ("/manage"), else "/": not "//host", no backslash
// (browsers read "/\host" as another host), no control characters.
export function safeNext(p) {
  if (typeof p !== 'string' || !p.startsWith('/') || p.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(p)) return '/';
  return p;
}

const next = safeNext(fragment.get('next'));
const $ = (id) => document.getElementById(id);
const card = $('signin');

// mode: checking | signing | form | who | going; error: {kind, message, until}
const state = { mode: 'checking', error: null, who: null, names: new Map(), notice: null };

// -- the top bar --------------------------------------------------------------------

const { brandName, brandSub, langButton } = plainTopBar($('topbar'), () => render());
onStoredLangChange(render);

// -- the form (built once: what is typed survives a language switch and the
// countdown after too many failures) ----------------------------------------------

const tokenLabel = el('label', { for: 'token', class: 'field-label' });
const tokenInput = el('input', {
  id: 'token', name: 'token', type: 'password', class: 'ctl big-ctl', autocomplete: 'off',
  autocapitalize: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'token-hint signin-error',
});
const tokenHint = el('p', { id: 'token-hint', class: 'hint' });
const errorLine = el('p', { id: 'signin-error', class: 'notice notice-bad', role: 'alert', hidden: true });
const submit = el('button', { type: 'submit', id: 'signin-submit', class: 'btn btn-primary btn-big' });
const form = el('form', { id: 'signin-form', class: 'signin-form', novalidate: true },
  tokenLabel, tokenInput, tokenHint, errorLine, submit);
form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = tokenInput.value.trim();
  if (!token) {
    state.error = { kind: 'empty' };
    render();
    tokenInput.focus();
    return;
  }
  exchange(token);
});

// -- what the server says ---------------------------------------------------------

// Roles that change figures, and so have hospitals to show.
const writes = (who) => who.role === 'manager' || who.role === 'admin';

function errorOf(r) {
  if (r.status === 401) {
    const kind = /revoked/.test(r.message) ? 'revoked' : /expired/.test(r.message) ? 'expired' : 'invalid';
    return { kind, message: r.message };
  }
  if (r.status === 403) return { kind: 'feed', message: r.message };
  if (r.status === 429) return { kind: 'rate', until: Date.now() + (r.retryAfterS || 60) * 1000 };
  if (r.status === 0) return { kind: 'network' };
  return { kind: 'server', message: r.message };
}

// asked: the request already sent (at start), else it is sent now
async function exchange(token, asked) {
  state.mode = 'signing';
  state.error = null;
  state.notice = null;
  render();
  const r = await (asked || signIn(token));
  tokenInput.value = '';
  if (r.ok) {
    state.mode = 'going';
    render();
    window.location.replace(next);
    return;
  }
  state.mode = 'form';
  state.error = errorOf(r);
  render();
  tokenInput.focus();
}

async function check(asked) {
  const r = await (asked || whoAmI());
  if (r.ok && r.data && r.data.role && !r.data.anonymous) {
    state.who = r.data;
    state.mode = 'who';
    render();
    if (writes(r.data) && Array.isArray(r.data.hospitals) && r.data.hospitals.length) {
      const hs = await getHospitals({ mine: true });
      if (hs.ok && Array.isArray(hs.data)) state.names = new Map(hs.data.map((h) => [h.id, h.name]));
      render();
    }
    return;
  }
  // anonymous, or a session that has ended (401): sign in
  state.mode = 'form';
  if (r.status === 0) state.error = { kind: 'network' };
  render();
}

async function leave() {
  const r = await signOut();
  if (!r.ok) {
    state.error = errorOf(r);
    render();
    return;
  }
  state.who = null;
  state.mode = 'form';
  state.notice = 'signin.signed_out';
  render();
  tokenInput.focus();
}

// -- rendering ----------------------------------------------------------------------

function errorText(e) {
  if (e.kind === 'rate') return t('signin.err_rate', { n: fmt.int(Math.max(Math.ceil((e.until - Date.now()) / 1000), 0)) });
  return t(`signin.err_${e.kind}`);
}

// Shows the error (with the server's own words, English as it writes them)
// in line, or hides it.
function showError(line) {
  const e = state.error;
  line.hidden = !e;
  if (!e) return line;
  const detail = e.message ? el('span', { class: 'notice-detail', lang: 'en', 'data-free-text': true }, e.message) : null;
  fill(line, errorText(e), detail);
  return line;
}

function updateForm() {
  const waiting = state.error && state.error.kind === 'rate' && state.error.until > Date.now();
  submit.disabled = state.mode === 'signing' || waiting;
  submit.textContent = state.mode === 'signing' ? t('signin.signing') : t('signin.submit');
  tokenLabel.textContent = t('signin.token');
  tokenHint.textContent = t('signin.token_hint');
  showError(errorLine);
}

function renderForm() {
  updateForm();
  return [
    el('h2', { id: 'signin-title', class: 'card-title' }, t('signin.title')),
    state.notice ? el('p', { class: 'notice notice-ok', role: 'status' }, t(state.notice)) : null,
    el('p', { class: 'lead' }, t('signin.lead')),
    form,
  ];
}

function hospitalsText(hs) {
  if (hs === '*') return t('signin.all_hospitals');
  if (!Array.isArray(hs) || !hs.length) return t('signin.no_hospitals');
  return hs.map((id) => (state.names.has(id) ? pick(state.names.get(id)) : id)).join(', ');
}

function renderWho() {
  const w = state.who;
  const fact = (k, v, free) => [el('dt', null, t(k)), el('dd', free ? { 'data-free-text': true } : null, v)];
  const expires = Date.parse(w.session_expires || '');
  const signOutButton = el('button', { type: 'button', id: 'signout', class: 'btn btn-quiet btn-big' }, t('signin.sign_out'));
  signOutButton.addEventListener('click', leave);
  return [
    el('h2', { id: 'signin-title', class: 'card-title' }, t('signin.who_title')),
    el('dl', { class: 'facts', id: 'who' },
      fact('signin.role', t(`role.${w.role}`)),
      w.name ? fact('signin.name', w.name, true) : null,
      writes(w) ? fact('signin.hospitals', hospitalsText(w.hospitals)) : null,
      Number.isFinite(expires) && expires > 0
        ? fact('signin.expires', fmt.shortDateTime(expires, Date.now())) : null),
    showError(el('p', { class: 'notice notice-bad', role: 'alert' })),
    el('div', { class: 'actions' },
      el('a', { id: 'continue', class: 'btn btn-primary btn-big', href: next }, t('signin.continue')),
      signOutButton),
    // notifications by e-mail or webhook (/account) for those who may have them
    w.role !== 'feed' && w.role !== 'public'
      ? el('p', { class: 'hint' }, el('a', { id: 'to-account', href: '/account' }, t('signin.notifications'))) : null,
  ];
}

function render() {
  document.documentElement.lang = lang();
  document.title = t('signin.page_title');
  brandName.textContent = t('app.brand');
  brandSub.textContent = t('signin.subtitle');
  labelLangToggle(langButton);
  if (state.mode === 'who') fill(card, renderWho());
  else if (state.mode === 'form' || state.mode === 'signing') fill(card, renderForm());
  else fill(card, el('p', { class: 'lead', role: 'status' }, t(state.mode === 'going' ? 'signin.going' : 'signin.checking')));
}

// the wait after too many failures counts down
window.setInterval(() => {
  if (state.error && state.error.kind === 'rate' && state.mode === 'form') {
    if (state.error.until <= Date.now()) state.error = null; // waited enough: try again
    updateForm();
  }
}, 1000);

// The page a sign-in link goes on to, and what that page loads (the build
// lists them in this page: tools/build_web.mjs), fetched into the cache
// while the sign-in request is on its way, so the next page opens without
// waiting for them. Nothing to do for the unbuilt source.
function prefetchNext() {
  let pages;
  try {
    pages = JSON.parse((document.getElementById('bp-pages') || {}).textContent || '{}');
  } catch (e) {
    return;
  }
  const u = new URL(next, window.location.origin);
  const list = pages[u.pathname.replace(/(.)\/$/, '$1')];
  if (!Array.isArray(list)) return;
  for (const href of list) document.head.append(el('link', { rel: 'prefetch', href }));
}

// A sign-in link opened while this page is shown differs from it only in
// its fragment, and the browser does not load the page again for that:
// start over, so signin_fragment.js takes the new fragment off the address
// bar and hands it here.
window.addEventListener('hashchange', () => {
  if (window.location.hash) window.location.reload();
});

// The first request goes out at once, while the dictionary of the page's
// language is on its way; the page speaks once both are here.
const token = fragment.get('token');
const first = token ? signIn(token) : whoAmI();
if (token) prefetchNext();
await ready;
render();
if (token) exchange(token, first);
else check(first);
