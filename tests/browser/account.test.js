'use strict';
// The sign-in page (/signin) in real Chromium against the real stack with
// anonymous access off: the form (a password-type field, no autocomplete),
// the errors of a bad, a revoked and a feed token in words (with the
// server's own message), a sign-in link that lands on its `next` page with
// the fragment gone and an HttpOnly cookie, `next` kept to this site, the
// "signed in as" card with continue, a link to one's notifications
// (/account) and sign out (after which the cookie
// no longer works), the language toggle, and the wait after too many
// failures (429, Retry-After). Screenshot: signin.png (390×844).
//
// The steps share one page and run in order; the one that trips the
// failure limit runs last. Every HTTP error answer the test provokes is
// expected by status; anything else logged fails.

const { describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, notYet } = require('../lib/stack.js');
const {
  Session, openPage, screenshot, expectHttpErrors, sessionCookie, visibleStrings, dictionaries, languageProblems,
  contrastProblems,
} = require('./pages.js');

describe('sign-in page', { timeout: 400000 }, () => {
  const s = new Session({ env: { BP_AUTH_ANONYMOUS: 'none' } });
  let stack;
  let page;
  let rec;
  let context;
  let dispatcher;

  const error = () => page.locator('#signin-error');
  const path = () => new URL(page.url()).pathname;

  async function submit(token) {
    await page.locator('#token').fill(token);
    await page.locator('#signin-submit').click();
  }

  async function waitError(re) {
    await waitFor(async () => (await error().isVisible()) && re.test(await error().innerText()), { timeout: 5000, what: `error ${re}` });
  }

  before(async () => {
    stack = s.stack;
    dispatcher = stack.createToken('dispatcher', { name: 'Trực ban 115' });
    await stack.waitForToken(dispatcher.token);
    ({ page, rec, context } = await openPage(s.browser, { width: 390, height: 844 }));
  });

  s.step('without a token: a form with a password field, in Vietnamese', async () => {
    await page.goto(s.url('/signin'));
    await waitFor(() => page.locator('#token').isVisible(), { what: 'the form' });
    assert.equal(await page.locator('#token').getAttribute('type'), 'password');
    assert.equal(await page.locator('#token').getAttribute('autocomplete'), 'off');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'vi');
    assert.equal(await page.locator('#signin-submit').innerText(), 'Đăng nhập');
    assert.equal(await page.title(), 'Đăng nhập — BedPulse');
    assert.deepEqual(await contrastProblems(page), []);
    await screenshot(page, 'signin.png');
    await s.noErrors(page, rec);
  });

  s.step('an empty field is caught before asking the server', async () => {
    await submit('');
    await waitError(/Hãy nhập mã truy cập/);
    await s.noErrors(page, rec);
  });

  s.step('a bad token, a revoked one and a feed token each get their own words', async () => {
    await submit('bp_not-a-real-token');
    await waitError(/không hợp lệ[\s\S]*this token is not valid/);
    assert.equal(await page.locator('#token').inputValue(), '', 'the token is not kept');
    const old = stack.createToken('manager', { hospitals: 'bach-mai' });
    await stack.waitForToken(old.token);
    stack.revokeToken(old.id);
    await waitFor(async () => (await stack.call('GET', '/api/v1/session', { token: old.token })).status === 401, { what: 'revoked' });
    await submit(old.token);
    await waitError(/đã bị thu hồi[\s\S]*this token was revoked/);
    const feed = stack.createToken('feed', { hospitals: 'bach-mai' });
    await stack.waitForToken(feed.token);
    await submit(feed.token);
    await waitError(/nguồn dữ liệu/);
    assert.equal(await sessionCookie(context), null);
    // a bad token in a link: the error, and the form to paste a good one
    await page.goto(s.url('/signin#token=bp_wrong&next=/wall'));
    await waitError(/không hợp lệ/);
    assert.doesNotMatch(page.url(), /#|bp_wrong/);
    assert.equal(expectHttpErrors(rec, 401, 403), 4);
    await s.noErrors(page, rec);
  });

  s.step('a sign-in link lands on its page: fragment gone at once, an HttpOnly cookie', async () => {
    await page.goto(s.url(`/signin#token=${dispatcher.token}&next=/wall`));
    await waitFor(() => path().startsWith('/wall'), { timeout: 5000, what: '/wall' });
    assert.doesNotMatch(page.url(), /token|bp_/);
    const cookie = await sessionCookie(context);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.doesNotMatch(await page.evaluate(() => document.cookie), /bp_session/);
    // the wall is live on the cookie
    await waitFor(async () => (await page.locator('#w-conn').getAttribute('data-state')) === 'live', { what: 'wall live' });
    await s.noErrors(page, rec);
  });

  s.step('`next` is followed only to a path of this site', async () => {
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
      await page.goto(s.url(`/signin#token=${dispatcher.token}&next=${encodeURIComponent(next)}`));
      await waitFor(async () => new URL(page.url()).host === new URL(s.url('/')).host && path() === '/', { timeout: 5000, what: `home for ${next}` });
    }
    await s.noErrors(page, rec);
  });

  s.step('signed in already: who, with continue and sign out; then the cookie no longer works', async () => {
    await page.goto(s.url('/signin#next=%2Fwall'));
    await waitFor(() => page.locator('#who').isVisible(), { what: 'who' });
    assert.match(await page.locator('#who').innerText(), /Vai trò\s+Điều phối 115\s+Tên\s+Trực ban 115\s+Phiên kết thúc\s+\d\d:\d\d/);
    assert.equal(await page.locator('#continue').getAttribute('href'), '/wall');
    assert.equal(await page.locator('#to-account').getAttribute('href'), '/account');
    assert.equal(await page.locator('#to-account').innerText(), 'Thông báo qua e-mail hoặc webhook');
    const cookie = await sessionCookie(context);
    await page.locator('#signout').click();
    await waitFor(() => page.locator('#token').isVisible(), { what: 'the form again' });
    assert.match(await page.locator('.notice-ok').innerText(), /Đã đăng xuất/);
    assert.equal(await sessionCookie(context), null);
    await waitFor(async () => (await stack.call('GET', '/api/v1/ambulances', { cookie: cookie.value })).status === 401,
      { timeout: 3000, what: 'the cookie denied' });
    await s.noErrors(page, rec);
  });

  s.step('the language toggle switches the page to English and back', async () => {
    const dicts = await dictionaries();
    await page.locator('#lang-toggle').click();
    await waitFor(async () => (await page.evaluate(() => document.documentElement.lang)) === 'en', { what: 'English' });
    assert.equal(await page.locator('#signin-submit').innerText(), 'Sign in');
    assert.equal(await page.title(), 'Sign in — BedPulse');
    assert.deepEqual(languageProblems(await visibleStrings(page), 'en', dicts), []);
    await page.locator('#lang-toggle').click();
    await waitFor(async () => (await page.evaluate(() => document.documentElement.lang)) === 'vi', { what: 'Vietnamese' });
    assert.deepEqual(languageProblems(await visibleStrings(page), 'vi', dicts), []);
    await s.noErrors(page, rec);
  });

  s.step('too many failures: wait N seconds, in words, with the button off', async () => {
    // auth.login_failures_per_min (10) from this address: a bucket of 10
    // that gets one back every 6 s. The form is filled first, the bucket
    // emptied (bad sign-ins until a 429), then the button clicked at once.
    // Should a token come back in between (a very slow machine), the page
    // signs in: then sign out and try again.
    const other = await openPage(s.browser, { width: 390, height: 844 });
    const err = other.page.locator('#signin-error');
    const signedIn = () => !/^\/signin\/?$/.test(new URL(other.page.url()).pathname);
    const tries = [];
    await waitFor(async () => {
      await other.context.clearCookies();
      await other.page.goto(s.url('/signin'));
      await waitFor(() => other.page.locator('#token').isVisible(), { what: 'the form' });
      await other.page.locator('#token').fill(dispatcher.token);
      const answers = [];
      while (answers.at(-1) !== 429) {
        answers.push((await stack.call('POST', '/api/v1/session', { json: { token: 'bp_guess' } })).status);
        assert.ok(answers.length <= 30, `no 429 after ${answers.length} failed sign-ins: ${answers.join(',')}`);
      }
      await other.page.locator('#signin-submit').click();
      const outcome = await waitFor(async () => {
        if (signedIn()) return 'signed in';
        return (await err.isVisible()) && /Chờ \d+ giây rồi thử lại/.test(await err.innerText()) && 'told to wait';
      }, { timeout: 10000, what: 'the wait, or a sign-in after a token came back' });
      tries.push(`${answers.length} failures, then ${outcome}`);
      return outcome === 'told to wait' || notYet(tries);
    }, { timeout: 60000, interval: 0, what: 'a click while the failure limit holds' });
    assert.equal(await other.page.locator('#signin-submit').isDisabled(), true);
    assert.equal(expectHttpErrors(other.rec, 429), 1);
    await s.noErrors(other.page, other.rec);
    await other.context.close();
  });
});
