'use strict';
// The dispatcher's tools on the dispatcher view (/) in real Chromium against
// the real stack, with a day of trend history seeded in Redis: the map with
// no tile server (plain background, markers, labels, stations, a scale),
// the filters and the sorts of the list (the map dims what the list leaves
// out), the patient pin and distance order, the detail panel (beds by type,
// ED status, contacts, sister hospital, source, the 24 h trend from
// /api/v1/history), keyboard use of the list and the panel, WCAG AA
// contrast, the screenshot, and the link to /account. (live_page.test.js covers the live feed on
// this page.)
//
// The steps share one page and run in order.

const { describe, before } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { waitFor, notYet } = require('../lib/stack.js');
const {
  Session, screenshot, distanceKm, contrastProblems, bareMapPoint, mapStill, mapSpotNear, pinByClick, shortDateTimes,
} = require('./pages.js');

const viInt = (n) => new Intl.NumberFormat('vi-VN').format(n);

describe('dispatcher tools', { timeout: 400000 }, () => {
  const s = new Session({ history: true });
  let page;
  let stack;
  let hospitals; // REST registry after the demo burst
  before(() => {
    ({ page, stack } = s);
  });

  const row = (id) => page.locator(`#hospitals-table tr[data-id="${id}"]`);
  const marker = (id) => page.locator(`#map .hm[data-id="${id}"]`);
  const visibleIds = () => page.$$eval('#hospitals-table tbody tr[data-id]:not([hidden])', (rows) => rows.map((r) => r.dataset.id));

  async function openDetail(id) {
    await row(id).click();
    await waitFor(async () => (await page.locator('#detail').getAttribute('data-id')) === id
      && page.locator('#detail').isVisible(), { timeout: 5000, what: `detail of ${id}` });
  }

  s.step('loads with no tile server: plain background, 88 markers, district names, stations, a scale', async () => {
    const config = (await stack.get('/api/v1/config')).json;
    assert.equal(config.tile_url, '', 'the test stack configures no tile server');
    const resp = await page.goto(s.url('/'));
    assert.equal(resp.status(), 200);
    await waitFor(async () => (await page.locator('#map .hm[data-id]').count()) === 88, { what: '88 hospital markers' });
    await waitFor(async () => (await page.locator('#conn').getAttribute('data-state')) === 'live', { what: 'live' });
    assert.equal(await page.locator('#map .leaflet-tile').count(), 0);
    assert.match(await page.locator('#map .leaflet-control-scale-line').innerText(), /^\d+ k?m$/);
    assert.equal(await page.locator('#map .leaflet-control-zoom-in').getAttribute('title'), 'Phóng to');
    assert.equal(await page.locator('#map .st[data-id]').count(), 8, 'the eight 115 stations');
    const districts = await page.$$eval('#map .district-label span', (ss) => ss.map((x) => x.textContent));
    assert.ok(districts.includes('Đống Đa') && districts.includes('Hoàn Kiếm'), districts.join(','));
    // the markers' labels are text, readable at street zoom: zoom in with
    // the control, a level at a time, each zoom seen to the end
    const zooms = [await mapStill(page)];
    while (!(await page.locator('#map.zoom-labels').count())) {
      assert.ok(zooms.length <= 8, `no labels after zooming in: zooms ${zooms.join(' → ')}`);
      await page.locator('#map .leaflet-control-zoom-in').click();
      const z = await waitFor(async () => {
        const now = await mapStill(page);
        return now > zooms.at(-1) ? now : notYet({ zoom: now, before: zooms.at(-1) });
      }, { timeout: 10000, what: 'the map to zoom in' });
      zooms.push(z);
    }
    const labelled = await page.$$eval('#map .hm-label', (ls) => ls.filter((l) => l.checkVisibility() && l.textContent).length);
    assert.ok(labelled > 0, `${labelled} hospital names on the map`);
    await page.locator('#map-fit').click();
    await s.sendDemo();
    hospitals = (await stack.get('/api/v1/hospitals')).json;
    await s.noErrors();
  });

  s.step('detail panel: beds by type, ED status, contacts, sister hospital, source, 24 h trend', async () => {
    // a diverting hospital of the demo: every bed type as the server has it
    const h = hospitals.find((x) => x.ed.effective === 'diversion' && x.ed.reason && x.freshness === 'fresh');
    assert.ok(h, `the demo has a fresh diversion: ${JSON.stringify(hospitals.filter((x) => x.ed.effective === 'diversion').map((x) => [x.id, x.freshness, x.ed.reason]))}`);
    await openDetail(h.id);
    assert.equal(await page.locator('#detail-title').textContent(), h.name.vi);
    const shown = await page.$$eval('#detail-beds tbody tr', (trs) => trs.map((tr) => [tr.dataset.bed,
      [...tr.querySelectorAll('td')].map((td) => td.textContent.replace(/\s/g, ''))]));
    const want = Object.entries(h.beds).filter(([, b]) => b.staffed !== null || b.occupied !== null).map(([k, b]) => [k, [
      b.available === null ? '–' : viInt(b.available), b.staffed === null ? '–' : viInt(b.staffed),
      (b.occupied === null ? '–' : viInt(b.occupied)) + (b.overflow > 0 ? `+${viInt(b.overflow)}` : ''),
      b.surge24 === null ? '–' : `+${viInt(b.surge24)}`]]);
    assert.deepEqual(shown, want);
    assert.equal(await page.locator('#detail-ed').textContent(), 'Chuyển hướng');
    const shownFrom = Date.now() - 5000; // the panel redraws each second
    const facts = await page.locator('#detail .detail-facts').first().innerText();
    assert.ok(facts.includes(h.ed.reason), `the reason "${h.ed.reason}" in: ${facts}`);
    // the expiry in Hanoi time, with its date when that is not today's
    // (a diversion until 1 to 4 h from now ends tomorrow from 21:00)
    const untils = shortDateTimes([Date.parse(h.ed.until)], [shownFrom, Date.now()]);
    assert.ok(untils.some((u) => facts.includes(`Chuyển hướng đến ${u} (sau `)), `the expiry (${untils.join(' or ')}) in: ${facts}`);
    assert.match(facts, /\(sau \d+ (giờ|phút) nữa\)/, 'the time left');
    assert.equal(await page.locator('#detail-source').textContent(), h.source);
    assert.equal(await page.locator('#detail-updated').getAttribute('datetime'), new Date(h.at).toISOString());

    const withPhone = hospitals.find((x) => x.phone);
    await openDetail(withPhone.id);
    assert.equal(await page.locator('#detail-phone').getAttribute('href'), `tel:${withPhone.phone.replace(/[^0-9+]/g, '')}`);
    assert.equal(await page.locator('#detail-phone').textContent(), withPhone.phone);
    const sisterOf = hospitals.find((x) => x.sister);
    await openDetail(sisterOf.id);
    const sister = hospitals.find((x) => x.id === sisterOf.sister);
    await page.locator('#detail-sister button').click();
    await waitFor(async () => (await page.locator('#detail').getAttribute('data-id')) === sister.id, { timeout: 5000, what: 'sister selected' });
    assert.equal(await page.locator('#detail-title').textContent(), sister.name.vi);
    assert.match(await marker(sister.id).getAttribute('class'), /is-selected/);
    assert.equal(await row(sister.id).getAttribute('aria-current'), 'true');
    // the regional hospital lists the district hospitals it is paired with
    const partners = await page.$$eval('#detail .partners button', (bs) => bs.map((b) => b.dataset.id));
    assert.deepEqual(partners.sort(), hospitals.filter((x) => x.sister === sister.id).map((x) => x.id).sort());
    // the trend follows what the server answers: a line, "no history yet", or an error
    const hist = await stack.get(`/api/v1/history?series=${sister.id}&hours=24`);
    const chart = page.locator('#detail .detail-trend svg.trend');
    if (hist.status === 200) {
      const known = hist.json.points.filter((p) => typeof p.occupancy_pct === 'number');
      if (known.length === 0) {
        await waitFor(async () => (await chart.locator('.trend-msg').textContent()) === 'Chưa có lịch sử', { what: 'no history yet' });
      } else {
        await waitFor(async () => (await chart.locator('.trend-line').getAttribute('d')).startsWith('M')
          && (await chart.locator('.trend-line').getAttribute('visibility')) === 'visible', { what: 'trend line' });
        assert.equal(await chart.locator('.trend-msg').textContent(), '');
        // a gap in the samples (the servers were down) is a gap in the line
        const ts = known.map((p) => Date.parse(p.t));
        const gaps = ts.slice(1).filter((t, i) => t - ts[i] > 1.5 * hist.json.interval_s * 1000).length;
        const segments = ((await chart.locator('.trend-line').getAttribute('d')).match(/M/g) || []).length;
        assert.equal(segments, gaps + 1, `${gaps} gaps, ${segments} line segments`);
        assert.ok(gaps >= 1, `the seeded history has its gap: ${gaps} gaps`);
        assert.match(await page.locator('#detail .detail-trend .trend-note').textContent(), /thấp nhất \d+%, cao nhất \d+%/);
      }
    } else {
      await waitFor(async () => /Không tải được lịch sử|Máy chủ không có lịch sử/.test(await chart.locator('.trend-msg').textContent()),
        { what: `history error shown (server answered ${hist.status})` });
    }
  });

  s.step('filters the list exactly as the REST data says (bed type free, ED open, tier, district, specialty)', async () => {
    await page.keyboard.press('Escape');
    const rest = (await stack.get('/api/v1/hospitals')).json;
    const ids = (hs) => hs.map((h) => h.id).sort();
    const check = async (want, what) => {
      await waitFor(async () => JSON.stringify((await visibleIds()).sort()) === JSON.stringify(want), { timeout: 5000, what });
      assert.equal(await page.locator('#hospitals-count').textContent(), `${want.length}/88 bệnh viện`);
      // the map dims what the list leaves out
      const out = await page.$$eval('#map .hm.is-out', (ms) => ms.map((m) => m.dataset.id));
      assert.equal(out.length, 88 - want.length, `${what}: dimmed markers`);
    };
    await page.selectOption('#f-bed', 'icu_adult');
    let want = rest.filter((h) => h.beds.icu_adult && h.beds.icu_adult.available > 0);
    assert.ok(want.length > 0 && want.length < 88, `${want.length} hospitals with adult ICU free`);
    await check(ids(want), 'adult ICU free');
    // the bed column follows the chosen type
    assert.match(await page.locator('#hospitals-table thead th[data-col="bed"]').innerText(), /HSTC NL/);
    await page.check('#f-ed-open');
    want = want.filter((h) => h.ed.effective === 'normal' || h.ed.effective === 'advisory');
    await check(ids(want), 'adult ICU free and ED open');
    await page.selectOption('#f-tier', 'central');
    want = want.filter((h) => h.tier === 'central');
    await check(ids(want), '... and central');
    await page.click('#f-reset');
    await check(ids(rest), 'filters cleared');
    await page.selectOption('#f-district', 'dong-da');
    await check(ids(rest.filter((h) => h.district === 'dong-da')), 'district Dong Da');
    await page.selectOption('#f-district', '');
    await page.selectOption('#f-spec', 'stroke');
    await check(ids(rest.filter((h) => h.specialties.includes('stroke'))), 'specialty stroke');
    // sort by free beds of the chosen type
    await page.selectOption('#f-bed', 'medical_surgical');
    await page.selectOption('#f-sort', 'available');
    want = rest.filter((h) => h.specialties.includes('stroke') && h.beds.medical_surgical && h.beds.medical_surgical.available > 0);
    await check(ids(want), 'stroke with medical/surgical free');
    const shown = await page.$$eval('#hospitals-table tbody tr[data-id]:not([hidden]) td.c-bed', (tds) => tds.map((td) => Number(td.dataset.available)));
    for (let i = 1; i < shown.length; i++) assert.ok(shown[i] <= shown[i - 1], `sorted by free beds: ${shown.join(',')}`);
    await page.click('#f-reset');
    await page.selectOption('#f-sort', 'level');
    await check(ids(rest), 'filters cleared again');
    await s.noErrors();
  });

  s.step('sorts by distance from a clicked point of the map', async () => {
    const spot = await bareMapPoint(page, 0.6, 0.65);
    assert.ok(spot, 'a bare point on the map');
    await page.mouse.click(spot.px, spot.py);
    await waitFor(async () => (await page.locator('#pin-info').getAttribute('data-lat')) !== null, { timeout: 5000, what: 'pin set' });
    assert.equal(await page.locator('#patient-pin').count(), 1);
    assert.equal(await page.locator('#f-sort').inputValue(), 'distance');
    const lat = Number(await page.locator('#pin-info').getAttribute('data-lat'));
    const lon = Number(await page.locator('#pin-info').getAttribute('data-lon'));
    assert.ok(lat > 20.5 && lat < 21.5 && lon > 105.3 && lon < 106.2, `pin in Hanoi: ${lat},${lon}`);
    const rest = (await stack.get('/api/v1/hospitals')).json;
    const want = rest.map((h) => ({ id: h.id, d: distanceKm(lat, lon, h.lat, h.lon) })).sort((a, b) => a.d - b.d);
    await waitFor(async () => JSON.stringify(await visibleIds()) === JSON.stringify(want.map((x) => x.id)),
      { timeout: 5000, what: 'rows in distance order' });
    const kms = await page.$$eval('#hospitals-table tbody tr[data-id] td.c-dist', (tds) => tds.map((td) => td.textContent));
    const vi1 = (n) => `${new Intl.NumberFormat('vi-VN', { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(n)} km`;
    assert.equal(kms[0], vi1(want[0].d));
    assert.equal(kms[87], vi1(want[87].d));
    assert.equal(await page.locator('#hospitals-table thead th[data-col="distance"]').innerText(), 'Cách');
    // removing the pin goes back to the pressure-level order
    await page.locator('#pin-clear').click();
    await waitFor(async () => (await page.locator('#patient-pin').count()) === 0, { what: 'pin removed' });
    assert.equal(await page.locator('#f-sort').inputValue(), 'level');
    await s.noErrors();
  });

  s.step('keyboard: Tab into the list, arrows move, Enter opens the detail, Escape closes it', async () => {
    await page.focus('#f-sort');
    let onRow = false;
    for (let i = 0; i < 8 && !onRow; i++) {
      await page.keyboard.press('Tab');
      onRow = await page.evaluate(() => !!document.activeElement.closest('#hospitals-table tbody tr[data-id]'));
    }
    assert.ok(onRow, `Tab reaches the list (focus on ${await page.evaluate(() => document.activeElement.outerHTML.slice(0, 120))})`);
    const ids = await visibleIds();
    const focused = () => page.evaluate(() => document.activeElement.dataset.id || null);
    // one tab stop in the list: the row last used (the first row at the start)
    assert.equal(await page.locator('#hospitals-table tbody tr[tabindex="0"]').count(), 1);
    assert.equal(await focused(), await page.locator('#hospitals-table tbody tr[tabindex="0"]').getAttribute('data-id'));
    await page.keyboard.press('Home');
    assert.equal(await focused(), ids[0]);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.equal(outline, 'solid', 'visible focus');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(), ids[2]);
    await page.keyboard.press('ArrowUp');
    assert.equal(await focused(), ids[1]);
    await page.keyboard.press('Enter');
    await waitFor(async () => (await page.locator('#detail').getAttribute('data-id')) === ids[1] && await page.locator('#detail').isVisible(),
      { timeout: 5000, what: 'detail opened by Enter' });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'detail-title', 'focus moves to the detail');
    assert.match(await marker(ids[1]).getAttribute('class'), /is-selected/);
    await page.keyboard.press('Escape');
    await waitFor(async () => !(await page.locator('#detail').isVisible()), { timeout: 5000, what: 'detail closed by Escape' });
    assert.equal(await focused(), ids[1], 'focus back on the row');
    // in the panel, Tab reaches its buttons; the close button closes it
    await page.keyboard.press('Enter');
    await waitFor(async () => page.locator('#detail').isVisible(), { timeout: 5000, what: 'detail opened again' });
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'detail-close');
    assert.equal(await page.locator('#detail-close').getAttribute('aria-label'), 'Đóng chi tiết (Esc)');
    await page.keyboard.press('Enter');
    await waitFor(async () => !(await page.locator('#detail').isVisible()), { timeout: 5000, what: 'detail closed by its button' });
    assert.equal(await focused(), ids[1], 'focus back on the row again');
    await page.keyboard.press('End');
    assert.equal(await focused(), ids[ids.length - 1]);
    await page.keyboard.press('Home');
    assert.equal(await focused(), ids[0]);
  });

  s.step('has WCAG AA contrast for every visible text (list, detail, legend, ambulances, banner-free)', async () => {
    await openDetail((await visibleIds())[0]);
    await page.mouse.move(5, 5);
    await waitFor(async () => (await page.locator('#hospitals-table tr.flash-a, #hospitals-table tr.flash-b').count()) === 0,
      { what: 'highlights to end' });
    // markers dimmed because the list filters them out are decoration, not text to read
    const skip = ['.hm.is-out'];
    const problems = await contrastProblems(page, { skip });
    await page.locator('#tab-ambulances').click();
    problems.push(...await contrastProblems(page, { skip }));
    await page.locator('#tab-hospitals').click();
    assert.deepEqual(problems, []);
  });

  s.step('screenshot: dispatcher.png (1920x1080, a patient pin, the nearest hospital open)', async () => {
    // the detail open first (the map keeps its size), the map at street
    // zoom around Bach Mai and a click on bare map beside it (the patient
    // pin), the nearest hospital open
    await openDetail((await visibleIds())[0]);
    const bm = hospitals.find((h) => h.id === 'bach-mai');
    await pinByClick(page, await mapSpotNear(page, bm.lat, bm.lon, 14));
    await waitFor(async () => (await page.locator('#f-sort').inputValue()) === 'distance', { what: 'sorted by distance' });
    const first = (await visibleIds())[0];
    await openDetail(first);
    await page.mouse.move(5, 5);
    const flashing = () => page.locator('#hospitals-table tr.flash-a, #hospitals-table tr.flash-b').count();
    await waitFor(async () => (await flashing()) === 0, { what: 'highlights to end' });
    // opening the detail may pan the map to the hospital
    await mapStill(page);
    const file = await screenshot(page, 'dispatcher.png');
    assert.ok(fs.statSync(file).size > 20000, `${file}: ${fs.statSync(file).size} bytes`);
    await page.locator('#pin-clear').click();
    await s.noErrors();
  });

  s.step('the top bar links to the notifications page (/account), in the page\'s language', async () => {
    const link = page.locator('#account-link');
    assert.equal(await link.getAttribute('href'), '/account');
    const lang = await page.evaluate(() => document.documentElement.lang);
    assert.equal(await link.innerText(), lang === 'vi' ? 'Thông báo' : 'Notifications');
    // every address the page goes through (the sign-in page takes its
    // fragment off the address bar at once, so the last one is not enough)
    const seen = [];
    const onNav = (f) => { if (f === page.mainFrame()) seen.push(f.url()); };
    page.on('framenavigated', onNav);
    await link.click();
    // this stack lets anyone read as a dispatcher: /account asks who is
    // signed in and, nobody being, sends the browser on to sign in first,
    // coming back to /account afterwards
    await waitFor(async () => new URL(page.url()).pathname === '/signin', { what: 'on /signin' });
    page.off('framenavigated', onNav);
    const paths = seen.map((u) => { const x = new URL(u); return x.pathname + decodeURIComponent(x.hash); });
    assert.ok(paths.includes('/account'), `went through /account: ${paths.join(' ')}`);
    assert.ok(paths.includes('/signin#next=/account'), `sent on to sign in, back to /account after: ${paths.join(' ')}`);
    await s.noErrors();
  });
});
