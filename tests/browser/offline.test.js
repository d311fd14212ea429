'use strict';
// The manager's page through a dropped connection (issue 16), at a phone's
// size in real Chromium against the real stack: with the server gone, a
// saved edit is kept on the phone (localStorage), shown as "not yet sent"
// at the dock and at the field, and sent by itself when the server is
// back; with the phone's network cut (DevTools protocol: offline) while a
// colleague changes the same figure, the edit goes out with the version it
// was based on when the network returns, and she sees both values (the
// conflict), keeps hers, and it is saved; an edit kept when the phone was
// put away is restored and sent when the page is opened again. The kept
// edits' bounds are tested in outbox.test.js.

const { describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, isoNow } = require('../lib/stack.js');
const { Session, openPage, screenshot, expectHttpErrors } = require('./pages.js');

const PHONE = { width: 390, height: 844 };

describe('manager view offline', { timeout: 170000 }, () => {
  const s = new Session({ env: { BP_AUTH_ANONYMOUS: 'none' } });
  let stack;
  let page;
  let rec;
  let context;
  let lan; // the manager of bach-mai and viet-duc
  let minh; // another manager of bach-mai

  const field = (bed, key = 'occupied') => page.locator(`#f-${bed}-${key}`);
  const card = (bed) => page.locator(`fieldset.mg-card[data-bed="${bed}"]`);
  const notice = () => page.locator('#mg-notice');
  const rest = () => stack.hospital('bach-mai', lan.token);
  const kept = () => page.evaluate(() => JSON.parse(localStorage.getItem('bedpulse.outbox') || '[]'));
  const conn = async () => page.locator('#conn').getAttribute('data-state').catch(() => null);

  async function waitNotice(re, what = `notice ${re}`) {
    await waitFor(async () => (await notice().isVisible()) && re.test(await notice().innerText()), { timeout: 30000, what });
  }

  before(async () => {
    stack = s.stack;
    lan = stack.createToken('manager', { hospitals: 'bach-mai,viet-duc', name: 'Chị Lan' });
    minh = stack.createToken('manager', { hospitals: 'bach-mai', name: 'Anh Minh' });
    await stack.waitForToken(lan.token);
    await stack.waitForToken(minh.token);
    await s.sendAll([s.beds('bach-mai', isoNow(), {
      beds: { icu_adult: { staffed: 75, occupied: 60, surge24: 8 }, medical_surgical: { staffed: 1170, occupied: 1100 } },
    })]);
    ({ page, rec, context } = await openPage(s.browser, PHONE));
    await page.goto(s.url(`/signin#token=${lan.token}&next=/manage`));
    await waitFor(async () => new URL(page.url()).pathname.startsWith('/manage') && await field('icu_adult').isVisible(),
      { what: 'the form' });
    await waitFor(async () => (await conn()) === 'live', { what: 'live' });
  });

  s.step('the server goes: a saved edit is kept on the phone, "not yet sent", and sent when it is back', async () => {
    await page.evaluate(() => {
      window.__sameDocument = true;
    });
    rec.serverDown = true;
    await stack.stopProc('server', 'SIGKILL');
    await waitFor(async () => (await conn()) !== 'live', { what: 'the page to see the link drop' });
    await field('icu_adult').fill('64');
    await page.locator('#mg-save').click();
    await waitNotice(/^Chưa gửi được vì mất kết nối\. Đã giữ trên điện thoại này \(lưu lúc \d\d:\d\d(:\d\d)?\)/);
    assert.equal(await card('icu_adult').locator('.mg-unsent').innerText(), 'Chưa gửi');
    assert.equal(await field('icu_adult').inputValue(), '64');
    const k = await kept();
    assert.equal(k.length, 1);
    assert.equal(k[0].hospital, 'bach-mai');
    assert.equal(k[0].owner, lan.id);
    assert.deepEqual(k[0].values, { 'beds.icu_adult.occupied': '64' });
    assert.deepEqual(k[0].change, { beds: { icu_adult: { occupied: 64 } } });
    assert.equal(k[0].version, (await stack.stored('hospital', 'bach-mai')).version);
    await screenshot(page, 'manage-unsent-phone.png');

    await stack.startServer();
    await waitFor(async () => (await rest()).beds.icu_adult.occupied === 64, { timeout: 30000, what: 'the kept edit to arrive' });
    rec.serverDown = false;
    const h = await rest();
    assert.equal(h.source, `web:${lan.id}`);
    await waitNotice(/^Đã lưu lúc/);
    assert.equal(await card('icu_adult').locator('.mg-unsent').count(), 0);
    assert.deepEqual(await kept(), []);
    // the same page throughout
    assert.equal(await page.evaluate(() => window.__sameDocument), true);
    assert.equal(await page.evaluate(() => window.__bpBootCount), 1);
    assert.deepEqual(rec.errors, []);
  });

  s.step('the phone goes offline while a colleague changes the figure: back online, she sees both values', async () => {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await waitFor(async () => (await conn()) === 'live', { what: 'live' });
    const v0 = (await rest()).version;
    await cdp.send('Network.emulateNetworkConditions', { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    rec.serverDown = true; // Chromium logs the refused requests like those to a server that is down
    await field('icu_adult').fill('66');
    await page.locator('#mg-save').click();
    await waitNotice(/^Chưa gửi được/);
    assert.equal((await kept())[0].version, v0);
    // meanwhile Anh Minh saves his figure from the ward PC
    const r = await stack.call('PATCH', '/api/v1/hospitals/bach-mai', {
      token: minh.token, json: { beds: { icu_adult: { occupied: 70 } } }, headers: { 'If-Match': `"${v0}"` },
    });
    assert.equal(r.status, 200, r.body);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await waitFor(() => page.locator('#mg-conflict').isVisible(), { timeout: 30000, what: 'the conflict' });
    rec.serverDown = false;
    assert.equal(await page.locator('#mg-conflict tr[data-field="beds.icu_adult.occupied"] td.mine').innerText(), '66');
    assert.equal(await page.locator('#mg-conflict tr[data-field="beds.icu_adult.occupied"] td.current').innerText(), '70');
    assert.equal((await rest()).beds.icu_adult.occupied, 70, 'nothing overwritten');
    // still kept until she chooses
    assert.equal((await kept()).length, 1);
    await screenshot(page, 'manage-unsent-conflict-phone.png');
    await page.locator('#mg-keep').click();
    await waitFor(async () => (await rest()).beds.icu_adult.occupied === 66, { what: 'hers saved' });
    await waitNotice(/^Đã lưu lúc/);
    assert.deepEqual(await kept(), []);
    assert.equal(expectHttpErrors(rec, 409), 1);
    rec.errors.splice(0, rec.errors.length, ...rec.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED/.test(e)));
    await s.noErrors(page, rec);
    await cdp.detach();
  });

  s.step('an edit kept when the phone was put away is restored and sent when the page opens again', async () => {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    rec.serverDown = true;
    await field('icu_adult').fill('61');
    await page.locator('#mg-save').click();
    await waitNotice(/^Chưa gửi được/);
    await page.close(); // the phone is put away, offline
    // later, with a network: the same browser opens the page again
    const again = await openPage(s.browser, Object.assign({ context }, PHONE));
    await again.page.goto(s.url('/manage'));
    await waitFor(async () => (await stack.hospital('bach-mai', lan.token)).beds.icu_adult.occupied === 61,
      { timeout: 30000, what: 'the kept edit to arrive' });
    await waitFor(async () => /^Đã lưu lúc/.test(await again.page.locator('#mg-notice').innerText()), { what: 'saved' });
    assert.deepEqual(await again.page.evaluate(() => localStorage.getItem('bedpulse.outbox')), null);
    await s.noErrors(again.page, again.rec);
    page = again.page;
    rec = again.rec;
  });
});
