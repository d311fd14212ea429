'use strict';
// The public page (/public, issue 14) in real Chromium at phone size against
// the real stack with anonymous access off (the page is open anyway): the
// city's free beds and how many hospitals report; a hospital whose ED goes
// on diversion with its own words shows "diverting" with a category and
// never those words, within the 5 s the document may be old plus the
// page's refresh (reloaded here); no ambulance anywhere; a hospital being
// evacuated says so and shows its ED closed with that category, and the
// emergency services it reports unavailable by name, never its words; the search finds
// by name or district in either language; English with no Vietnamese left;
// the page asks the server for nothing but its document. Screenshot
// public.png (390×844).

const { describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, isoNow } = require('../lib/stack.js');
const {
  Session, openPage, screenshot, visibleStrings, dictionaries, languageProblems, contrastProblems,
} = require('./pages.js');

describe('public page', { timeout: 170000 }, () => {
  const s = new Session({ env: { BP_AUTH_ANONYMOUS: 'none' } });
  let p;
  const asked = [];
  const main = () => p.page.locator('#pb-main');
  const card = (id) => p.page.locator(`#pb-hospitals > li[data-id="${id}"]`);

  before(async () => {
    p = await openPage(s.browser, { width: 390, height: 844 });
    p.page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/api/') || u.pathname === '/ws') asked.push(u.pathname);
    });
  });

  s.step('the city and every hospital, for anyone, with the figures reported', async () => {
    await s.sendAll([
      s.beds('bach-mai', isoNow(), { beds: { icu_adult: { staffed: 40, occupied: 31 }, medical_surgical: { staffed: 1000, occupied: 880 } } }),
      s.beds('viet-duc', isoNow(), { beds: { icu_adult: { staffed: 30, occupied: 30 } } }),
    ]);
    await p.page.goto(s.url('/public'));
    await waitFor(async () => (await main().getAttribute('data-state')) === 'ready', { what: 'the document' });
    assert.match(await p.page.locator('#pb-reporting').innerText(), /^2\/\d+ bệnh viện đang báo cáo$/);
    const cityIcu = await p.page.locator('#pb-city-beds li[data-bed="icu_adult"] .pb-bed-n').innerText();
    assert.equal(cityIcu, '9');
    assert.match(await card('bach-mai').innerText(), /9 HSTC người lớn trống|9 .* trống/);
    assert.ok((await p.page.locator('#pb-hospitals > li').count()) > 30);
    assert.deepEqual(await contrastProblems(p.page), []);
    const dicts = await dictionaries();
    assert.deepEqual(languageProblems(await visibleStrings(p.page), 'vi', dicts), []);
    await s.noErrors(p.page, p.rec);
  });

  s.step('a diversion in the hospital\'s own words: "diverting" with a category, never the words; no ambulance', async () => {
    await s.send(s.beds('thanh-nhan', isoNow(), { ed: { status: 'diversion', reason: 'Bác sĩ Tuấn nghỉ ốm', until: isoNow(3600e3) } }));
    await s.send(s.ambulance('115-HK-03', { status: 'transporting', lat: 21.0, lon: 105.84 }));
    const before = await main().getAttribute('data-generated');
    await waitFor(async () => {
      await p.page.reload();
      await waitFor(async () => (await main().getAttribute('data-state')) === 'ready', { what: 'the document' });
      return (await card('thanh-nhan').locator('.pb-ed').getAttribute('data-state')) === 'diverting';
    }, { what: 'thanh-nhan diverting', timeout: 20000, interval: 1000 });
    assert.notEqual(await main().getAttribute('data-generated'), before);
    const ed = await card('thanh-nhan').locator('.pb-ed').innerText();
    assert.match(ed, /^Cấp cứu: đang chuyển hướng xe cứu thương — (hồi sức tích cực hết chỗ|hết giường|xe cứu thương chờ bàn giao|lý do khác)$/);
    const all = await p.page.locator('body').innerText();
    assert.ok(!all.includes('Tuấn'), 'not the hospital\'s words');
    assert.ok(!all.includes('115-HK-03'), 'no ambulance');
    // those that do not accept come first
    assert.equal(await p.page.locator('#pb-hospitals > li').first().getAttribute('data-id'), 'thanh-nhan');
    await s.noErrors(p.page, p.rec);
  });

  s.step('evacuating: said on the card, the ED closed with that category, the emergency services out by name; never the words', async () => {
    await s.send(s.beds('bach-mai', isoNow(), {
      facility: { status: 'evacuating', reason: 'Cháy tầng 3 khu B', power: 'generator' },
      services: { stroke_unit: { status: 'unavailable', reason: 'kíp trực nghỉ' }, ct: { status: 'unavailable', reason: 'hỏng bóng' } },
    }));
    await waitFor(async () => {
      await p.page.reload();
      await waitFor(async () => (await main().getAttribute('data-state')) === 'ready', { what: 'the document' });
      return (await card('bach-mai').locator('.pb-fac').count()) === 1;
    }, { what: 'bach-mai evacuating', timeout: 20000, interval: 1000 });
    assert.equal(await card('bach-mai').locator('.pb-fac').getAttribute('data-facility'), 'evacuating');
    assert.equal(await card('bach-mai').locator('.pb-fac').innerText(), 'Bệnh viện đang sơ tán: không tiếp nhận bệnh nhân.');
    assert.equal(await card('bach-mai').locator('.pb-ed').getAttribute('data-state'), 'closed');
    assert.equal(await card('bach-mai').locator('.pb-ed').innerText(), 'Cấp cứu: tạm đóng — bệnh viện đang sơ tán');
    // CT is not an emergency service citizens choose by: only the stroke unit
    assert.equal(await card('bach-mai').locator('.pb-svc-out').getAttribute('data-services'), 'stroke_unit');
    assert.equal(await card('bach-mai').locator('.pb-svc-out').innerText(), 'Tạm ngừng: Đơn vị đột quỵ');
    const all = await p.page.locator('body').innerText();
    for (const words of ['Cháy tầng', 'kíp trực', 'hỏng bóng', 'generator', 'máy phát'])
      assert.ok(!all.includes(words), `not the hospital's words: ${words}`);
    assert.deepEqual(await contrastProblems(p.page), []);
    await s.noErrors(p.page, p.rec);
  });

  s.step('the search by name or district; in English, no Vietnamese left; nothing asked but the document', async () => {
    await p.page.locator('#pb-search').fill('bach mai');
    await waitFor(async () => (await main().getAttribute('data-shown')) === '1', { what: 'one found' });
    assert.equal(await card('bach-mai').isVisible(), true);
    await p.page.locator('#pb-search').fill('Hoàn Kiếm');
    await waitFor(async () => Number(await main().getAttribute('data-shown')) >= 2, { what: 'by district' });
    assert.equal(await card('viet-duc').isVisible(), true);
    assert.equal(await card('bach-mai').isVisible(), false);
    await p.page.locator('#pb-search').fill('');
    await p.page.locator('#lang-toggle').click();
    await waitFor(async () => (await p.page.locator('#pb-city-title').innerText()) === 'The whole city', { what: 'English' });
    assert.match(await card('thanh-nhan').locator('.pb-ed').innerText(), /^Emergency: diverting ambulances — /);
    assert.equal(await card('bach-mai').locator('.pb-fac').innerText(), 'This hospital is being evacuated: it is not taking patients.');
    assert.equal(await card('bach-mai').locator('.pb-svc-out').innerText(), 'Not available now: Stroke unit');
    const dicts = await dictionaries();
    const names = await p.page.locator('.pb-h-name').allInnerTexts();
    assert.deepEqual(languageProblems(await visibleStrings(p.page), 'en', dicts, ['Tiếng Việt', ...names.filter((n) => /Hôpital/.test(n))]), []);
    await screenshot(p.page, 'public.png');
    assert.deepEqual([...new Set(asked)], ['/api/v1/public'], 'the page asks for its document only');
    await p.page.locator('#lang-toggle').click();
    await s.noErrors(p.page, p.rec);
  });
});
