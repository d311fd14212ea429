'use strict';
// The 24-hour outlook in real Chromium against the real stack: three weeks
// of hourly history per bed type written before the server starts
// (tests/lib/bed_history.js), the current figures through the real feed.
// The detail panel draws each bed type's last 24 hours leading into its
// forecast, a dashed line over its band, with the staffed beds and says when it expects the beds full;
// a hospital with too little history says so instead of drawing a line;
// the wall continues the city's free adult ICU line with the forecast.

const { describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, notYet, isoNow } = require('../lib/stack.js');
const { HOUR, dailyBeds, seedBeds } = require('../lib/bed_history.js');
const { Session, screenshot } = require('./pages.js');

const bachMai = (t) => ({
  icu_adult: { staffed: 40, occupied: dailyBeds(t, 30, 6) },
  medical_surgical: { staffed: 1500, occupied: dailyBeds(t, 1400, 60) },
  emergency: { staffed: 90, occupied: dailyBeds(t, 100, 25) },
});

describe('24-hour outlook in the pages', { timeout: 400000 }, () => {
  const s = new Session({
    env: { BP_HISTORY_INTERVAL_S: '3600', BP_HISTORY_RETENTION_H: '720' },
    seed: async (stack) => {
      const end = Math.floor(Date.now() / HOUR) * HOUR; // the server samples this hour itself
      seedBeds(stack, `${stack.prefix}hist:h:bach-mai`, { endMs: end, hours: 21 * 24, beds: bachMai });
      seedBeds(stack, `${stack.prefix}hist:city`, { endMs: end, hours: 21 * 24, beds: bachMai });
      seedBeds(stack, `${stack.prefix}hist:h:viet-duc`, { endMs: end, hours: 10, beds: () => ({ icu_adult: { staffed: 20, occupied: 10 } }) });
      const feed = await stack.feed();
      try {
        const replies = await feed.sendBatch([
          { type: 'beds', source: 'his-outlook', seq: 1, at: isoNow(), hospital: 'bach-mai', beds: bachMai(Date.now()) },
          { type: 'beds', source: 'his-outlook', seq: 2, at: isoNow(), hospital: 'viet-duc', beds: { icu_adult: { staffed: 20, occupied: 10 } } },
        ]);
        for (const r of replies) assert.equal(r.ok, true, JSON.stringify(r));
      } finally {
        feed.close();
      }
    },
  });
  let page;
  let stack;
  before(() => {
    ({ page, stack } = s);
  });

  const box = (type) => page.locator(`#detail-outlook .outlook-chart[data-type="${type}"]`);

  async function openDetail(id) {
    const row = page.locator(`#hospitals-table tr[data-id="${id}"]`);
    await row.click();
    await waitFor(async () => (await page.locator('#detail').getAttribute('data-id')) === id
      && page.locator('#detail').isVisible(), { timeout: 5000, what: `detail of ${id}` });
  }

  s.step('the detail panel draws the dashed forecast over its band, with the staffed beds', async () => {
    await waitFor(async () => {
      const r = await stack.get('/api/v1/outlook?hospital=bach-mai');
      return (r.status === 200 && r.json.beds.icu_adult && r.json.beds.icu_adult.status === 'ok') || notYet(r.json);
    }, { timeout: 30000, what: 'the server to compute the outlook' });
    await page.goto(s.url('/'));
    await openDetail('bach-mai');
    await waitFor(async () => (await page.locator('#detail').getAttribute('data-outlook')) === 'shown'
      && (await box('icu_adult').getAttribute('data-status')) === 'ok', { what: 'the outlook in the panel' });
    const api = (await stack.get('/api/v1/outlook?hospital=bach-mai')).json;
    for (const type of ['icu_adult', 'medical_surgical', 'emergency']) {
      const chart = box(type).locator('svg.trend');
      // the last 24 hours of the same bed type lead into the forecast: the
      // solid line ends at the hour the dashed one starts from, at "now"
      const recent = chart.locator('.trend-line');
      assert.equal(await recent.getAttribute('visibility'), 'visible', type);
      assert.ok(((await recent.getAttribute('d')).match(/L/g) || []).length >= 20, `${type}: a day of hours`);
      const endMs = await recent.getAttribute('data-end-ms');
      const endV = await recent.getAttribute('data-end-v');
      assert.equal(await chart.locator('.trend-forecast').getAttribute('data-start-ms'), endMs, type);
      assert.equal(await chart.locator('.trend-forecast').getAttribute('data-start-v'), endV, type);
      const b = api.beds[type];
      assert.ok(b.recent.length >= 20 && b.recent.length <= 24, `${type}: ${b.recent.length} recent hours`);
      const last = b.recent[b.recent.length - 1];
      assert.equal(Number(endMs), Date.parse(last.t), type);
      assert.equal(Number(endV), b.now, type);
      assert.equal(Date.parse(b.points[0].t) - Date.parse(last.t), HOUR, `${type}: the forecast starts an hour after`);
      const line = chart.locator('.trend-forecast');
      const band = chart.locator('.trend-band');
      assert.equal(await line.getAttribute('visibility'), 'visible', type);
      assert.equal(await band.getAttribute('visibility'), 'visible', type);
      // 24 hourly points: 23 segments at least after the first
      const d = await line.getAttribute('d');
      assert.ok((d.match(/L/g) || []).length >= 23, `${type}: ${d.slice(0, 80)}`);
      assert.match(await band.getAttribute('d'), /Z$/);
      // dashed, and the band around the line
      assert.notEqual(await line.evaluate((e) => getComputedStyle(e).strokeDasharray), 'none');
      const [lb, bb] = [await line.boundingBox(), await band.boundingBox()];
      assert.ok(bb.height > 0 && bb.x <= lb.x + 1 && bb.x + bb.width >= lb.x + lb.width - 1, `${type}: band ${JSON.stringify(bb)} line ${JSON.stringify(lb)}`);
      assert.equal(await chart.locator('.trend-msg').textContent(), '');
      assert.match(await box(type).locator('.outlook-note').textContent(), /hết giường/);
    }
    // the adult ICU's 40 staffed beds are its threshold line, labelled
    const icu = box('icu_adult').locator('svg.trend');
    assert.equal(await icu.locator('.trend-threshold').getAttribute('visibility'), 'visible');
    assert.equal(await icu.locator('.trend-tlabel').textContent(), 'Thực kê');
    assert.match(await icu.getAttribute('aria-label'), /^Hồi sức tích cực người lớn: /);
    assert.match(await page.locator('#detail-outlook .outlook-note').last().textContent(), /Nét liền: 24 giờ qua; nét đứt/);
    await screenshot(page, 'outlook-detail.png');
    await s.noErrors();
  });

  s.step('too little history: the panel says so and draws no line', async () => {
    await openDetail('viet-duc');
    await waitFor(async () => (await box('icu_adult').getAttribute('data-status')) === 'insufficient_history',
      { what: 'the outlook of viet-duc' });
    const chart = box('icu_adult').locator('svg.trend');
    assert.match(await chart.locator('.trend-msg').textContent(), /^Chưa đủ lịch sử để dự báo \(\d+\/36 giờ\)$/);
    assert.equal(await chart.locator('.trend-forecast').getAttribute('visibility'), 'hidden');
    assert.equal(await chart.locator('.trend-band').getAttribute('visibility'), 'hidden');
    assert.equal(await box('medical_surgical').isVisible(), false, 'no such beds reported: no chart');
    await s.noErrors();
  });

  s.step('the wall continues the free adult ICU line with the forecast', async () => {
    await page.goto(s.url('/wall'));
    const card = page.locator('#w-trend-icu');
    await waitFor(async () => (await card.getAttribute('data-forecast')) === 'shown', { timeout: 20000, what: 'the wall forecast' });
    const chart = card.locator('svg.trend');
    assert.equal(await chart.locator('.trend-forecast').getAttribute('visibility'), 'visible');
    assert.equal(await chart.locator('.trend-band').getAttribute('visibility'), 'visible');
    assert.equal(await chart.locator('.trend-line').getAttribute('visibility'), 'visible');
    // the free adult ICU line of the last hours ends where the forecast starts
    const endMs = await chart.locator('.trend-line').getAttribute('data-end-ms');
    assert.ok(Number(endMs) > Date.now() - 2 * HOUR, `the line ends at ${endMs}`);
    assert.equal(await chart.locator('.trend-forecast').getAttribute('data-start-ms'), endMs);
    assert.equal(await chart.locator('.trend-forecast').getAttribute('data-start-v'),
      await chart.locator('.trend-line').getAttribute('data-end-v'));
    // the forecast lies to the right of the history
    const [hist, fc] = [await chart.locator('.trend-line').boundingBox(), await chart.locator('.trend-forecast').boundingBox()];
    assert.ok(fc.x + fc.width > hist.x + hist.width, `history ${JSON.stringify(hist)}, forecast ${JSON.stringify(fc)}`);
    await screenshot(page, 'outlook-wall.png');
    await s.noErrors();
  });
});
