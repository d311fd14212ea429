'use strict';
// The wall display (/wall) in real Chromium against the real stack: its
// totals against the server's summary, a feed line reaching it within a
// second, stale marking, a flat DOM (and JS heap) across many events, the
// banner when the server goes and the resume when it is back, and
// screenshots at 1920x1080 and 3840x2160.

const { describe, before } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { waitFor, notYet, isoNow } = require('../lib/stack.js');
const { rng } = require('./demo_data.js');
const {
  Session, screenshot, nodeCount, contrastProblems, clockFrames, latency, LATE_MS,
} = require('./pages.js');

const viInt = (n) => new Intl.NumberFormat('vi-VN').format(n);
const squash = (x) => x.replace(/\s/g, '');

describe('wall display', { timeout: 400000 }, () => {
  const s = new Session({ history: true });
  let page;
  let stack;
  let rec;
  let feed;
  before(() => {
    ({ page, stack, rec, feed } = s);
  });
  const kpi = (key) => page.locator(`#w-kpi-${key}`);
  // Cards whose content is cut off (more than a pixel hidden by overflow)
  const clipped = () => page.$$eval('.w-card, .w-kpi', (cards) => cards
    .filter((c) => c.scrollHeight > c.clientHeight + 1 || c.scrollWidth > c.clientWidth + 1)
    .map((c) => `${c.id || c.className} ${c.scrollHeight}>${c.clientHeight}`));

  // Waits until the wall has applied everything up to `offset`.
  async function caughtUp(offset) {
    await waitFor(async () => Number(await page.locator('#wall').getAttribute('data-offset')) >= offset,
      { timeout: 5000, interval: 10, what: `wall at offset ${offset}` });
  }

  s.step('loads with no console errors or CSP violations, dark, live, in Hanoi time', async () => {
    // the server loads the stored history a moment after it is ready
    await waitFor(async () => (await stack.get('/api/v1/history?series=city&hours=24')).json.points.length > 0,
      { what: 'the server to load the history' });
    const resp = await page.goto(s.url('/wall'));
    assert.equal(resp.status(), 200);
    assert.match(resp.headers()['content-security-policy'], /script-src 'self'/);
    await waitFor(async () => (await page.locator('#w-conn').getAttribute('data-state')) === 'live', { what: 'live' });
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'vi');
    assert.equal(await page.locator('#w-conn').innerText(), 'Trực tuyến');
    assert.equal(await page.locator('#wall-banner').isVisible(), false);
    // dark: light text on a dark ground
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, 'rgb(11, 18, 32)');
    // the clock reads Hanoi time although the browser is in Berlin
    // (the minute from 5 s before the read to after it: the clock redraws
    // each second, and the minute may turn in between)
    const hhmm = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'Asia/Ho_Chi_Minh' });
    const before = hhmm.format(Date.now() - 5000);
    const clock = await page.locator('#w-clock').textContent();
    const after = hhmm.format(Date.now());
    assert.ok([before, after].includes(clock.slice(0, 5)), `${clock} between ${before} and ${after}`);
    await clockFrames(page, 2); // the page has moved on: late errors have surfaced
    await s.noErrors();
  });

  s.step('shows the city totals the server computes, and a feed line (within 1 s: reported)', async (t) => {
    const { offset } = await s.sendDemo();
    await caughtUp(offset);
    const compare = async () => {
      const s = (await stack.get('/api/v1/summary')).json;
      const icu = s.bed_types.icu_adult;
      const got = {
        icu: squash(await kpi('icu').locator('.w-kpi-main').innerText()),
        free: await kpi('free').locator('.w-kpi-value').textContent(),
        occ: await kpi('occupancy').locator('.w-kpi-value').textContent(),
        l4: await page.locator('.w-lvl-4 .w-lvl-count').textContent(),
        l3: await page.locator('.w-lvl-3 .w-lvl-count').textContent(),
        ms: squash(await page.locator('#w-beds tr[data-bed="medical_surgical"]').innerText()),
      };
      const ms = s.bed_types.medical_surgical;
      const want = {
        icu: `${viInt(icu.available)}/${viInt(icu.staffed)}`,
        free: viInt(s.city.available),
        // the server rounds to 0.1, the wall floors the exact figure
        occ: [`${Math.floor(s.city.occupancy_pct)}%`, `${Math.floor(s.city.occupancy_pct - 0.05)}%`].includes(got.occ) ? got.occ : `${Math.floor(s.city.occupancy_pct)}%`,
        l4: viInt(s.levels['4']),
        l3: viInt(s.levels['3']),
        ms: `Nộikhoa–ngoạikhoa${viInt(ms.available)}${ms.overflow ? `+${viInt(ms.overflow)}` : ''}${viInt(ms.staffed)}${Math.floor((100 * ms.occupied) / ms.staffed)}%`,
      };
      return JSON.stringify(got) === JSON.stringify(want) || `${JSON.stringify(got)} vs ${JSON.stringify(want)}`;
    };
    await waitFor(async () => (await compare()) === true, { timeout: 3000, what: 'wall totals = summary' }).catch(async (e) => {
      assert.fail(`${e.message}\n${await compare()}`);
    });
    // diversions listed with their reason and expiry
    const rest = (await stack.get('/api/v1/hospitals')).json;
    const div = rest.filter((h) => h.freshness !== 'never' && (h.ed.effective === 'diversion' || h.ed.effective === 'closed'));
    const shown = await page.$$eval('#w-diversions li.w-div:not([hidden])', (lis) => lis.map((li) => li.dataset.id));
    assert.equal(shown.length, Math.min(div.length, 6));
    const byId = new Map(div.map((h) => [h.id, h]));
    for (const id of shown) assert.ok(byId.has(id), `${id} diverting or closed`);
    // closed first, then the soonest to end
    const order = shown.map((id) => byId.get(id));
    for (let i = 1; i < order.length; i++) {
      const a = order[i - 1];
      const b = order[i];
      assert.ok(a.ed.effective === 'closed' || b.ed.effective === 'diversion', `closed before diversion: ${shown}`);
      if (a.ed.effective === b.ed.effective) assert.ok(Date.parse(a.ed.until) <= Date.parse(b.ed.until), `soonest first: ${shown}`);
    }
    const more = div.length - shown.length;
    if (more > 0) assert.match(await page.locator('#w-diversions .w-more').textContent(), new RegExp(`và ${more} bệnh viện khác`));
    assert.match(await page.locator('.w-diversions .w-h').textContent(), new RegExp(`\\(${div.length}\\)`));

    // a line at the collector reaches the totals within a second (timed
    // from the send to the wall showing a new figure; then the figure is
    // checked against the server's)
    const icuShown = async () => squash(await kpi('icu').locator('.w-kpi-main').innerText());
    const shownBefore = await icuShown();
    const t0 = Date.now();
    await s.send(s.beds('bach-mai', isoNow(), { beds: { icu_adult: { staffed: 75, occupied: 60 } }, ed: { status: 'diversion', reason: 'Hết máy thở', until: isoNow(3600e3) } }));
    await waitFor(async () => (await icuShown()) !== shownBefore && /Bệnh viện Bạch Mai/.test(await page.locator('#w-diversions').innerText()),
      { timeout: LATE_MS, interval: 10, what: 'ICU total and the diversion on the wall' });
    latency(t, 'feed line to the wall', Date.now() - t0, 1000);
    const after = (await stack.get('/api/v1/summary')).json.bed_types.icu_adult;
    assert.equal(await icuShown(), `${viInt(after.available)}/${viInt(after.staffed)}`);
    assert.match(await page.locator('#w-diversions li[data-id="bach-mai"]').innerText(), /Hết máy thở/);
    assert.match(await page.locator('#w-diversions li[data-id="bach-mai"]').innerText(), /đến \d\d:\d\d/);
    // ambulances by status
    const amb = (await stack.get('/api/v1/summary')).json.ambulances;
    const counts = await page.$$eval('#w-amb li', (lis) => Object.fromEntries(lis.map((li) => [li.dataset.status, li.querySelector('.w-amb-count').textContent])));
    const want = {};
    for (const a of (await stack.get('/api/v1/ambulances')).json) want[a.status] = (want[a.status] || 0) + 1;
    for (const [st, n] of Object.entries(counts)) assert.equal(n, viInt(want[st] || 0), `ambulances ${st} (${JSON.stringify(amb)})`);
  });

  s.step('draws the 24 h trends of city occupancy and free adult ICU beds, gaps as gaps', async () => {
    const hist = (await stack.get('/api/v1/history?series=city&hours=24')).json;
    const ts = hist.points.map((p) => Date.parse(p.t));
    const gaps = ts.slice(1).filter((t, i) => t - ts[i] > 1.5 * hist.interval_s * 1000).length;
    assert.ok(gaps >= 1, `the seeded history has its gap: ${gaps} gaps`);
    for (const key of ['occupancy', 'icu']) {
      const chart = page.locator(`#w-trend-${key} svg.trend`);
      await waitFor(async () => (await chart.locator('.trend-line').getAttribute('visibility')) === 'visible', { what: `${key} line` });
      const segments = ((await chart.locator('.trend-line').getAttribute('d')).match(/M/g) || []).length;
      assert.equal(segments, gaps + 1, `${key}: ${gaps} gaps, ${segments} segments`);
      assert.equal(await chart.locator('.trend-msg').textContent(), '');
      assert.match(await chart.getAttribute('aria-label'), /thấp nhất .*cao nhất/);
    }
    // the y labels are the city figures' range: occupancy in %, ICU in beds
    const occLabels = await page.$$eval('#w-trend-occupancy .trend-ylabel', (ts) => ts.filter((t) => t.getAttribute('visibility') === 'visible').map((t) => t.textContent));
    assert.ok(occLabels.every((l) => /^\d+%$/.test(l)), occLabels.join(','));
  });

  s.step('marks a hospital with an old report as stale', async () => {
    // a level-4 hospital whose report is older than twice its interval
    const h = (await stack.get('/api/v1/hospitals/nhi-trung-uong')).json;
    const r = await s.send(s.beds(h.id, Session.ago(h, 2, 150), { beds: { pediatrics: { staffed: 100, occupied: 140 } }, ed: { status: 'closed', reason: 'Mất điện', until: isoNow(3600e3) } }));
    await caughtUp(r.offset);
    const li = page.locator('#w-diversions li[data-id="nhi-trung-uong"]');
    await waitFor(async () => (await li.count()) === 1 && (await li.getAttribute('data-fresh')) === 'stale', { timeout: 5000, what: 'stale diversion' });
    assert.match(await li.innerText(), /! Quá hạn/);
    const names = page.locator('#w-names-4 li[data-fresh="stale"]');
    assert.ok((await names.count()) >= 1, `stale level-4 names: ${await page.locator('#w-names-4').innerText()}`);
    assert.match(await page.locator('#w-names-4').innerText(), /Bệnh viện Nhi Trung ương\s*! Quá hạn/);
    const summary = (await stack.get('/api/v1/summary')).json;
    assert.match(await kpi('reporting').locator('.w-kpi-sub').textContent(), new RegExp(`^${viInt(summary.freshness.stale)} quá hạn`));
  });

  s.step('keeps a flat DOM and JS heap across 500 events', async () => {
    const cdp = await page.context().newCDPSession(page);
    const heap = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      return (await cdp.send('Runtime.getHeapUsage')).usedSize;
    };
    const hospitals = (await stack.get('/api/v1/hospitals')).json;
    const fleet = (await stack.get('/api/v1/ambulances')).json;
    const r = rng(500);
    const burst = (n) => {
      const lines = [];
      for (let i = 0; i < n; i++) {
        if (i % 3 === 2) {
          const a = fleet[Math.floor(r() * fleet.length)];
          const statuses = ['dispatched', 'on_scene', 'transporting', 'available_radio', 'available_station', 'at_hospital'];
          lines.push({ type: 'ambulance', source: 'avl-115', seq: s.seq++, at: isoNow(), id: a.id, status: statuses[Math.floor(r() * statuses.length)],
            lat: 21 + r() * 0.1, lon: 105.78 + r() * 0.1, heading: Math.floor(r() * 360), speed: Math.floor(r() * 60) });
        } else {
          const h = hospitals[Math.floor(r() * hospitals.length)];
          const b = {};
          for (const [type, x] of Object.entries(h.beds)) if (x.staffed) b[type] = { occupied: Math.floor(x.staffed * (0.6 + r() * 0.6)) };
          const e = r();
          const ed = e < 0.2 ? { status: 'diversion', reason: `Lý do ${i}`, until: isoNow(3600e3) } : e < 0.3 ? { status: 'closed', reason: 'Sự cố', until: isoNow(1800e3) } : { status: 'normal' };
          lines.push({ type: 'beds', source: `burst-${h.id}`, seq: s.seq++, at: isoNow(), hospital: h.id, beds: b, ed });
        }
      }
      return lines;
    };
    // one warm-up burst: lists fill their slots, the heap settles
    let replies = await feed.sendBatch(burst(100));
    await caughtUp(replies[replies.length - 1].offset);
    await clockFrames(page, 1); // counted after a clock frame, like the second count
    const nodes0 = await nodeCount(page);
    const heap0 = await heap();
    replies = await feed.sendBatch(burst(500));
    for (const x of replies) assert.equal(x.ok, true, JSON.stringify(x));
    await caughtUp(replies[replies.length - 1].offset);
    await clockFrames(page, 2); // a clock tick or two as well
    const nodes1 = await nodeCount(page);
    const heap1 = await heap();
    assert.equal(nodes1, nodes0, `DOM nodes before ${nodes0}, after ${nodes1}`);
    assert.ok(heap1 - heap0 < 1.5e6, `JS heap grew by ${heap1 - heap0} bytes`);
    assert.deepEqual(rec.errors, []);
  });

  s.step('screenshots: wall-1080.png (1920x1080) and wall-2160.png (3840x2160), text scaled with the screen', async () => {
    const f1 = await screenshot(page, 'wall-1080.png');
    assert.deepEqual(await contrastProblems(page), [], 'WCAG AA contrast on the dark wall');
    const size1080 = await page.locator('#w-clock').evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    assert.deepEqual(await clipped(), [], 'no card cut off at 1920x1080');
    // nothing overflows the screen
    const over = await page.evaluate(() => document.documentElement.scrollHeight > window.innerHeight + 1 || document.documentElement.scrollWidth > window.innerWidth + 1);
    assert.equal(over, false, 'the wall fits 1920x1080 without scrolling');
    await page.setViewportSize({ width: 3840, height: 2160 });
    const size2160 = await waitFor(async () => {
      const px = await page.locator('#w-clock').evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
      return Math.abs(px / size1080 - 2) < 0.05 ? px : notYet(`clock ${size1080}px at 1080p, ${px}px at 2160p`);
    }, { what: 'text scaled with the screen' });
    const names = await page.locator('.w-names li').first().evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    assert.ok(names >= 36, `hospital names ${names}px at 2160p`);
    assert.deepEqual(await clipped(), [], 'no card cut off at 3840x2160');
    const f2 = await screenshot(page, 'wall-2160.png');
    assert.ok(fs.statSync(f1).size > 20000 && fs.statSync(f2).size > 40000, `${fs.statSync(f1).size} and ${fs.statSync(f2).size} bytes`);
    await page.setViewportSize({ width: 1920, height: 1080 });
    await s.noErrors();
  });

  s.step('shows a full-width banner when the server crashes, resumes without reloading when it is back', async () => {
    await s.outage({
      whileDown: async () => {
        await waitFor(async () => page.locator('#wall-banner').isVisible(), { timeout: 6000, what: 'the banner' });
        assert.match(await page.locator('#wall-banner').innerText(), /MẤT KẾT NỐI VỚI MÁY CHỦ/);
        const bw = (await page.locator('#wall-banner').boundingBox()).width;
        assert.ok(bw >= 1919, `full width (${bw})`);
        assert.notEqual(await page.locator('#w-conn').getAttribute('data-state'), 'live');
        // a change while the server is away
        await s.send(s.beds('bach-mai', isoNow(), { beds: { icu_adult: { occupied: 70 } } }));
        assert.deepEqual(await clipped(), [], 'no card cut off under the banner');
        await screenshot(page, 'wall-offline.png');
      },
      live: async () => (await page.locator('#w-conn').getAttribute('data-state')) === 'live',
    });
    await waitFor(async () => !(await page.locator('#wall-banner').isVisible()), { timeout: 5000, what: 'banner gone' });
    const icu = (await stack.get('/api/v1/summary')).json.bed_types.icu_adult;
    await waitFor(async () => squash(await kpi('icu').locator('.w-kpi-main').innerText()) === `${viInt(icu.available)}/${viInt(icu.staffed)}`,
      { timeout: 5000, what: 'the change made while the server was down' });
    await s.noErrors();
  });
});
