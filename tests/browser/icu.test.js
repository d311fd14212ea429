'use strict';
// Intensive-care detail (issue 15 part 3) in real Chromium against the real
// stack: a feed line reports Bach Mai's ventilated and ECMO places; the
// dispatcher's detail panel shows them (free / total) per ICU bed type and
// follows the live feed; in Vietnamese and in English.

const { describe } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, isoNow } = require('../lib/stack.js');
const { Session, openPage, screenshot, expectHttpErrors } = require('./pages.js');

const BM = 'bach-mai';

describe('intensive-care detail', { timeout: 400000 }, () => {
  const s = new Session();

  const row = (page, k) => page.locator(`#detail-icu tr[data-bed="${k}"]`);
  const cells = (page, k) => row(page, k).locator('td').allInnerTexts();

  const open = async (page, url) => {
    assert.equal((await page.goto(s.url(url))).status(), 200);
    await waitFor(async () => (await page.locator('#conn').getAttribute('data-state')) === 'live', { what: 'live' });
    await page.locator(`#hospitals-table tr[data-id="${BM}"]`).click();
    await waitFor(async () => (await page.locator('#detail').getAttribute('data-id')) === BM, { what: 'the detail of Bach Mai' });
  };

  s.step('the detail panel shows ventilated and ECMO places per ICU bed type, live', async () => {
    const { page } = s;
    await s.sendAll([s.beds(BM, isoNow(), {
      beds: { icu_adult: { staffed: 75, occupied: 70, ventilated: { total: 40, free: 3 }, ecmo: { total: 4, free: 0 } },
        icu_pediatric: { ventilated: { total: 10, free: 2 } } },
    })]);
    await open(page, '/');
    await waitFor(() => row(page, 'icu_adult').isVisible(), { what: 'the intensive-care table' });
    assert.equal(await page.locator('#detail-icu caption').innerText(), 'Hồi sức tích cực: thở máy và ECMO');
    assert.deepEqual(await cells(page, 'icu_adult'), ['3 / 40', '0 / 4']);
    assert.deepEqual(await cells(page, 'icu_pediatric'), ['2 / 10', '–']);
    assert.equal(await row(page, 'icu_adult').locator('td').nth(1).getAttribute('aria-label'), '0 trống trên 4');
    assert.match(await row(page, 'icu_adult').locator('td').nth(1).getAttribute('class'), /\bzero\b/, 'no ECMO place free');
    assert.equal(await page.locator('#detail-icu tr[data-bed="medical_surgical"]').count(), 0, 'only ICU types');
    // the live feed: one ventilated place taken, an ECMO place free
    await s.send(s.beds(BM, isoNow(), { beds: { icu_adult: { ventilated: { total: 40, free: 2 }, ecmo: { total: 4, free: 1 } } } }));
    await waitFor(async () => JSON.stringify(await cells(page, 'icu_adult')) === JSON.stringify(['2 / 40', '1 / 4']),
      { what: 'the panel to follow the feed' });
    await screenshot(page, 'icu-detail.png');
    await s.noErrors();
  });

  s.step('the wall sums the city\'s ventilated and ECMO places under the ICU figure', async () => {
    const w = await openPage(s.browser);
    await w.page.goto(s.url('/wall'));
    const hs = (await s.stack.get('/api/v1/hospitals')).json;
    const sum = { ventilated: [0, 0], ecmo: [0, 0] };
    for (const h of hs) {
      const b = h.beds.icu_adult;
      if (!h.at || !b || typeof b.staffed !== 'number' || typeof b.occupied !== 'number') continue;
      for (const k of Object.keys(sum)) if (b[k]) sum[k] = [sum[k][0] + b[k].free, sum[k][1] + b[k].total];
    }
    const vi = (n) => new Intl.NumberFormat('vi-VN').format(n);
    const want = `thở máy trống ${vi(sum.ventilated[0])}/${vi(sum.ventilated[1])} · ECMO trống ${vi(sum.ecmo[0])}/${vi(sum.ecmo[1])}`;
    assert.ok(sum.ventilated[1] >= 40 && sum.ecmo[1] >= 4, 'Bach Mai is counted');
    const sub = w.page.locator('#w-kpi-icu .w-kpi-sub');
    await waitFor(async () => (await sub.textContent()).endsWith(want), { what: `the ICU figure to read ${want}` });
    assert.deepEqual(w.rec.errors, []);
    await w.context.close();
  });

  s.step('a manager sets them on /manage; a free above the total is refused at the field', async () => {
    const manager = s.stack.createToken('manager', { hospitals: BM, name: 'Chị Lan' });
    await s.stack.waitForToken(manager.token);
    const w = await openPage(s.browser);
    await w.page.goto(s.url(`/signin#token=${manager.token}&next=/manage`));
    const card = w.page.locator('fieldset.mg-card[data-bed="icu_adult"]');
    await waitFor(() => card.isVisible(), { what: 'the adult ICU card' });
    const input = (k) => w.page.locator(`input[data-field="beds.icu_adult.${k}"]`);
    await card.locator('summary').click();
    assert.equal(await card.locator('.mg-icu label').first().innerText(), 'Giường thở máy');
    const h0 = await s.stack.hospital(BM);
    assert.equal(await input('ventilated.free').inputValue(), String(h0.beds.icu_adult.ventilated.free));
    assert.equal(await input('ecmo.total').inputValue(), String(h0.beds.icu_adult.ecmo.total));
    await input('ventilated.free').fill('5');
    await w.page.locator('#mg-save').click();
    const h1 = await waitFor(async () => {
      const h = await s.stack.hospital(BM);
      return h.version > h0.version && h;
    }, { what: 'the PATCH to show' });
    assert.deepEqual(h1.beds.icu_adult.ventilated, { total: h0.beds.icu_adult.ventilated.total, free: 5 }, 'the pair, whole');
    assert.deepEqual(h1.beds.icu_adult.ecmo, h0.beds.icu_adult.ecmo, 'the other pair stays');
    // more ECMO places free than there are: the server's 422, at the field
    await waitFor(async () => (await input('ventilated.free').inputValue()) === '5', { what: 'the saved figure' });
    await input('ecmo.free').fill(String(h1.beds.icu_adult.ecmo.total + 5));
    await w.page.locator('#mg-save').click();
    const note = card.locator('#icu_adult-ecmo\\.free-note');
    await waitFor(async () => /must not exceed/.test(await note.innerText()), { what: 'the error at ECMO free' });
    assert.equal((await s.stack.hospital(BM)).version, h1.version, 'nothing changed');
    await screenshot(w.page, 'icu-manage.png');
    assert.equal(expectHttpErrors(w.rec, 422), 1, 'the one 422 provoked');
    assert.deepEqual(w.rec.errors, []);
    await w.context.close();
  });

  s.step('in English', async () => {
    const { page } = s;
    await open(page, '/?lang=en');
    // the panel follows the manager's PATCH
    await waitFor(() => row(page, 'icu_adult').isVisible(), { what: 'the intensive-care table' });
    assert.equal(await page.locator('#detail-icu caption').innerText(), 'Intensive care: ventilation and ECMO');
    assert.deepEqual(await page.$$eval('#detail-icu thead th', (ths) => ths.map((x) => x.textContent)),
      ['Bed type', 'Invasive ventilation', 'ECMO']);
    assert.equal(await row(page, 'icu_adult').locator('td').first().getAttribute('aria-label'), '5 free of 40');
    await s.noErrors();
  });
});
