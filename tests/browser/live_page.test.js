'use strict';
// The live page (web/) in real Chromium against the real stack: redis-server,
// bp-collector and bp-server on random ports (tests/lib/stack.js). Feed
// lines go in at the collector; we watch them come out on the page.
//
// The steps share one page and run in order: the last ones kill and restart
// the server. Screenshots for a reviewer go to $BP_BUILD_DIR/screenshots/.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { chromium } = require('playwright-core');
const { Stack, waitFor, sleep, isoNow, ROOT, BUILD, httpGet } = require('../lib/stack.js');
const { demoLines, RESERVED } = require('./demo_data.js');

const CHROMIUM = process.env.BP_CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(BUILD, 'screenshots');

// A WebSocket that cannot connect while we deliberately stopped the server
// is logged by Chromium as a console error; nothing else may be.
const WS_DOWN = /WebSocket connection to '.*\/ws' failed/;

let stack;
let browser;
let page;
let feed;
let seq = 1;
let serverDown = false; // set while the server is deliberately stopped
const consoleErrors = [];
const expectedErrors = [];
let navigations = 0;
let failed = false;

function beds(hospital, at, fields) {
  return Object.assign({ type: 'beds', source: `test-${hospital}`, seq: seq++, at, hospital }, fields);
}

async function send(line) {
  const r = await feed.send(line);
  assert.equal(r.ok, true, `feed line refused: ${JSON.stringify(r)}`);
  return r;
}

// Text of a cell of a hospital row.
function cellText(id, sel) {
  return page.locator(`#hospitals-table tr[data-id="${id}"] ${sel}`).textContent();
}

function rowAttr(id, name) {
  return page.locator(`#hospitals-table tr[data-id="${id}"]`).getAttribute(name);
}

async function connState() {
  return page.locator('#conn').getAttribute('data-state');
}

// A step that, when it fails, has the stack's logs printed.
function step(name, fn) {
  it(name, async () => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      throw e;
    }
  });
}

async function screenshot(name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, name);
  await page.screenshot({ path: file });
  return file;
}

describe('live page', { timeout: 170000 }, () => {
  before(async () => {
    stack = new Stack();
    try {
      await stack.start();
    } catch (e) {
      failed = true;
      throw e;
    }
    feed = await stack.feed();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
    });
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'en-US', timezoneId: 'Europe/Berlin' });
    page = await context.newPage();
    await page.addInitScript(() => {
      window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (serverDown && WS_DOWN.test(m.text())) expectedErrors.push(m.text());
      else consoleErrors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
  });

  after(async () => {
    if (browser) await browser.close();
    if (feed) feed.close();
    if (stack) {
      if (failed) stack.dumpLogs();
      await stack.stop();
    }
  });

  step('loads with no console errors or CSP violations, 88 hospital rows, live', async () => {
    const resp = await page.goto(`http://127.0.0.1:${stack.serverPort}/`);
    assert.equal(resp.status(), 200);
    assert.match(resp.headers()['content-security-policy'], /script-src 'self'/);
    await waitFor(async () => (await page.locator('#hospitals-table tbody tr[data-id]').count()) === 88,
      { timeout: 5000, what: '88 hospital rows' });
    await waitFor(async () => (await connState()) === 'live', { what: 'live indicator' });
    assert.equal(await page.locator('#conn .conn-text').innerText(), 'Trực tuyến');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'vi');
    assert.equal(await page.locator('#ambulances-table tbody tr[data-id]').count(), 62);
    await sleep(300); // let late errors surface
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    assert.equal(await page.evaluate(() => window.__bpBootCount), 1);
    // no HTML from data: every name is text
    assert.equal(await page.locator('#hospitals-table tbody th.c-name *:not(span)').count(), 0);
  });

  step('applies a burst of events in place, with the same figures as the server', async () => {
    const hospitals = (await stack.get('/api/v1/hospitals')).json;
    const fleet = (await stack.get('/api/v1/ambulances')).json;
    const lines = demoLines(hospitals, fleet, () => seq++);
    const replies = await feed.sendMany(lines);
    for (const r of replies) assert.equal(r.ok, true, JSON.stringify(r));
    const last = replies[replies.length - 1].offset;
    const summaryOffset = async () => Number((await stack.get('/readyz')).json.offset);
    await waitFor(async () => (await summaryOffset()) >= last, { what: 'server to follow the burst' });
    // the page shows what the server computes (derive.js mirrors core/bp_model.c)
    let mismatches = [];
    const compare = async () => {
      const rest = (await stack.get('/api/v1/hospitals')).json;
      const shown = await page.$$eval('#hospitals-table tbody tr[data-id]', (rows) => rows.map((tr) => ({
        id: tr.dataset.id, level: Number(tr.dataset.level), fresh: tr.dataset.fresh, ed: tr.dataset.ed,
        occ: tr.querySelector('td.c-occ').textContent,
      })));
      const byId = new Map(shown.map((x) => [x.id, x]));
      mismatches = [];
      for (const h of rest) {
        const x = byId.get(h.id);
        // the server rounds to 0.1; the page floors (so 94.96 never reads "95%")
        const shownPct = x ? x.occ.replace(/[\s%]/g, '') : null;
        const r = h.occupancy_pct;
        const pctOk = r === null ? shownPct === '–' : [Math.floor(r), Math.floor(r - 0.05)].map(String).includes(shownPct);
        const want = { level: h.level, fresh: h.freshness, ed: h.ed.effective, occ: true };
        const got = x && { level: x.level, fresh: x.fresh, ed: x.ed, occ: pctOk };
        if (JSON.stringify(want) !== JSON.stringify(got)) mismatches.push(`${h.id}: page ${JSON.stringify(got)} ${shownPct} server ${JSON.stringify(want)} ${r}`);
      }
      return mismatches.length === 0;
    };
    try {
      await waitFor(compare, { timeout: 5000, what: 'every row to match the REST figures' });
    } catch (e) {
      assert.fail(`rows differ from the server:\n${mismatches.slice(0, 10).join('\n')}`);
    }
    // sorted: level never rises going down the table
    const levels = await page.$$eval('#hospitals-table tbody tr[data-id]', (rows) => rows.map((r) => Number(r.dataset.level)));
    for (let i = 1; i < levels.length; i++) assert.ok(levels[i] <= levels[i - 1], `rows sorted by level: ${levels.join(',')}`);
    // city totals equal the server's summary
    const summary = (await stack.get('/api/v1/summary')).json;
    const icu = summary.bed_types.icu_adult;
    const kpi = (await page.locator('[data-kpi="bed:icu_adult"] dd').innerText()).replace(/\s/g, '');
    const viInt = (n) => new Intl.NumberFormat('vi-VN').format(n);
    assert.ok(kpi.startsWith(`${viInt(icu.available)}/${viInt(icu.staffed)}`), `ICU total ${kpi} vs ${icu.available}/${icu.staffed}`);
    assert.equal(await page.locator('[data-kpi="level4"] .kpi-value').innerText(), String(summary.levels['4']));
    // ambulances: status with FMS digit and the destination's name
    const moving = lines.find((l) => l.type === 'ambulance' && l.status === 'transporting');
    if (moving) {
      const row = page.locator(`#ambulances-table tr[data-id="${moving.id}"]`);
      assert.match(await row.locator('.a-status').innerText(), /7\s*Đang chở bệnh nhân/);
      const dest = hospitals.find((h) => h.id === moving.destination).name.vi;
      assert.ok((await row.locator('.a-dest').textContent()).endsWith(dest));
    }
    assert.deepEqual(consoleErrors, []);
  });

  step('shows a feed change in its row within 1 s (beds, ED diversion, ambulance)', async () => {
    const reason = 'Hết giường HSTC <img src=x onerror=alert(1)>';
    const t0 = Date.now();
    await send(beds('bach-mai', isoNow(), {
      beds: { icu_adult: { staffed: 75, occupied: 70 } },
      ed: { status: 'diversion', reason, until: isoNow(2 * 3600e3), waiting: 12 },
    }));
    await waitFor(async () => (await cellText('bach-mai', 'td[data-bed="icu_adult"]')).replace(/\s/g, '') === '5/75'
      && (await cellText('bach-mai', 'td.c-ed')).includes(reason), { timeout: 1000, interval: 10, what: 'bach-mai row to update' });
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 1000, `took ${elapsed} ms`);
    assert.match(await rowAttr('bach-mai', 'class'), /flash-[ab]/, 'the changed row is highlighted');
    const ed = await cellText('bach-mai', 'td.c-ed');
    assert.match(ed, /Chuyển hướng/);
    assert.match(ed, /12 chờ/);
    assert.equal(await page.locator('#hospitals-table tr[data-id="bach-mai"] td.c-ed img').count(), 0, 'reason rendered as text');
    assert.ok(Number(await rowAttr('bach-mai', 'data-level')) >= 3, 'diversion is at least level 3');
    assert.match(await cellText('bach-mai', 'td.c-level'), /[34]/);

    // over capacity shows the overflow
    await send(beds('bach-mai', isoNow(), { beds: { icu_adult: { occupied: 78 } } }));
    await waitFor(async () => (await cellText('bach-mai', 'td[data-bed="icu_adult"]')).replace(/\s/g, '') === '0/75+3',
      { timeout: 1000, interval: 10, what: 'overflow +3' });

    const t1 = Date.now();
    await send({ type: 'ambulance', source: 'avl-115', seq: seq++, at: isoNow(), id: '115-HK-03', status: 'transporting', destination: 'viet-duc' });
    const row = page.locator('#ambulances-table tr[data-id="115-HK-03"]');
    await waitFor(async () => (await row.locator('.a-dest').textContent()).endsWith('Bệnh viện Hữu nghị Việt Đức'),
      { timeout: 1000, interval: 10, what: 'ambulance row to update' });
    assert.ok(Date.now() - t1 < 1000);
    assert.match(await row.locator('.a-status').innerText(), /7\s*Đang chở bệnh nhân/);
  });

  step('marks a hospital stale when its report is older than twice its interval', async () => {
    const hospitals = (await stack.get('/api/v1/hospitals')).json;
    const h = hospitals.find((x) => x.id === 'nhi-trung-uong');
    assert.equal(h.freshness, 'never');
    assert.equal(await rowAttr(h.id, 'data-fresh'), 'never');
    assert.match(await cellText(h.id, 'td.c-updated'), /Chưa báo cáo/);
    const old = new Date(Date.now() - (2 * h.report_interval_s + 150) * 1000).toISOString();
    await send(beds(h.id, old, { beds: { pediatrics: { occupied: 400 } } }));
    await waitFor(async () => (await rowAttr(h.id, 'data-fresh')) === 'stale', { timeout: 1000, what: 'stale row' });
    assert.match(await cellText(h.id, 'td.c-updated'), /Quá hạn/);
    assert.match(await cellText(h.id, 'td.c-updated'), /32 phút trước/);

    // and one between one and two intervals: late
    const k = hospitals.find((x) => x.id === 'benh-vien-k') || hospitals.find((x) => x.freshness === 'never' && !RESERVED.has(x.id));
    const lateAt = new Date(Date.now() - 1.5 * k.report_interval_s * 1000).toISOString();
    await send(beds(k.id, lateAt, {}));
    await waitFor(async () => (await rowAttr(k.id, 'data-fresh')) === 'late', { timeout: 1000, what: 'late row' });
    assert.match(await cellText(k.id, 'td.c-updated'), /Trễ/);
  });

  step('reads an expired diversion as normal without a new event', async () => {
    const r = await send(beds('viet-duc', isoNow(), {
      ed: { status: 'diversion', reason: 'Sự cố hệ thống oxy', until: isoNow(3000) },
    }));
    await waitFor(async () => (await rowAttr('viet-duc', 'data-ed')) === 'diversion', { timeout: 1000, what: 'diversion shown' });
    assert.match(await cellText('viet-duc', 'td.c-ed'), /Chuyển hướng/);
    await waitFor(async () => (await rowAttr('viet-duc', 'data-ed')) === 'normal', { timeout: 6000, what: 'diversion to expire' });
    const ed = await cellText('viet-duc', 'td.c-ed');
    assert.match(ed, /Bình thường/);
    assert.doesNotMatch(ed, /oxy/);
    // nothing was sent meanwhile: the page worked it out from the clock
    assert.equal(Number(stack.redis('GET', `${stack.prefix}offset`)), r.offset);
  });

  step('switches language to English and back, and remembers it', async () => {
    const flashing = () => page.locator('tr.flash-a, tr.flash-b').count();
    await waitFor(async () => (await flashing()) === 0, { what: 'highlights to end' });
    await page.click('#lang-toggle');
    await waitFor(async () => (await page.evaluate(() => document.documentElement.lang)) === 'en', { what: 'lang=en' });
    assert.equal(await flashing(), 0, 're-sorting for the new language highlights nothing');
    await waitFor(async () => (await page.locator('#conn .conn-text').innerText()) === 'Live', { what: 'English live' });
    assert.equal(await page.locator('#hospitals-heading').innerText(), 'Hospitals');
    assert.equal(await page.locator('#hospitals-table thead th[data-bed="icu_adult"]').innerText(), 'Adult ICU');
    assert.match(await cellText('bach-mai', '.c-name'), /Bach Mai Hospital/);
    assert.match(await cellText('bach-mai', 'td.c-ed'), /Diversion/);
    assert.match(await cellText('nhi-trung-uong', 'td.c-updated'), /Stale/);
    assert.match(await page.locator('#ambulances-table tr[data-id="115-HK-03"] .a-status').innerText(), /Transporting patient/);
    assert.equal(await page.locator('#lang-toggle').innerText(), 'Tiếng Việt');
    await screenshot('live-en.png');

    await page.click('#lang-toggle');
    await waitFor(async () => (await page.evaluate(() => document.documentElement.lang)) === 'vi', { what: 'lang=vi' });
    assert.equal(await page.locator('#hospitals-heading').innerText(), 'Bệnh viện');

    await page.click('#lang-toggle');
    await page.reload();
    await waitFor(async () => (await connState()) === 'live', { what: 'live after reload' });
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await page.locator('#hospitals-heading').innerText(), 'Hospitals');
    await page.click('#lang-toggle');
    await waitFor(async () => (await page.evaluate(() => localStorage.getItem('bedpulse.lang'))) === 'vi', { what: 'vi stored' });
    assert.deepEqual(consoleErrors, []);
  });

  step('has two dictionaries with the same keys and no empty strings', async () => {
    const vi = (await import(pathToFileURL(path.join(ROOT, 'web/i18n/vi.js')).href)).default;
    const en = (await import(pathToFileURL(path.join(ROOT, 'web/i18n/en.js')).href)).default;
    assert.deepEqual(Object.keys(vi).sort(), Object.keys(en).sort());
    for (const [name, d] of [['vi', vi], ['en', en]]) {
      for (const [k, v] of Object.entries(d)) {
        assert.equal(typeof v, 'string', `${name} ${k}`);
        assert.ok(v.trim() !== '', `${name} ${k} is empty`);
      }
    }
    // the same placeholders on both sides
    const ph = (s) => (s.match(/\{\w+\}/g) || []).sort().join();
    for (const k of Object.keys(vi)) assert.equal(ph(vi[k]), ph(en[k]), `placeholders of ${k}`);
    // every key the code uses exists (t('...') with a literal key)
    const used = new Set();
    const walk = (dir) => {
      for (const f of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, f.name);
        if (f.isDirectory()) walk(p);
        else if (f.name.endsWith('.js')) for (const m of fs.readFileSync(p, 'utf8').matchAll(/\bt\('([\w.]+)'/g)) used.add(m[1]);
      }
    };
    walk(path.join(ROOT, 'web'));
    for (const k of used) assert.ok(k in vi, `key ${k} used but not defined`);
  });

  step('resumes after the server restarts, without reloading, and shows what changed meanwhile', async () => {
    await page.evaluate(() => {
      window.__sameDocument = true;
    });
    const navBefore = navigations;
    serverDown = true;
    await stack.procs.server.stop();
    await waitFor(async () => ['reconnecting', 'offline'].includes(await connState()), { timeout: 5000, what: 'indicator to leave live' });
    assert.match(await page.locator('#conn').innerText(), /Đang kết nối lại…|Mất kết nối/);
    await send(beds('bach-mai', isoNow(), { beds: { icu_adult: { occupied: 74 } } }));
    await sleep(1500); // a few failed attempts
    assert.match(await page.locator('#conn .conn-sub').innerText(), /lần thử \d+/);
    await stack.startServer();
    await waitFor(async () => (await connState()) === 'live', { timeout: 30000, interval: 50, what: 'live again' });
    serverDown = false;
    await waitFor(async () => (await cellText('bach-mai', 'td[data-bed="icu_adult"]')).replace(/\s/g, '') === '1/75',
      { timeout: 2000, what: 'the change made while the server was down' });
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');
    assert.equal(await page.evaluate(() => window.__bpBootCount), 1);
    assert.equal(navigations, navBefore);
    // it resumed from its offset (the missed event replayed), no new snapshot
    const metrics = (await httpGet(stack.serverPort, '/metrics')).body;
    assert.match(metrics, /bedpulse_resume_total\{outcome="window"\} 1\b/);
    assert.match(metrics, /bedpulse_snapshots_sent_total 0\b/);
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    await sleep(1700); // let the row highlight fade before the screenshot
    const file = await screenshot('live.png');
    assert.ok(fs.statSync(file).size > 10000);
  });
});
