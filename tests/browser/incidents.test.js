'use strict';
// 115 incidents on the dispatcher view (/) in real Chromium against the
// real stack (the test stack reads the server as a dispatcher): CAD lines
// sent to the collector appear in the incident queue (priority, then the
// longest waiting) and on the map within a second; selecting one (click or
// keyboard) shows the destinations the server ranks for it — the first
// equal to GET /api/v1/incidents' top entry (name, ETA, reason in
// Vietnamese, then in English after the toggle, with no string left in the
// other language); a destination opens that hospital; an ambulance
// transporting there shows as inbound on its marker and detail, one
// waiting at the door for 40 minutes makes it "offload delayed"; a closed
// incident leaves the queue and the map. Screenshot dispatcher-incident.png.
//
// The steps share one page and run in order.

const { describe, before } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { waitFor, isoNow, incidentMsg } = require('../lib/stack.js');
const {
  Session, screenshot, visibleStrings, dictionaries, languageProblems, contrastProblems, mapStill, latency, LATE_MS,
  shortDateTimes,
} = require('./pages.js');

const NEAR_LAO_KHOA = { lat: 21.0038, lon: 105.8392 }; // 300 m from Bach Mai
const ADDRESS = '1 Phương Mai, Đống Đa';
const ADDRESS_C = '25 Láng Hạ';
const minAgo = (n) => isoNow(-n * 60000);

describe('115 incidents on the dispatcher view', { timeout: 400000 }, () => {
  const s = new Session();
  let page;
  let stack;
  let hospitals;
  let fleet;
  let top; // the server's first destination for INC-B
  const names = []; // proper names and free text, left out of the language check

  before(() => {
    ({ page, stack } = s);
  });

  const row = (id) => page.locator(`#incidents-table tr[data-id="${id}"]`);
  const mark = (id) => page.locator(`#map .im-marker[data-id="${id}"]`);
  const queueIds = () => page.$$eval('#incidents-table tbody tr[data-id]', (rs) => rs.map((r) => r.dataset.id));
  const incident = (id, fields) => s.send(incidentMsg(Object.assign({ source: 'cad-115', seq: s.seq++, id }, fields)));
  const serverTop = async (id) => {
    const r = await stack.get(`/api/v1/incidents/${id}`);
    assert.equal(r.status, 200);
    return r.json.recommend;
  };
  const firstShown = () => page.evaluate(() => {
    const li = document.querySelector('#incident-dest li');
    return li && {
      hospital: li.dataset.hospital, rank: li.dataset.rank, name: li.querySelector('.inc-dest-name').textContent,
      eta: li.querySelector('.inc-eta').textContent, reason: li.querySelector('.inc-reason').textContent,
    };
  });
  const shownIds = () => page.$$eval('#incident-dest li', (ls) => ls.map((l) => l.dataset.hospital));
  // the page's first destination equals the server's, in language l
  const sameTop = async (l) => {
    top = (await serverTop('INC-B'))[0];
    const h = hospitals.find((x) => x.id === top.hospital);
    const want = { hospital: top.hospital, rank: '1', name: h.name[l], eta: `${Math.ceil(top.eta_min)} ${l === 'vi' ? 'phút' : 'min'}`, reason: top.reason[l] };
    const got = await firstShown();
    return JSON.stringify(got) === JSON.stringify(want) || { got, want };
  };

  s.step('loads live; the incident tab is there for a dispatcher, empty', async () => {
    await page.goto(s.url('/'));
    await waitFor(async () => (await page.locator('#conn').getAttribute('data-state')) === 'live', { what: 'live' });
    await s.sendDemo();
    hospitals = (await stack.get('/api/v1/hospitals')).json;
    fleet = (await stack.get('/api/v1/ambulances')).json;
    const live = await stack.live();
    await live.waitFor((c) => c.snapshot, { what: 'snapshot' });
    const meta = live.snapshot.meta;
    live.close();
    names.push(ADDRESS, ADDRESS_C, ...hospitals.map((h) => h.name.en), ...hospitals.map((h) => h.ed.reason),
      ...Object.values(meta.districts).map((d) => d.en), ...meta.stations.map((x) => x.name.en));
    names.splice(0, names.length, ...names.filter(Boolean).sort((x, y) => y.length - x.length));
    assert.equal(await page.locator('#tab-incidents').isVisible(), true);
    assert.equal(await page.locator('#tab-incidents').innerText(), 'Sự cố 115 (0)');
    await page.locator('#tab-incidents').click();
    assert.equal(await page.locator('#incidents .table-message').innerText(), 'Không có sự cố đang mở.');
    await s.noErrors();
  });

  s.step('incident lines appear in the queue and on the map (within 1 s: reported), most urgent and longest waiting first', async (t) => {
    const t0 = Date.now();
    await incident('INC-B', { priority: 1, category: 'stroke', ...NEAR_LAO_KHOA, address: ADDRESS, received: minAgo(2.5) });
    await waitFor(async () => (await row('INC-B').count()) === 1 && (await mark('INC-B').count()) === 1,
      { timeout: LATE_MS, interval: 10, what: 'INC-B in the queue and on the map' });
    latency(t, 'incident line to queue and map', Date.now() - t0, 1000);
    await incident('INC-A', { priority: 2, category: 'trauma', lat: 21.03, lon: 105.85, received: minAgo(10), unit: fleet[0].id });
    await incident('INC-C', { priority: 1, category: 'cardiac', lat: 21.02, lon: 105.81, address: ADDRESS_C, received: minAgo(5), unit: fleet[1].id });
    await waitFor(async () => JSON.stringify(await queueIds()) === '["INC-C","INC-B","INC-A"]', { timeout: LATE_MS, what: 'queue order' });
    assert.equal(await page.locator('#tab-incidents').innerText(), 'Sự cố 115 (3)');
    assert.equal(await page.locator('#incidents-summary').innerText(), '3 đang mở · 1 chưa có xe');
    const b = row('INC-B');
    assert.equal(await b.getAttribute('data-priority'), '1');
    assert.equal(await b.locator('.im-num').textContent(), '1');
    assert.equal(await b.locator('.i-cat-name').textContent(), 'Đột quỵ');
    assert.equal(await b.locator('td.i-addr').textContent(), ADDRESS);
    assert.equal(await b.locator('td.i-open').textContent(), '2 phút');
    assert.equal(await b.locator('.i-no-unit').textContent(), 'Chưa có xe');
    assert.equal(await b.locator('.i-wait').textContent(), 'chờ xe 2 phút');
    assert.equal(await row('INC-A').locator('.i-unit-id').textContent(), fleet[0].id);
    // on the map: priority by digit and shape (class), category on the tag, no unit = yellow tag
    const m = await page.$eval('#map .im-marker[data-id="INC-B"]', (n) => ({
      cls: n.querySelector('.im').className, num: n.querySelector('.im-num').textContent,
      cat: n.querySelector('.im-cat').textContent, title: n.getAttribute('title'),
    }));
    assert.deepEqual([m.cls, m.num, m.cat], ['im im-p1 im-no-unit', '1', 'ĐQ']);
    assert.match(m.title, /^Đột quỵ · Ưu tiên 1 — INC-B\n1 Phương Mai, Đống Đa\n/);
    assert.equal(await page.$eval('#map .im-marker[data-id="INC-A"] .im', (n) => n.className), 'im im-p2');
    await s.noErrors();
  });

  s.step('selecting an incident shows the ranked destinations; the first equals GET /api/v1/incidents\' top (vi)', async () => {
    await row('INC-B').click();
    await waitFor(async () => (await page.locator('#incident').getAttribute('data-id')) === 'INC-B'
      && page.locator('#incident').isVisible(), { timeout: 3000, what: 'incident panel' });
    assert.equal(await page.locator('#incident-title').textContent(), 'Đột quỵ · Ưu tiên 1');
    assert.equal(await row('INC-B').getAttribute('aria-current'), 'true');
    // when the call came, in Hanoi time (the browser runs in Berlin time),
    // with its date in the first minutes after Hanoi's midnight
    const shownFrom = Date.now() - 5000; // the panel redraws each second
    const received = Date.parse(await page.locator('#incident-facts time').getAttribute('datetime'));
    const text = await page.locator('#incident-facts time').textContent();
    const hanoi = shortDateTimes([received], [shownFrom, Date.now()]);
    assert.ok(hanoi.some((h) => text === `${h}, đã mở 2 phút`), `${text}: received ${hanoi.join(' or ')}, 2 min ago`);
    assert.match(await mark('INC-B').getAttribute('class'), /is-selected/);
    await waitFor(() => sameTop('vi'), { timeout: 5000, what: 'the first destination as the server ranks it (vi)' });
    const rec = await serverTop('INC-B');
    assert.equal(rec.length, 3);
    assert.deepEqual((await shownIds()).slice(0, 3), rec.map((c) => c.hospital), 'the same top three');
    const shown = await shownIds();
    assert.ok(shown.length <= 5, `at most five destinations: ${shown.join()}`);
    // free beds of the needed type on each entry; the rank on the hospital marker
    const free = await page.locator('#incident-dest li').first().locator('.inc-free').textContent();
    assert.ok(free.includes(new Intl.NumberFormat('vi-VN').format(top.free)) || !top.known, free);
    await waitFor(async () => (await page.locator(`#map .hm[data-id="${top.hospital}"] .hm-rank`).textContent()) === '1',
      { timeout: 2000, what: 'rank 1 on the hospital marker' });
    // keyboard: a row, Enter, the panel's title takes the focus; Escape closes and returns
    await row('INC-A').focus();
    await page.keyboard.press('Enter');
    await waitFor(async () => (await page.locator('#incident').getAttribute('data-id')) === 'INC-A', { timeout: 3000, what: 'INC-A by keyboard' });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'incident-title');
    await page.keyboard.press('Escape');
    await waitFor(async () => !(await page.locator('#incident').isVisible()), { timeout: 3000, what: 'closed by Escape' });
    assert.equal(await page.evaluate(() => document.activeElement.dataset.id), 'INC-A');
    assert.equal(await page.locator('#map .hm-rank:not([hidden])').count(), 0, 'no ranks without a selection');
    await page.keyboard.press('ArrowDown'); // INC-A is last: stays
    await page.keyboard.press('Home');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.id), 'INC-C');
    // a click on the map mark selects too
    await mark('INC-B').click();
    await waitFor(async () => (await page.locator('#incident').getAttribute('data-id')) === 'INC-B', { timeout: 3000, what: 'INC-B from the map' });
    await waitFor(() => sameTop('vi'), { timeout: 5000, what: 'INC-B destinations again' });
    await s.noErrors();
  });

  s.step('in English after the toggle: the reason, ETA and every string of the tab', async () => {
    const dicts = await dictionaries();
    await page.click('#lang-toggle');
    await waitFor(async () => (await page.evaluate(() => document.documentElement.lang)) === 'en', { what: 'lang=en' });
    await waitFor(() => sameTop('en'), { timeout: 5000, what: 'the first destination (en)' });
    assert.equal(await page.locator('#incident-title').textContent(), 'Stroke · Priority 1');
    assert.equal(await page.locator('#tab-incidents').innerText(), '115 incidents (3)');
    assert.deepEqual(languageProblems(await visibleStrings(page), 'en', dicts, names), []);
    await page.click('#lang-toggle');
    await waitFor(async () => (await page.evaluate(() => document.documentElement.lang)) === 'vi', { what: 'lang=vi' });
    await waitFor(() => sameTop('vi'), { timeout: 5000, what: 'back in Vietnamese' });
    assert.deepEqual(languageProblems(await visibleStrings(page), 'vi', dicts, names), []);
    await s.noErrors();
  });

  s.step('a destination opens its hospital; an ambulance transporting there shows as inbound (within 1 s: reported)', async (t) => {
    const h = top.hospital;
    await page.locator('#incident-dest li').first().locator('button').click();
    await waitFor(async () => (await page.locator('#detail').getAttribute('data-id')) === h && page.locator('#detail').isVisible(),
      { timeout: 3000, what: 'the destination\'s detail' });
    assert.match(await page.locator(`#map .hm[data-id="${h}"]`).getAttribute('class'), /is-selected/);
    assert.equal(await page.locator('#incidents').isVisible(), true, 'the incident stays in view');
    const before = (await stack.get('/api/v1/handover')).json.hospitals.find((x) => x.id === h);
    assert.equal(await page.locator('#detail-inbound').textContent(), String(before.inbound));
    // units the demo never moved: their first report
    const t0 = Date.now();
    await s.send(s.ambulance(fleet[4].id, { status: 'transporting', destination: h, lat: 21.01, lon: 105.83 }));
    const n = String(before.inbound + 1);
    await waitFor(async () => (await page.locator('#detail-inbound').textContent()) === n
      && (await page.locator(`#map .hm[data-id="${h}"] .hm-badge-in`).textContent()) === n,
    { timeout: LATE_MS, interval: 10, what: 'inbound on the detail and the marker' });
    latency(t, 'transport to inbound on detail and marker', Date.now() - t0, 1000);
    const after = (await stack.get('/api/v1/handover')).json.hospitals.find((x) => x.id === h);
    assert.equal(after.inbound, before.inbound + 1, 'the server counts the same');
    // the ranking follows: the destinations are asked again after the change
    await waitFor(() => sameTop('vi'), { timeout: 6000, what: 'the destinations after the inbound change' });
    assert.match(top.reason.vi, /xe đang đến|đang đến/, top.reason.vi);
    // at the door for 40 minutes: offload delayed (the handover figures come every 15 s)
    await s.send(s.ambulance(fleet[5].id, { at: minAgo(40), status: 'at_hospital', destination: h, lat: 21.01, lon: 105.83 }));
    await waitFor(async () => (await page.locator('#detail-waiting').textContent()) === String(before.waiting + 1),
      { timeout: LATE_MS, what: 'waiting at the door' });
    await waitFor(async () => (await page.locator('#detail-offload').getAttribute('data-offload')) === 'delayed',
      { timeout: 17000, interval: 200, what: 'offload delayed' });
    assert.match(await page.locator('#detail-offload').innerText(), /Chậm bàn giao$/);
    assert.match(await page.locator('#detail-door').innerText(), /lâu nhất (39|40|41) phút/);
    // the ambulance on its way, with its ETA from the server's figures (same refresh)
    const eta = (await stack.get('/api/v1/handover')).json.hospitals.find((x) => x.id === h).inbound_units.find((u) => u.id === fleet[4].id);
    assert.ok(eta && eta.eta_min > 0, JSON.stringify(eta));
    assert.match(await page.locator('#detail-inbound-units').innerText(), new RegExp(`${fleet[4].id} ~\\d+ phút`));
    await s.noErrors();
  });

  s.step('screenshot: dispatcher-incident.png (1920x1080, an incident, its destinations, the destination open)', async () => {
    await page.mouse.move(5, 5);
    await waitFor(async () => (await page.locator('tr.flash-a, tr.flash-b').count()) === 0, { what: 'highlights to end' });
    // WCAG AA contrast of the queue, the incident, the marks and the door figures
    assert.deepEqual(await contrastProblems(page, { skip: ['.hm.is-out'] }), []);
    await mapStill(page);
    const file = await screenshot(page, 'dispatcher-incident.png');
    assert.ok(fs.statSync(file).size > 20000, `${file}: ${fs.statSync(file).size} bytes`);
  });

  s.step('closing an incident removes it from the queue, the map and the panel (within 1 s: reported)', async (t) => {
    await page.keyboard.press('Escape'); // the hospital detail first
    const t0 = Date.now();
    await incident('INC-B', { action: 'close' });
    await waitFor(async () => (await row('INC-B').count()) === 0 && (await mark('INC-B').count()) === 0
      && !(await page.locator('#incident').isVisible()), { timeout: LATE_MS, interval: 10, what: 'INC-B gone' });
    latency(t, 'close to queue, map and panel', Date.now() - t0, 1000);
    assert.deepEqual(await queueIds(), ['INC-C', 'INC-A']);
    assert.equal(await page.locator('#tab-incidents').innerText(), 'Sự cố 115 (2)');
    assert.equal(await page.locator('#map .hm-rank:not([hidden])').count(), 0, 'its ranks are gone');
    await s.noErrors();
  });
});
