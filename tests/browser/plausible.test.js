'use strict';
// Plausibility checks (issue 15 part 5) in real Chromium against the real
// stack: a feed line drops Bach Mai's adult ICU from 30 to 4 occupied within
// minutes; the report is applied and flagged, and the dispatcher's map
// marker and detail panel show the check with its reason (Vietnamese,
// then English) and the wall counts it under the reports; the hospital's manager sees it on /manage and
// confirms the figures with one tap; the check goes from /manage, the
// dispatcher's panel, the wall and REST.

const { describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, isoNow } = require('../lib/stack.js');
const { Session, openPage, screenshot } = require('./pages.js');

const BM = 'bach-mai';

describe('plausibility checks', { timeout: 400000 }, () => {
  const s = new Session();
  let page;
  let stack;
  let manager;
  let wall;
  before(async () => {
    ({ page, stack } = s);
    manager = stack.createToken('manager', { hospitals: BM, name: 'Chị Lan' });
    await stack.waitForToken(manager.token);
  });

  const marker = () => page.locator(`.hm[data-id="${BM}"]`);

  s.step('a drop is applied and flagged: the map marker and the detail panel say so', async () => {
    await s.sendAll([s.beds(BM, isoNow(), { beds: { icu_adult: { staffed: 40, occupied: 30 } } })]);
    assert.equal((await page.goto(s.url('/'))).status(), 200);
    await waitFor(async () => (await page.locator('#conn').getAttribute('data-state')) === 'live', { what: 'live' });
    await page.locator(`#hospitals-table tr[data-id="${BM}"]`).click();
    await waitFor(async () => (await page.locator('#detail').getAttribute('data-id')) === BM, { what: 'the detail of Bach Mai' });
    assert.equal(await page.locator('#detail-check').isHidden(), true, 'no check yet');
    await s.send(s.beds(BM, isoNow(), { beds: { icu_adult: { occupied: 4 } } }));
    await waitFor(async () => (await page.locator('#detail-check').getAttribute('data-rule')) === 'drop', { what: 'the check in the panel' });
    const vi = await page.locator('#detail-check').innerText();
    assert.match(vi, /Cần kiểm tra số liệu/);
    assert.match(vi, /giảm từ 30 xuống 4/);
    assert.equal(await marker().getAttribute('data-check'), 'drop');
    assert.match(await marker().getAttribute('title'), /Cần kiểm tra số liệu: .*giảm từ 30 xuống 4/);
    assert.equal((await stack.hospital(BM)).beds.icu_adult.occupied, 4, 'applied');
    await page.click('#lang-toggle');
    await waitFor(async () => /Check figures/.test(await page.locator('#detail-check').innerText()), { what: 'English' });
    assert.match(await page.locator('#detail-check').innerText(), /Adult ICU occupied fell from 30 to 4 within minutes/);
    await screenshot(page, 'plausible-detail.png');
    await page.click('#lang-toggle');
    await s.noErrors();
  });

  s.step('the wall lists the check', async () => {
    wall = await openPage(s.browser);
    await wall.page.goto(s.url('/wall'));
    const tile = wall.page.locator('#w-kpi-reporting');
    await waitFor(async () => (await tile.getAttribute('data-checks')) === BM, { what: 'the check on the wall' });
    assert.match(await tile.locator('.w-kpi-sub').innerText(), /· 1 cần kiểm tra$/);
    await s.noErrors(wall.page, wall.rec);
  });

  s.step('the manager confirms the figures on /manage with one tap; the check goes everywhere', async () => {
    const m = await openPage(s.browser, { width: 390, height: 844 });
    await m.page.goto(s.url(`/signin#token=${manager.token}&next=/manage`));
    await waitFor(() => m.page.locator('#check-confirm').isVisible(), { what: 'the check on /manage' });
    assert.match(await m.page.locator('#check-text').innerText(), /giảm từ 30 xuống 4/);
    assert.equal(await m.page.locator('#check-confirm').innerText(), 'Xác nhận số liệu');
    await screenshot(m.page, 'plausible-manage-phone.png');
    await m.page.click('#check-confirm');
    await waitFor(async () => /Đã xác nhận số liệu/.test(await m.page.locator('#check-note').innerText()), { what: 'the confirmation' });
    assert.equal(await m.page.locator('#check-confirm').isVisible(), false);
    const h = await stack.hospital(BM);
    assert.equal(h.check, null);
    assert.equal(h.beds.icu_adult.occupied, 4, 'the figures stay');
    assert.equal(h.source, `web:${manager.id}`);
    await waitFor(() => page.locator('#detail-check').isHidden(), { what: 'the dispatcher\'s panel to drop the check' });
    assert.equal(await marker().getAttribute('data-check'), '');
    await waitFor(async () => (await wall.page.locator('#w-kpi-reporting').getAttribute('data-checks')) === '', { what: 'the wall to drop the check' });
    assert.doesNotMatch(await wall.page.locator('#w-kpi-reporting .w-kpi-sub').innerText(), /kiểm tra/);
    await s.noErrors(wall.page, wall.rec);
    await wall.context.close();
    await s.noErrors(m.page, m.rec);
    await m.context.close();
    await s.noErrors();
  });
});
