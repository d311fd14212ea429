'use strict';
// Languages: every string a person sees on the dispatcher view and the wall
// comes from the dictionary of the chosen language. The check collects
// every rendered text node and title/aria-label/placeholder of the page (in
// several states: detail open, pin set, legend open, ambulance tab) and
// fails on a dictionary key shown as is, on a string the other dictionary
// translates differently, and, in English, on Vietnamese letters outside
// feed text (ED reasons) and proper names. The choice is remembered and the
// wall follows it; `?lang=en` pins the wall. The two dictionaries have the
// same keys, the same placeholders and every key the code uses.

const { describe, before } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { waitFor, notYet, ROOT } = require('../lib/stack.js');
const {
  Session, openPage, visibleStrings, dictionaries, languageProblems, screenshot, bareMapPoint,
} = require('./pages.js');

const docLang = (p) => p.evaluate(() => document.documentElement.lang);

describe('languages', { timeout: 400000 }, () => {
  const s = new Session();
  let page;
  let context;
  let dicts;
  // Text that is not ours to translate, left out of the checks for English:
  // proper names (hospitals, districts, stations; some keep their
  // diacritics) and ED reasons, free text a hospital wrote in its language.
  let names = [];
  before(async () => {
    ({ page, context } = s);
    dicts = await dictionaries();
    await s.sendDemo();
    const hospitals = (await s.stack.get('/api/v1/hospitals')).json;
    const live = await s.stack.live();
    await live.waitFor((c) => c.snapshot, { what: 'snapshot' });
    const meta = live.snapshot.meta;
    live.close();
    names = [...hospitals.map((h) => h.name.en), ...Object.values(meta.districts).map((d) => d.en),
      ...meta.stations.map((x) => x.name.en), ...hospitals.map((h) => h.ed.reason)]
      .filter(Boolean).sort((x, y) => y.length - x.length);
  });

  // Puts the dispatcher page in a state where most strings are on screen.
  async function showEverything() {
    await page.locator('#tab-hospitals').click();
    const first = page.locator('#hospitals-table tbody tr[data-id]').first();
    await first.click();
    await waitFor(async () => page.locator('#detail').isVisible(), { what: 'detail open' });
    if (!(await page.locator('#patient-pin').count())) {
      const spot = await bareMapPoint(page, 0.5, 0.6);
      assert.ok(spot, 'a bare point on the map');
      await page.mouse.click(spot.px, spot.py);
    }
    await page.selectOption('#f-bed', 'icu_adult');
    // the list filters at once; the pin and the detail's trend (fetched) are awaited
    await waitFor(async () => {
      const v = {
        pin: await page.locator('#patient-pin').count(),
        history: await page.locator('#detail').getAttribute('data-history'),
        bed: await page.locator('#f-bed').inputValue(),
      };
      return (v.pin === 1 && v.history && v.history !== 'loading' && v.bed === 'icu_adult') || notYet(v);
    }, { what: 'the pin, the trend and the bed filter' });
  }

  async function problemsOnDispatcher(lang) {
    const out = [];
    await showEverything();
    out.push(...languageProblems(await visibleStrings(page), lang, dicts, names));
    await page.locator('#tab-ambulances').click();
    await waitFor(async () => (await page.locator('#ambulances').isVisible())
      && (await page.locator('#ambulances-table tbody tr[data-id]').count()) > 0, { what: 'the ambulance tab' });
    out.push(...languageProblems(await visibleStrings(page), lang, dicts, names));
    await page.locator('#tab-hospitals').click();
    await page.selectOption('#f-bed', '');
    return out;
  }

  s.step('has two dictionaries with the same keys, the same placeholders, no empty strings', async () => {
    const { vi, en } = dicts;
    assert.deepEqual(Object.keys(vi).sort(), Object.keys(en).sort());
    for (const [name, d] of [['vi', vi], ['en', en]]) {
      for (const [k, v] of Object.entries(d)) {
        assert.equal(typeof v, 'string', `${name} ${k}`);
        assert.ok(v.trim() !== '', `${name} ${k} is empty`);
      }
    }
    const ph = (x) => (x.match(/\{\w+\}/g) || []).sort().join();
    for (const k of Object.keys(vi)) assert.equal(ph(vi[k]), ph(en[k]), `placeholders of ${k}`);
    // every key the code names exists: any string literal in web/ that
    // starts with a namespace of the dictionary ("wall.", "detail.", ...),
    // whether it is passed to t() or kept in a table first
    const spaces = new Set(Object.keys(vi).map((k) => k.split('.')[0]));
    const used = new Set();
    const walk = (dir) => {
      for (const f of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, f.name);
        if (f.isDirectory()) walk(p);
        else if (f.name.endsWith('.js') && !p.includes(`${path.sep}i18n${path.sep}`)) {
          for (const m of fs.readFileSync(p, 'utf8').matchAll(/(['"`])([a-z_]+(?:\.[a-z0-9_]+)+)\1/g)) {
            if (spaces.has(m[2].split('.')[0])) used.add(m[2]);
          }
        }
      }
    };
    walk(path.join(ROOT, 'web'));
    assert.ok(used.size > 150, `${used.size} keys found in web/`);
    for (const k of used) assert.ok(k in vi, `key ${k} used but not defined`);
    // and every key built from data: bed types, tiers, statuses, specialties of the registry
    const hospitals = (await s.stack.get('/api/v1/hospitals')).json;
    const families = [
      ...['emergency', 'icu_adult', 'icu_pediatric', 'icu_neonatal', 'medical_surgical', 'pediatrics', 'obstetrics', 'burn',
        'psychiatric', 'isolation', 'operating_room'].flatMap((b) => [`bed.${b}.short`, `bed.${b}.long`]),
      ...['central', 'city', 'district', 'private'].map((x) => `tier.${x}`),
      ...['normal', 'advisory', 'diversion', 'closed'].map((x) => `ed.${x}`),
      ...['available_station', 'available_radio', 'dispatched', 'on_scene', 'transporting', 'at_hospital', 'out_of_service'].map((x) => `amb.status.${x}`),
      ...[1, 2, 3, 4].map((n) => `level.${n}`),
      ...[...new Set(hospitals.flatMap((h) => h.specialties))].map((x) => `spec.${x}`),
      ...['fresh', 'late', 'stale', 'never'].map((x) => `fresh.${x}`),
      ...['connecting', 'live', 'reconnecting', 'offline'].map((x) => `wall.conn_${x}`),
      ...['diversion', 'closed'].flatMap((x) => [`announce.ed_${x}`, `announce.ed_${x}_reason`]),
      ...['occupancy', 'icu'].map((x) => `wall.trend_${x}`),
      'announce.level_up', 'announce.level_down', 'history.error', 'history.unknown',
      ...['on', 'muted', 'off'].map((x) => `alerts.sound_${x}`),
      ...['level', 'available', 'distance', 'name'].map((x) => `sort.${x}`),
    ];
    for (const k of families) assert.ok(k in vi, `key ${k} built from data but not defined`);
  });

  s.step('dispatcher view in Vietnamese: no key shown, nothing left in English', async () => {
    await page.goto(s.url('/'));
    await waitFor(async () => (await page.locator('#conn').getAttribute('data-state')) === 'live', { what: 'live' });
    await waitFor(async () => (await page.locator('#hospitals-table tbody tr[data-id]').count()) === 88, { what: 'rows' });
    assert.equal(await docLang(page), 'vi');
    const problems = await problemsOnDispatcher('vi');
    assert.deepEqual(problems, []);
  });

  s.step('the toggle switches every visible string to English, and it is remembered', async () => {
    await page.click('#lang-toggle');
    await waitFor(async () => (await docLang(page)) === 'en', { what: 'lang=en' });
    assert.equal(await page.locator('#lang-toggle').innerText(), 'Tiếng Việt');
    assert.equal(await page.locator('#lang-toggle').getAttribute('lang'), 'vi');
    await waitFor(async () => (await page.locator('#conn .conn-text').innerText()) === 'Live', { what: 'English live' });
    const problems = await problemsOnDispatcher('en');
    assert.deepEqual(problems, []);
    // dates, numbers and relative times in English
    assert.match(await page.locator('#hospitals-table tbody tr[data-fresh="late"] td.c-updated').first().innerText(), /^\d+ (min|hr)\.? ago\nLate$/);
    await screenshot(page, 'dispatcher-en.png');
    await page.reload();
    await waitFor(async () => (await page.locator('#conn').getAttribute('data-state')) === 'live', { what: 'live after reload' });
    assert.equal(await docLang(page), 'en');
    assert.equal(await page.locator('#tab-hospitals').innerText(), 'Hospitals (88)');
  });

  s.step('the wall follows the remembered language, and a change made on the dispatcher view', async () => {
    const { page: wall, rec: wrec } = await openPage(s.browser, { context });
    await wall.goto(s.url('/wall'));
    await waitFor(async () => (await wall.locator('#w-conn').getAttribute('data-state')) === 'live', { what: 'wall live' });
    assert.equal(await docLang(wall), 'en');
    assert.equal(await wall.locator('#w-conn').innerText(), 'Live');
    // its figures and its trends (fetched once live) drawn
    await waitFor(async () => {
      const v = await wall.locator('#wall').evaluate((e) => ({ offset: e.dataset.offset, history: e.dataset.history }));
      return (v.offset !== undefined && v.history !== undefined) || notYet(v);
    }, { what: 'the wall drawn with its trends' });
    assert.deepEqual(languageProblems(await visibleStrings(wall), 'en', dicts, names), []);
    // switching back on the dispatcher view switches the wall
    await page.click('#lang-toggle');
    await waitFor(async () => (await docLang(wall)) === 'vi', { timeout: 3000, what: 'the wall to follow' });
    await waitFor(async () => (await wall.locator('#w-conn').innerText()) === 'Trực tuyến', { what: 'wall in Vietnamese' });
    assert.deepEqual(languageProblems(await visibleStrings(wall), 'vi', dicts, names), []);
    assert.deepEqual(wrec.errors, []);
    await wall.close();
  });

  // (/wall/?lang=en: bp-server's redirect from /wall to /wall/ drops the query)
  s.step('?lang=en pins the wall to English whatever is remembered', async () => {
    assert.equal(await page.evaluate(() => localStorage.getItem('bedpulse.lang')), 'vi');
    const { page: wall, rec: wrec } = await openPage(s.browser, { context });
    await wall.goto(s.url('/wall/?lang=en'));
    await waitFor(async () => (await wall.locator('#w-conn').getAttribute('data-state')) === 'live', { what: 'wall live' });
    assert.equal(await docLang(wall), 'en');
    assert.match(await wall.locator('.w-beds .w-h').innerText(), /BEDS BY TYPE/i);
    assert.deepEqual(languageProblems(await visibleStrings(wall), 'en', dicts, names), []);
    // numbers and dates for en-GB, in Hanoi time
    // (the day from 5 s before the read to after it: the wall redraws each
    // second, and Hanoi's midnight may fall in between)
    const day = new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Asia/Ho_Chi_Minh' });
    const before = day.format(Date.now() - 5000);
    const date = await wall.locator('.w-date').textContent();
    const after = day.format(Date.now());
    assert.ok([before, after].includes(date), `${date} between ${before} and ${after}`);
    assert.deepEqual(wrec.errors, []);
    await s.noErrors();
    await wall.close();
  });
});
