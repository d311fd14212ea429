'use strict';
// The live feed on the dispatcher view (/) in real Chromium against the real
// stack (tests/lib/stack.js): feed lines go in at the collector, and we
// watch them come out in the hospital list, on the map markers, in the open
// detail panel, in the ambulance list and in the city totals, with the same
// figures the server computes; old reports marked late or stale; an expired
// diversion read from the clock; and a server crash shown as a banner, then
// resumed without a reload. (dispatcher.test.js covers the tools: filters,
// distance, detail contents, keyboard; wall.test.js the wall display.)
//
// The steps share one page and run in order.

const { describe } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, notYet, isoNow, httpGet } = require('../lib/stack.js');
const { RESERVED } = require('./demo_data.js');
const {
  Session, screenshot, clockFrames, mapStill, latency, LATE_MS,
} = require('./pages.js');

const FMS = { available_station: 2, available_radio: 1, dispatched: 3, on_scene: 4, transporting: 7, at_hospital: 8, out_of_service: 6 };
const viInt = (n) => new Intl.NumberFormat('vi-VN').format(n);
const squash = (s) => s.replace(/\s/g, '');

describe('live feed on the dispatcher view', { timeout: 400000 }, () => {
  const s = new Session();
  const row = (id) => s.page.locator(`#hospitals-table tr[data-id="${id}"]`);
  const cellText = (id, sel) => row(id).locator(sel).textContent();
  const rowAttr = (id, name) => row(id).getAttribute(name);
  const marker = (id) => s.page.locator(`#map .hm[data-id="${id}"]`);
  const ambRow = (id) => s.page.locator(`#ambulances-table tr[data-id="${id}"]`);
  const ambMarker = (id) => s.page.locator(`#map .am[data-id="${id}"]`);
  const connState = () => s.page.locator('#conn').getAttribute('data-state');

  async function openDetail(id) {
    await row(id).click();
    await waitFor(async () => (await s.page.locator('#detail').getAttribute('data-id')) === id
      && s.page.locator('#detail').isVisible(), { timeout: 5000, what: `detail of ${id}` });
  }

  s.step('loads with no console errors or CSP violations: 88 rows, 88 markers, 62 ambulances, live', async () => {
    const { page } = s;
    const resp = await page.goto(s.url('/'));
    assert.equal(resp.status(), 200);
    assert.match(resp.headers()['content-security-policy'], /script-src 'self'/);
    await waitFor(async () => (await page.locator('#hospitals-table tbody tr[data-id]').count()) === 88,
      { timeout: 5000, what: '88 hospital rows' });
    await waitFor(async () => (await page.locator('#map .hm[data-id]').count()) === 88, { what: '88 hospital markers' });
    await waitFor(async () => (await connState()) === 'live', { what: 'live indicator' });
    assert.equal(await page.locator('#conn .conn-text').innerText(), 'Trực tuyến');
    assert.equal(await page.locator('#stale-banner').isVisible(), false);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'vi');
    assert.equal(await page.locator('#ambulances-table tbody tr[data-id]').count(), 62);
    // every ambulance with a position is on the map (the fleet starts without)
    const fleet = (await s.stack.get('/api/v1/ambulances')).json;
    assert.equal(await page.locator('#map .am[data-id]').count(), fleet.filter((a) => a.lat !== null).length);
    await clockFrames(page, 2); // the page has moved on: late errors have surfaced
    await s.noErrors();
    assert.equal(await page.evaluate(() => window.__bpBootCount), 1);
    // no HTML from data: every name is text
    assert.equal(await page.locator('#hospitals-table tbody th.c-name *:not(span)').count(), 0);
  });

  s.step('applies a burst of events in place: list, markers, totals and ambulances match the server', async () => {
    const { page } = s;
    const { lines } = await s.sendDemo();
    let mismatches = [];
    const compare = async () => {
      const rest = (await s.stack.get('/api/v1/hospitals')).json;
      const rows = new Map(await page.$$eval('#hospitals-table tbody tr[data-id]', (trs) => trs.map((tr) => [tr.dataset.id, {
        level: Number(tr.dataset.level), fresh: tr.dataset.fresh, ed: tr.dataset.ed, occ: tr.querySelector('td.c-occ').textContent,
      }])));
      const marks = new Map(await page.$$eval('#map .hm[data-id]', (ms) => ms.map((m) => [m.dataset.id, {
        level: Number(m.dataset.level), fresh: m.dataset.fresh, ed: m.dataset.ed, num: m.querySelector('.hm-num').textContent,
      }])));
      mismatches = [];
      for (const h of rest) {
        const x = rows.get(h.id);
        // the server rounds to 0.1; the page floors (so 94.96 never reads "95%")
        const shownPct = x ? x.occ.replace(/[\s%]/g, '') : null;
        const r = h.occupancy_pct;
        const pctOk = r === null ? shownPct === '–' : [Math.floor(r), Math.floor(r - 0.05)].map(String).includes(shownPct);
        const want = { level: h.level, fresh: h.freshness, ed: h.ed.effective };
        const got = x && { level: x.level, fresh: x.fresh, ed: x.ed };
        if (JSON.stringify(want) !== JSON.stringify(got) || !pctOk) mismatches.push(`${h.id}: row ${JSON.stringify(got)} ${shownPct} server ${JSON.stringify(want)} ${r}`);
        const wantM = Object.assign(want, { num: h.freshness === 'never' ? '–' : String(h.level) });
        if (JSON.stringify(wantM) !== JSON.stringify(marks.get(h.id))) mismatches.push(`${h.id}: marker ${JSON.stringify(marks.get(h.id))} server ${JSON.stringify(wantM)}`);
      }
      return mismatches.length === 0;
    };
    await waitFor(compare, { timeout: 5000, what: 'every row and marker to match the REST figures' })
      .catch(() => assert.fail(`page differs from the server:\n${mismatches.slice(0, 10).join('\n')}`));
    // sorted by pressure level: level never rises going down the list
    const levels = await page.$$eval('#hospitals-table tbody tr[data-id]', (trs) => trs.map((r) => Number(r.dataset.level)));
    for (let i = 1; i < levels.length; i++) assert.ok(levels[i] <= levels[i - 1], `rows sorted by level: ${levels.join(',')}`);
    // the ED shape on the map: a diverting hospital's marker is a diamond with a badge
    const rest = (await s.stack.get('/api/v1/hospitals')).json;
    const div = rest.find((h) => h.ed.effective === 'diversion');
    assert.ok(div, `the demo has a diversion: ${JSON.stringify(rest.map((h) => h.ed.effective))}`);
    assert.match(await marker(div.id).getAttribute('class'), /hm-ed-diversion/);
    assert.equal(await marker(div.id).locator('.hm-badge-ed').isVisible(), true);
    // city totals equal the server's summary
    const summary = (await s.stack.get('/api/v1/summary')).json;
    const icu = summary.bed_types.icu_adult;
    const kpi = squash(await page.locator('[data-kpi="bed:icu_adult"] dd').innerText());
    assert.ok(kpi.startsWith(`${viInt(icu.available)}/${viInt(icu.staffed)}`), `ICU total ${kpi} vs ${icu.available}/${icu.staffed}`);
    assert.equal(await page.locator('[data-kpi="level4"] .kpi-value').innerText(), String(summary.levels['4']));
    // ambulances: status with its FMS digit in the list, the destination's name, the digit and heading on the map
    const moved = lines.filter((l) => l.type === 'ambulance');
    const transporting = moved.find((l) => l.status === 'transporting');
    assert.ok(transporting, `the demo has a transport: ${JSON.stringify(moved.map((l) => l.status))}`);
    assert.match(await ambRow(transporting.id).locator('.a-status').innerText(), /7\s*Đang chở bệnh nhân/);
    const dest = rest.find((h) => h.id === transporting.destination).name.vi;
    const shownDest = await ambRow(transporting.id).locator('.a-dest').textContent();
    assert.ok(shownDest.endsWith(dest), `destination "${shownDest}", want "${dest}"`);
    for (const l of moved.slice(0, 5)) {
      await waitFor(async () => (await ambMarker(l.id).locator('.am-body').textContent()) === String(FMS[l.status]),
        { timeout: 5000, what: `FMS digit of ${l.id}` });
      assert.equal(await ambMarker(l.id).getAttribute('data-status'), l.status);
      assert.match(await ambMarker(l.id).locator('.am-arrow').getAttribute('style'), new RegExp(`rotate\\(${l.heading}deg\\)`));
    }
    await s.noErrors();
  });

  s.step('shows a feed line in the list, the marker and the open detail panel (within 1 s: reported), and announces it', async (t) => {
    const { page } = s;
    await openDetail('bach-mai');
    const reason = 'Hết giường HSTC <img src=x onerror=alert(1)>';
    // the row's highlight lasts 1.6 s: noted when it comes, looked at later
    await page.evaluate(() => {
      const tr = document.querySelector('#hospitals-table tr[data-id="bach-mai"]');
      window.__flashed = false;
      new MutationObserver(() => {
        if (/flash-[ab]/.test(tr.className)) window.__flashed = true;
      }).observe(tr, { attributes: true, attributeFilter: ['class'] });
    });
    const t0 = Date.now();
    await s.send(s.beds('bach-mai', isoNow(), {
      beds: { icu_adult: { staffed: 75, occupied: 70 } },
      ed: { status: 'diversion', reason, until: isoNow(2 * 3600e3), waiting: 12 },
    }));
    await waitFor(async () => squash(await cellText('bach-mai', 'td.c-bed')) === '5/75'
      && (await cellText('bach-mai', 'td.c-ed')).includes(reason)
      && (await marker('bach-mai').getAttribute('data-ed')) === 'diversion'
      && (await page.locator('#detail-ed').textContent()) === 'Chuyển hướng'
      && squash(await page.locator('#detail-beds tr[data-bed="icu_adult"]').innerText()).startsWith('Hồisứctíchcựcngườilớn57570'),
    { timeout: LATE_MS, interval: 10, what: 'list, marker and detail to update' });
    latency(t, 'feed line to list, marker and detail', Date.now() - t0, 1000);
    assert.equal(await page.evaluate(() => window.__flashed), true, 'the changed row is highlighted');
    assert.match(await cellText('bach-mai', 'td.c-ed'), /12 chờ/);
    assert.equal(await page.locator('#hospitals-table tr[data-id="bach-mai"] td.c-ed img, #detail img').count(), 0, 'reason rendered as text');
    assert.match(await page.locator('#detail').innerText(), /Hết giường HSTC <img src=x onerror=alert\(1\)>/);
    const level = Number(await rowAttr('bach-mai', 'data-level'));
    assert.ok(level >= 3, `diversion is at least level 3: level ${level}`);
    assert.match(await marker('bach-mai').locator('.hm-num').textContent(), /[34]/);
    assert.match(await marker('bach-mai').getAttribute('title'), /Chuyển hướng/);
    assert.equal(await page.locator('#detail-source').textContent(), 'test-bach-mai');
    assert.match(await page.locator('#detail').innerText(), /đến \d\d:\d\d/);

    // over capacity shows the overflow, in the list and the detail
    await s.send(s.beds('bach-mai', isoNow(), { beds: { icu_adult: { occupied: 78 } } }));
    await waitFor(async () => squash(await cellText('bach-mai', 'td.c-bed')) === '0/75+3'
      && (await page.locator('#detail-beds tr[data-bed="icu_adult"] .over').textContent()) === '+3',
    { timeout: LATE_MS, interval: 10, what: 'overflow +3' });

    // the live region says it, politely
    let said = '';
    await waitFor(async () => /Bạch Mai: cấp cứu chuyển hướng/.test(said = await page.locator('#announcer').textContent()),
      { timeout: 5000, what: 'diversion announced' }).catch((e) => assert.fail(`${e.message}; the region says: ${said}`));
    assert.equal(await page.locator('#announcer').getAttribute('aria-live'), 'polite');
    await page.keyboard.press('Escape');
  });

  s.step('moves an ambulance as its position arrives (same marker), its row (within 1 s: reported)', async (t) => {
    const { page } = s;
    const id = '115-HK-03';
    // how far (px) the marker's anchor is from where the map puts lat/lon now
    const offBy = (lat, lon) => page.evaluate(({ i, lat, lon }) => {
      const e = document.querySelector(`#map .am[data-id="${i}"]`);
      if (!e) return null;
      const r = e.closest('.leaflet-marker-icon').getBoundingClientRect();
      const b = document.getElementById('map').getBoundingClientRect();
      const p = window.__bpMap.point(lat, lon);
      return Math.hypot(r.left + r.width / 2 - (b.left + p.x), r.top + r.height / 2 - (b.top + p.y));
    }, { i: id, lat, lon });
    await s.send(s.ambulance(id, { status: 'dispatched', lat: 21.02, lon: 105.84, heading: 90, speed: 40 }));
    const m = ambMarker(id);
    await waitFor(async () => (await m.count()) === 1, { timeout: LATE_MS, what: 'ambulance marker' });
    await mapStill(page);
    assert.ok((await offBy(21.02, 105.84)) < 2, `marker ${await offBy(21.02, 105.84)} px from its position`);
    await page.evaluate((i) => {
      window.__amb = document.querySelector(`#map .am[data-id="${i}"]`);
    }, id);
    const t0 = Date.now();
    await s.send(s.ambulance(id, { status: 'transporting', destination: 'viet-duc', lat: 21.02, lon: 105.86, heading: 180 }));
    await waitFor(async () => {
      const off = await offBy(21.02, 105.86);
      const dest = await ambRow(id).locator('.a-dest').textContent();
      return (off < 2 && dest.endsWith('Bệnh viện Hữu nghị Việt Đức')) || notYet({ px: off, dest });
    }, { timeout: LATE_MS, interval: 10, what: 'the marker at its new position and the row updated' });
    latency(t, 'position to marker and row', Date.now() - t0, 1000);
    assert.match(await m.locator('.am-arrow').getAttribute('style'), /rotate\(180deg\)/);
    assert.equal(await page.evaluate((i) => window.__amb === document.querySelector(`#map .am[data-id="${i}"]`), id), true,
      'the same marker element moved');
    assert.equal(await m.locator('.am-body').textContent(), '7');
    assert.match(await ambRow(id).locator('.a-status').innerText(), /7\s*Đang chở bệnh nhân/);
  });

  s.step('marks stale and late reports in the list, on the marker and in the detail panel', async () => {
    const { page } = s;
    const hospitals = (await s.stack.get('/api/v1/hospitals')).json;
    const h = hospitals.find((x) => x.id === 'nhi-trung-uong');
    assert.equal(h.freshness, 'never');
    assert.equal(await rowAttr(h.id, 'data-fresh'), 'never');
    assert.match(await cellText(h.id, 'td.c-updated'), /Chưa báo cáo/);
    assert.equal(await marker(h.id).locator('.hm-num').textContent(), '–');
    await s.send(s.beds(h.id, Session.ago(h, 2, 150), { beds: { pediatrics: { occupied: 400 } } }));
    await waitFor(async () => (await rowAttr(h.id, 'data-fresh')) === 'stale' && (await marker(h.id).getAttribute('data-fresh')) === 'stale',
      { timeout: 5000, what: 'stale row and marker' });
    assert.match(await cellText(h.id, 'td.c-updated'), /Quá hạn/);
    assert.match(await cellText(h.id, 'td.c-updated'), /32 phút trước/);
    assert.equal(await marker(h.id).locator('.hm-badge-fresh').isVisible(), true, 'the "!" badge');
    assert.equal(await marker(h.id).locator('.hm-badge-fresh').textContent(), '!');
    assert.match(await marker(h.id).getAttribute('title'), /Quá hạn/);
    // pale and hatched, with a dotted edge (and the digit still readable: dispatcher.test.js checks contrast)
    const look = await marker(h.id).locator('.hm-body').evaluate((e) => {
      const st = getComputedStyle(e);
      return { hatch: st.backgroundImage.startsWith('repeating-linear-gradient'), edge: st.borderTopStyle };
    });
    assert.deepEqual(look, { hatch: true, edge: 'dotted' }, 'stale marker looks stale');
    await openDetail(h.id);
    assert.match(await page.locator('#detail-fresh').innerText(), /Quá hạn/);
    assert.equal(await page.locator('#detail-fresh .fresh-icon').textContent(), '!');

    // and one between one and two intervals: late
    const k = hospitals.find((x) => x.id === 'benh-vien-k') || hospitals.find((x) => x.freshness === 'never' && !RESERVED.has(x.id));
    await s.send(s.beds(k.id, Session.ago(k, 1.5), {}));
    await waitFor(async () => (await rowAttr(k.id, 'data-fresh')) === 'late' && (await marker(k.id).getAttribute('data-fresh')) === 'late',
      { timeout: 5000, what: 'late row and marker' });
    assert.match(await cellText(k.id, 'td.c-updated'), /Trễ/);
    assert.equal(await marker(k.id).locator('.hm-body').evaluate((e) => getComputedStyle(e).borderTopStyle), 'dashed');
  });

  s.step('reads an expired diversion as normal without a new event (list, marker, detail)', async () => {
    const { page } = s;
    await openDetail('viet-duc');
    const r = await s.send(s.beds('viet-duc', isoNow(), {
      ed: { status: 'diversion', reason: 'Sự cố hệ thống oxy', until: isoNow(3000) },
    }));
    await waitFor(async () => (await rowAttr('viet-duc', 'data-ed')) === 'diversion', { timeout: 5000, what: 'diversion shown' });
    assert.equal(await page.locator('#detail-ed').textContent(), 'Chuyển hướng');
    await waitFor(async () => (await rowAttr('viet-duc', 'data-ed')) === 'normal'
      && (await marker('viet-duc').getAttribute('data-ed')) === 'normal'
      && (await page.locator('#detail-ed').textContent()) === 'Bình thường', { timeout: 6000, what: 'diversion to expire' });
    assert.doesNotMatch(await cellText('viet-duc', 'td.c-ed'), /oxy/);
    assert.doesNotMatch(await page.locator('#detail').innerText(), /oxy/);
    // nothing was sent meanwhile: the page worked it out from the clock
    assert.equal(Number(s.stack.redis('GET', `${s.stack.prefix}offset`)), r.offset);
    await page.keyboard.press('Escape');
  });

  s.step('a server crash shows the banner and the indicator; the restart resumes without reloading', async () => {
    const { page } = s;
    await s.outage({
      whileDown: async () => {
        await waitFor(async () => ['reconnecting', 'offline'].includes(await connState()), { timeout: 5000, what: 'indicator to leave live' });
        assert.match(await page.locator('#conn').innerText(), /Đang kết nối lại…|Mất kết nối/);
        await waitFor(async () => page.locator('#stale-banner').isVisible(), { timeout: 5000, what: 'the banner' });
        assert.match(await page.locator('#stale-banner').innerText(), /Mất kết nối với máy chủ: số liệu dừng lúc \d\d:\d\d/);
        const bw = (await page.locator('#stale-banner').boundingBox()).width;
        assert.ok(bw >= 1919, `full width (${bw})`);
        assert.match(await page.locator('#conn .conn-sub').innerText(), /lần thử \d+/);
        await s.send(s.beds('bach-mai', isoNow(), { beds: { icu_adult: { occupied: 74 } } }));
        await screenshot(page, 'dispatcher-offline.png');
      },
      live: async () => (await connState()) === 'live',
    });
    await waitFor(async () => squash(await cellText('bach-mai', 'td.c-bed')) === '1/75',
      { timeout: 5000, what: 'the change made while the server was down' });
    await waitFor(async () => !(await page.locator('#stale-banner').isVisible()), { timeout: 5000, what: 'banner gone' });
    // it resumed from its offset (the missed event replayed), no new snapshot
    const metrics = (await httpGet(s.stack.serverPort, '/metrics')).body;
    assert.match(metrics, /bedpulse_resume_total\{outcome="window"\} 1\b/);
    assert.match(metrics, /bedpulse_snapshots_sent_total 0\b/);
    await s.noErrors();
  });

  s.step('a fresh snapshot draws every ambulance that has a position, not only those that move later', async () => {
    const { page } = s;
    // reload: the page starts from a snapshot that already holds the
    // positions (as after "skip to latest" when a page falls behind)
    await page.reload();
    await waitFor(async () => (await connState()) === 'live', { what: 'live after reload' });
    const fleet = (await s.stack.get('/api/v1/ambulances')).json;
    const placed = fleet.filter((a) => a.lat !== null);
    assert.ok(placed.length > 5, `the burst placed ambulances: ${placed.length}`);
    await waitFor(async () => (await page.locator('#map .am[data-id]').count()) === placed.length,
      { timeout: 5000, what: `${placed.length} ambulance markers` });
    for (const a of placed.slice(0, 5)) assert.equal(await ambMarker(a.id).locator('.am-body').textContent(), String(FMS[a.status]));
    await s.noErrors();
  });
});
