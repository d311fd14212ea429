'use strict';
// The notifications page (/account, issue 14) in real Chromium against the
// real stack: a browser not signed in is sent to /signin and back; a
// dispatcher sees her (empty) list; a webhook to a loopback address is
// refused beside the URL field with the reason in words (the SSRF rule,
// docs/security.md), a short secret and no event beside theirs, and
// nothing is kept; an e-mail notification about one hospital and two
// districts from level 3, in English, with quiet hours is saved and listed in words, and the
// server holds exactly that; the page in English has no Vietnamese left;
// "Stop" ends it. Screenshot notifications.png (390×844, a phone).
//
// The steps share one page and run in order.

const { describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor } = require('../lib/stack.js');
const {
  Session, openPage, screenshot, expectHttpErrors, visibleStrings, dictionaries, languageProblems, contrastProblems,
} = require('./pages.js');

describe('notifications page', { timeout: 170000 }, () => {
  // e-mail needs an SMTP server set (nothing is delivered in this test)
  const s = new Session({ env: { BP_SMTP_URL: 'smtp://127.0.0.1:9', BP_SMTP_FROM: 'bedpulse@so-y-te.example.org' } });
  let stack;
  let p;
  let lan;
  const list = () => p.page.locator('#ac-list');
  const items = () => p.page.locator('#ac-subs > li.ac-sub');
  const shown = async (slot) => (await p.page.locator(`#ac-err-${slot}`).isVisible()) && p.page.locator(`#ac-err-${slot}`).innerText();
  // Submits the form and waits for the answer; asserts it was `want`,
  // saying what the page shows otherwise.
  const submitted = async (want) => {
    const form = p.page.locator('#ac-form');
    await form.evaluate((f) => { f.dataset.state = 'idle'; });
    await p.page.locator('#ac-submit').click();
    const got = await waitFor(async () => {
      const st = await form.getAttribute('data-state');
      return st === 'made' || st === 'refused' ? st : false;
    }, { what: 'the answer' });
    const errors = await p.page.locator('.ac-err:not([hidden]), #ac-form-error:not([hidden])').allInnerTexts();
    assert.equal(got, want, `the form shows: ${JSON.stringify(errors)}`);
  };
  const mine = async () => (await stack.call('GET', '/api/v1/subscriptions', { token: lan.token })).json.subscriptions;

  before(async () => {
    stack = s.stack;
    lan = stack.createToken('dispatcher', { name: 'Chị Lan' });
    await stack.waitForToken(lan.token);
    p = await openPage(s.browser, { width: 390, height: 844 });
  });

  s.step('not signed in: /account sends the browser to sign in, and back after it', async () => {
    const path = () => new URL(p.page.url()).pathname.replace(/(.)\/$/, '$1');
    await p.page.goto(s.url('/account'));
    await waitFor(async () => path() === '/signin' && p.page.locator('#token').isVisible(), { what: 'the sign-in form' });
    await p.page.locator('#token').fill(lan.token);
    await p.page.locator('#signin-submit').click();
    await waitFor(async () => path() === '/account', { what: 'back on /account' });
    await waitFor(async () => (await list().getAttribute('data-state')) === 'ready', { what: 'the list read' });
    assert.equal(await list().getAttribute('data-count'), '0');
    assert.equal(await p.page.locator('#ac-empty').innerText(), 'Bạn chưa có thông báo nào.');
    assert.match(await p.page.locator('#ac-who-name').innerText(), /^Chị Lan · /);
    // the form starts on e-mail: the webhook fields are not shown
    assert.equal(await p.page.locator('#ac-address').isVisible(), true);
    assert.equal(await p.page.locator('#ac-url').isVisible(), false);
    assert.equal(await p.page.locator('#ac-hospitals option').count() > 20, true, 'the hospitals to choose from');
    assert.equal(await p.page.locator('#ac-districts option').count(), 30, 'the districts to choose from, by name');
    assert.equal(await p.page.locator('#ac-districts option[value="dong-da"]').innerText(), 'Đống Đa');
    const dicts = await dictionaries();
    assert.deepEqual(languageProblems(await visibleStrings(p.page), 'vi', dicts), []);
    await s.noErrors(p.page, p.rec);
  });

  s.step('a webhook to a loopback address, a short secret and no event: each refused beside its field, nothing kept', async () => {
    await p.page.locator('label[for="ac-ch-webhook"]').click();
    await waitFor(() => p.page.locator('#ac-url').isVisible(), { what: 'the webhook fields' });
    await p.page.locator('#ac-url').fill('http://127.0.0.1:9/hook');
    await p.page.locator('#ac-secret').fill('short');
    for (const box of await p.page.locator('input[id^="ac-ev-"]').all()) await box.uncheck();
    await submitted('refused');
    assert.ok(await shown('secret'), 'an error beside the secret');
    assert.ok(await shown('events'), 'an error beside the events');
    assert.equal(await p.page.locator('#ac-secret').getAttribute('aria-invalid'), 'true');
    // the body right, the address is what is refused
    await p.page.locator('#ac-secret').fill('a-secret-of-twenty-chars');
    await p.page.locator('#ac-ev-alert-raised').check();
    await submitted('refused');
    const url = await shown('url');
    assert.ok(url, 'an error beside the URL');
    assert.match(url, /mạng nội bộ hoặc mạng riêng/, url);
    assert.match(url, /loopback|private/, `the server's words too: ${url}`);
    assert.equal(await shown('secret'), false, 'the secret is right now');
    assert.equal(await p.page.locator('#ac-url').getAttribute('aria-invalid'), 'true');
    assert.equal(await p.page.locator('#ac-secret').getAttribute('aria-invalid'), null);
    assert.equal(await p.page.locator('#ac-address').getAttribute('aria-invalid'), null);
    assert.deepEqual(await mine(), [], 'nothing kept');
    assert.equal(expectHttpErrors(p.rec, 422), 2);
    assert.deepEqual(await contrastProblems(p.page), []);
    await s.noErrors(p.page, p.rec);
  });

  s.step('an e-mail about one hospital from level 3, in English, with quiet hours: saved, listed in words, held by the server', async () => {
    await p.page.locator('label[for="ac-ch-email"]').click();
    await p.page.locator('#ac-address').fill('lan@so-y-te.example.org');
    for (const ev of ['alert-raised', 'ed-status', 'mci-declared']) await p.page.locator(`#ac-ev-${ev}`).check();
    await p.page.locator('#ac-hospitals').selectOption(['bach-mai']);
    await p.page.locator('#ac-districts').selectOption(['dong-da', 'hoan-kiem']);
    await p.page.locator('#ac-min-level').selectOption('3');
    await p.page.locator('#ac-lang').selectOption('en');
    await p.page.locator('label[for="ac-quiet"]').click();
    await waitFor(() => p.page.locator('#ac-quiet-from').isVisible(), { what: 'the quiet hours' });
    await p.page.locator('#ac-quiet-from').fill('22:00');
    await p.page.locator('#ac-quiet-to').fill('06:30');
    await submitted('made');
    await waitFor(async () => (await list().getAttribute('data-count')) === '1', { what: 'the list with it' });
    for (const slot of ['url', 'secret', 'events']) assert.equal(await p.page.locator(`#ac-err-${slot}`).isVisible(), false, slot);
    assert.equal(await p.page.locator('#ac-notice').innerText(), 'Đã lưu thông báo.');
    const item = items().first();
    assert.equal(await item.locator('.ac-sub-target').innerText(), 'E-mail tới lan@so-y-te.example.org');
    const facts = await item.locator('.ac-sub-facts').innerText();
    for (const words of ['có cảnh báo mới', 'khoa cấp cứu đổi trạng thái', 'chỉ Bệnh viện Bạch Mai', 'chỉ các quận/huyện Hoàn Kiếm, Đống Đa', 'mức áp lực 3', 'bằng tiếng Anh', 'im lặng 22:00–06:30']) {
      assert.ok(facts.includes(words), `"${words}" in: ${facts}`);
    }
    const held = await mine();
    assert.equal(held.length, 1);
    const x = held[0];
    assert.equal(await item.getAttribute('data-id'), x.id);
    assert.equal(x.channel, 'email');
    assert.equal(x.address, 'lan@so-y-te.example.org');
    assert.deepEqual(x.events.slice().sort(), ['alert.raised', 'ed.status', 'mci.declared']);
    assert.deepEqual(x.filters.hospitals, ['bach-mai']);
    assert.deepEqual(x.filters.districts.slice().sort(), ['dong-da', 'hoan-kiem']);
    assert.equal(x.filters.min_level, 3);
    assert.equal(x.lang, 'en');
    assert.deepEqual(x.quiet_hours, { from: '22:00', to: '06:30' });
    await s.noErrors(p.page, p.rec);
  });

  s.step('in English: the list and the form in words, nothing Vietnamese left', async () => {
    await p.page.locator('#lang-toggle').click();
    await waitFor(async () => (await p.page.locator('#ac-list-title').innerText()) === 'Your notifications', { what: 'English' });
    const facts = await items().first().locator('.ac-sub-facts').innerText();
    assert.match(facts, /^When: an alert starts, an emergency department changes status, a mass-casualty incident is declared · only Bach Mai Hospital · only the districts (Dong Da, Hoan Kiem|Hoan Kiem, Dong Da) · pressure level 3 \(Severe\) or higher · in English · quiet 22:00–06:30/, facts);
    const dicts = await dictionaries();
    assert.deepEqual(languageProblems(await visibleStrings(p.page), 'en', dicts, ['Chị Lan', 'Tiếng Việt', 'Hôpital Français de Hanoï']), []);
    await screenshot(p.page, 'notifications.png');
    await p.page.locator('#lang-toggle').click();
    await s.noErrors(p.page, p.rec);
  });

  s.step('"Stop" ends it, here and on the server', async () => {
    await items().first().locator('button.ac-delete').click();
    await waitFor(async () => (await list().getAttribute('data-count')) === '0', { what: 'an empty list' });
    assert.equal(await p.page.locator('#ac-notice').innerText(), 'Đã dừng thông báo.');
    assert.deepEqual(await mine(), []);
    await s.noErrors(p.page, p.rec);
  });
});
