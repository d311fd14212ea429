'use strict';
// A browser the server refuses: with anonymous access off (auth.anonymous
// "none", as in a real deployment) and no session cookie, the live feed is
// closed with 4401. The dispatcher view and the wall must say so in words
// (sign-in needed, with a link to the sign-in page on the dispatcher view),
// not spin on "reconnecting" as if the network were down, and must not
// pretend to show data. Neither logs an error.

const { describe } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor } = require('../lib/stack.js');
const { Session, openPage } = require('./pages.js');

describe('signed out', { timeout: 120000 }, () => {
  const s = new Session({ env: { BP_AUTH_ANONYMOUS: 'none' } });

  s.step('the dispatcher view says sign-in is needed, with a link to the sign-in page', async () => {
    const { page } = s;
    await page.goto(s.url('/'));
    await waitFor(async () => page.locator('#stale-banner').isVisible(), { timeout: 10000, what: 'the banner' });
    assert.match(await page.locator('#stale-banner').innerText(), /cần đăng nhập/);
    assert.equal(await page.locator('#signin-link').getAttribute('href'), '/signin#next=%2F');
    assert.equal(await page.locator('#signin-link').innerText(), 'Đăng nhập');
    assert.equal(await page.locator('#conn .conn-text').innerText(), 'Cần đăng nhập');
    assert.equal(await page.locator('#hospitals-table tbody tr[data-id]').count(), 0, 'no rows without data');
    // a refusal is a close with a reason, not an error; nothing is logged
    await s.noErrors();
  });

  s.step('the wall says it in its banner and asks the server for nothing it may not have', async () => {
    const { page, rec } = await openPage(s.browser);
    await page.goto(s.url('/wall'));
    await waitFor(async () => page.locator('#wall-banner').isVisible(), { timeout: 10000, what: 'the banner' });
    assert.match(await page.locator('#wall-banner').innerText(), /cần đăng nhập/i);
    assert.equal(await page.locator('#w-conn').innerText(), 'Cần đăng nhập');
    await s.noErrors(page, rec); // no 401 from a history request either
    await page.close();
  });
});
