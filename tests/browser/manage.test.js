'use strict';
// The manager view (/manage) at a phone's size (390×844) in real Chromium
// against the real stack, with anonymous access off: a hospital manager
// signs in by a link, sees only her hospitals, changes a bed figure with
// the steppers and saves it (REST shows it, set by web:<token id>), sets an
// ED diversion with reason and expiry, confirms the figures without change
// (a new report time, same figures), meets a colleague's newer figure (the
// conflict: both values, "keep mine" saves over the new version), sees a
// feed's change arrive live (a field she is editing is kept and marked),
// gets the server's 422 at the field, imports a CSV (preview, then apply),
// switches language, and signs out (the cookie no longer works). An admin
// finds any hospital with the search; a wall display's sign-in is told it
// cannot change figures. Screenshots: manage-phone.png,
// manage-conflict-phone.png, manage-desktop.png.
//
// The steps share one page and run in order. Every HTTP error answer the
// test provokes (409, 422) is expected by name; anything else logged fails.

const { describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, notYet, pastMs, isoNow } = require('../lib/stack.js');
const {
  Session, openPage, screenshot, expectHttpErrors, sessionCookie, visibleStrings, dictionaries, languageProblems,
  contrastProblems, latency,
} = require('./pages.js');

const PHONE = { width: 390, height: 844 };

describe('manager view', { timeout: 400000 }, () => {
  const s = new Session({ env: { BP_AUTH_ANONYMOUS: 'none' } });
  let stack;
  let page;
  let rec;
  let context;
  let lan; // the manager of bach-mai and viet-duc
  let minh; // another manager of bach-mai

  const field = (bed, key = 'occupied') => page.locator(`#f-${bed}-${key}`);
  const card = (bed) => page.locator(`fieldset.mg-card[data-bed="${bed}"]`);
  const notice = () => page.locator('#mg-notice');
  const rest = () => stack.hospital('bach-mai', lan.token);

  async function waitNotice(re) {
    await waitFor(async () => (await notice().isVisible()) && re.test(await notice().innerText()),
      { timeout: 5000, what: `notice ${re}` });
  }

  // She types `mine` for adult ICU occupied; meanwhile Anh Minh saves
  // `theirs` from his ward PC; the live feed brings it (her figure stays,
  // marked) and her Save meets the conflict. Resolves with the version
  // before his change.
  async function colleagueFirst(mine, theirs) {
    const v0 = (await rest()).version;
    await field('icu_adult').fill(mine);
    const r = await stack.call('PATCH', '/api/v1/hospitals/bach-mai', {
      token: minh.token, json: { beds: { icu_adult: { occupied: theirs } } }, headers: { 'If-Match': `"${v0}"` },
    });
    assert.equal(r.status, 200, r.body);
    await waitFor(async () => new RegExp(`người khác đã đổi thành ${theirs}`).test(await card('icu_adult').locator('.mg-notes').first().innerText()),
      { timeout: 5000, what: 'changed meanwhile' });
    assert.equal(await field('icu_adult').inputValue(), mine);
    await page.locator('#mg-save').click();
    await waitFor(() => page.locator('#mg-conflict').isVisible(), { what: 'the conflict' });
    return v0;
  }

  async function signIn(p, token) {
    await p.goto(s.url(`/signin#token=${token}&next=/manage`));
    await waitFor(async () => new URL(p.url()).pathname.startsWith('/manage'), { timeout: 5000, what: '/manage' });
  }

  before(async () => {
    stack = s.stack;
    lan = stack.createToken('manager', { hospitals: 'bach-mai,viet-duc', name: 'Chị Lan' });
    minh = stack.createToken('manager', { hospitals: 'bach-mai', name: 'Anh Minh' });
    await stack.waitForToken(lan.token);
    await stack.waitForToken(minh.token);
    await s.sendAll([s.beds('bach-mai', isoNow(), {
      beds: { icu_adult: { staffed: 75, occupied: 60, surge24: 8 }, medical_surgical: { staffed: 1170, occupied: 1100 } },
    })]);
    ({ page, rec, context } = await openPage(s.browser, PHONE));
  });

  s.step('a sign-in link lands on /manage: no token in the address bar, an HttpOnly cookie, only her hospitals', async () => {
    await signIn(page, lan.token);
    await waitFor(() => field('icu_adult').isVisible(), { what: 'the form' });
    assert.doesNotMatch(page.url(), /token|bp_/);
    const cookie = await sessionCookie(context);
    assert.ok(cookie, `a session cookie: ${JSON.stringify((await context.cookies()).map((c) => c.name))}`);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.doesNotMatch(await page.evaluate(() => document.cookie), /bp_session/);
    assert.deepEqual(await page.$$eval('#mg-picker .pick', (bs) => bs.map((b) => b.dataset.id)), ['bach-mai', 'viet-duc']);
    assert.equal(await page.locator('#mg-picker .pick[aria-pressed="true"]').getAttribute('data-id'), 'bach-mai');
    assert.equal(await page.locator('#mg-name').innerText(), 'Bệnh viện Bạch Mai');
    assert.match(await page.locator('#mg-account').innerText(), /Chị Lan · Quản lý bệnh viện/);
    assert.equal(await field('icu_adult').inputValue(), '60');
    assert.equal(await field('icu_adult').getAttribute('inputmode'), 'numeric');
    // the bed type's last value, who set it and when
    assert.match(await card('icu_adult').locator('.mg-last').first().innerText(), /^Lần cuối: 60 · test-bach-mai · \d\d:\d\d \(.+\)$/);
    // touch targets of at least 44 px
    for (const l of [card('icu_adult').locator('button.step').first(), card('icu_adult').locator('.mg-more-sum'),
      field('icu_adult'), page.locator('#mg-confirm'), page.locator('#mg-picker .pick').first(), page.locator('#mg-signout')]) {
      const box = await l.boundingBox();
      assert.ok(box.height >= 44 && box.width >= 44, `${l}: ${box.width}×${box.height}`);
    }
    await waitFor(async () => (await page.locator('#conn').getAttribute('data-state')) === 'live', { what: 'live' });
    await s.noErrors(page, rec);
  });

  s.step('steppers change a figure; Save says so and REST shows it, set by web:<token id>', async (t) => {
    const started = Date.now();
    const plus = card('icu_adult').locator('button.step[data-step="1"]');
    await plus.click();
    await plus.click();
    await plus.click();
    await card('icu_adult').locator('button.step[data-step="-1"]').click();
    assert.equal(await field('icu_adult').inputValue(), '62');
    assert.match(await card('icu_adult').locator('.mg-free').innerText(), /trống 13\/75/);
    assert.equal(await page.locator('#mg-save').innerText(), 'Lưu 1 thay đổi');
    assert.equal(await page.locator('#mg-confirm').isVisible(), false);
    const before = await rest();
    await page.locator('#mg-save').click();
    await waitNotice(/^Đã lưu lúc \d\d:\d\d:\d\d \(phiên bản \d+\)\.$/);
    latency(t, 'one bed type updated, from the first click to "saved"', Date.now() - started, 15000);
    const h = await rest();
    assert.equal(h.beds.icu_adult.occupied, 62);
    assert.equal(h.beds.icu_adult.staffed, 75, 'only what changed was sent');
    assert.equal(h.source, `web:${lan.id}`);
    assert.equal(h.version, before.version + 1);
    assert.match(await card('icu_adult').locator('.mg-last').first().innerText(), new RegExp(`^Lần cuối: 62 · web:${lan.id} \\(bạn\\) · `));
    assert.equal(await page.locator('#mg-confirm').isVisible(), true, 'nothing left to save');
    await screenshot(page, 'manage-phone.png');
    await s.noErrors(page, rec);
  });

  s.step('ED diversion: the reason is required; with reason and expiry it is saved', async () => {
    await page.locator('label[for="ed-s-diversion"]').click();
    await page.locator('#mg-save').click();
    await waitFor(async () => /Ghi lý do/.test(await page.locator('#ed-reason-note').innerText()), { what: 'reason required' });
    assert.equal(await page.locator('#f-ed-reason').evaluate((e) => e === document.activeElement), true);
    await page.locator('#f-ed-reason').fill('CT hỏng');
    await page.locator('button[data-hours="4"]').click();
    const until = await page.locator('#f-ed-until').inputValue();
    assert.match(until, /^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
    await page.locator('#mg-save').click();
    await waitNotice(/^Đã lưu lúc/);
    const h = await rest();
    assert.equal(h.ed.status, 'diversion');
    assert.equal(h.ed.reason, 'CT hỏng');
    // four hours from now, rounded up to the minute, read as Hanoi time
    const ms = Date.parse(h.ed.until);
    assert.ok(Math.abs(ms - (Date.now() + 4 * 3600000)) < 120000, `until ${h.ed.until}`);
    assert.equal(Date.parse(`${until}:00+07:00`), ms);
    assert.equal(await page.locator('#ed-status-note').innerText(), '');
    await s.noErrors(page, rec);
  });

  s.step('"confirm figures" gives a new report time and changes no figure', async () => {
    const before = await rest();
    await pastMs(Date.parse(before.at)); // the confirmation comes a millisecond later at least
    await page.locator('#mg-confirm').click();
    await waitNotice(/^Đã xác nhận số liệu lúc \d\d:\d\d:\d\d\.$/);
    const after = await rest();
    assert.ok(Date.parse(after.at) > Date.parse(before.at), `${before.at} -> ${after.at}`);
    assert.deepEqual(after.beds, before.beds);
    assert.deepEqual(after.ed, before.ed);
    assert.equal(after.version, before.version + 1);
    await s.noErrors(page, rec);
  });

  s.step('conflict: a colleague saved first; both values shown; "keep mine" saves over the new version', async () => {
    const v0 = await colleagueFirst('55', 70);
    const row = page.locator('#mg-conflict tr[data-field="beds.icu_adult.occupied"]');
    assert.equal(await row.locator('td.mine').innerText(), '55');
    assert.equal(await row.locator('td.current').innerText(), '70');
    assert.match(await page.locator('#mg-conflict').innerText(), new RegExp(`web:${minh.id}`));
    assert.equal(await page.locator('#mg-conflict tbody tr[data-field]').count(), 1, 'only the figure that differs');
    assert.equal(await page.locator('#mg-conflict tr.diff-what').innerText(), 'HSTC NL · Giường đang có bệnh nhân');
    const table = await page.locator('#mg-conflict table').boundingBox();
    assert.ok(table.x >= 0 && table.x + table.width <= 390, `both values fit the phone: ${JSON.stringify(table)}`);
    await screenshot(page, 'manage-conflict-phone.png');
    await page.locator('#mg-keep').click();
    await waitNotice(/^Đã lưu lúc/);
    const h = await rest();
    assert.equal(h.beds.icu_adult.occupied, 55);
    assert.equal(h.version, v0 + 2);
    assert.equal(h.source, `web:${lan.id}`);
    assert.equal(await page.locator('#mg-conflict').isVisible(), false);
    assert.equal(expectHttpErrors(rec, 409), 1);
    await s.noErrors(page, rec);
  });

  s.step('"use current" takes the colleague\'s figure and saves nothing', async () => {
    const v0 = await colleagueFirst('50', 66);
    await page.locator('#mg-use').click();
    await waitNotice(/Đã giữ số liệu hiện tại/);
    assert.equal(await field('icu_adult').inputValue(), '66');
    assert.equal((await rest()).version, v0 + 1);
    assert.equal(expectHttpErrors(rec, 409), 1);
    await s.noErrors(page, rec);
  });

  s.step('a feed\'s change appears without reload; a field being edited is kept and marked', async () => {
    await field('pediatrics').fill('20');
    await s.sendAll([s.beds('bach-mai', isoNow(), { beds: { medical_surgical: { occupied: 1111 }, pediatrics: { occupied: 33 } } })]);
    await waitFor(async () => (await field('medical_surgical').inputValue()) === '1111', { timeout: 3000, what: 'the live figure' });
    assert.match(await card('medical_surgical').locator('.mg-last').first().innerText(), /^Lần cuối: 1\.111 · test-bach-mai · /);
    await waitFor(async () => /đổi thành 33/.test(await card('pediatrics').locator('.mg-notes').first().innerText()), { what: 'marked' });
    assert.equal(await field('pediatrics').inputValue(), '20');
    await page.locator('#mg-undo').click();
    assert.equal(await field('pediatrics').inputValue(), '33');
    assert.equal(await page.evaluate(() => window.__bpBootCount), 1, 'no reload');
    await s.noErrors(page, rec);
  });

  s.step('a value the browser lets through gets the server\'s 422 message at the field', async () => {
    await field('icu_adult').fill('100001');
    await page.locator('#mg-save').click();
    const note = card('icu_adult').locator('.mg-err');
    await waitFor(() => note.isVisible(), { what: 'the field error' });
    assert.match(await note.innerText(), /Ngoài khoảng cho phép\.\s*beds\.icu_adult\.occupied must be from 0 to 100000, got 100001/);
    assert.equal(await field('icu_adult').getAttribute('aria-invalid'), 'true');
    await waitNotice(/^Chưa lưu: máy chủ thấy lỗi/);
    assert.equal((await rest()).beds.icu_adult.occupied, 66, 'nothing changed');
    assert.equal(expectHttpErrors(rec, 422), 1);
    await page.locator('#mg-undo').click();
    assert.equal(await note.count(), 0);
    await s.noErrors(page, rec);
  });

  s.step('CSV import: bad rows are listed; a good file is previewed, then applied', async () => {
    await page.locator('#mg-import summary').click();
    await page.locator('#mg-csv').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('bed_type,occupied\nicu_adult,x\n') });
    await waitFor(() => page.locator('#mg-import-errors').isVisible(), { what: 'row errors' });
    assert.match(await page.locator('#mg-import-errors').innerText(), /^Dòng 2: occupied: "x" is not a whole number/);
    assert.equal(expectHttpErrors(rec, 422), 1);
    const csv = 'bed_type,staffed,occupied,surge24\nicu_adult,75,58,\nisolation,,7,\n';
    await page.locator('#mg-csv').setInputFiles({ name: 'beds.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await waitFor(() => page.locator('#mg-preview').isVisible(), { what: 'the preview' });
    const cell = (bed, key, c) => page.locator(`#mg-preview tr[data-bed="${bed}"][data-key="${key}"] td.${c}`).innerText();
    assert.equal(await cell('icu_adult', 'occupied', 'from'), '66');
    assert.equal(await cell('icu_adult', 'occupied', 'to'), '58');
    assert.equal(await cell('isolation', 'occupied', 'from'), '–');
    assert.equal(await cell('isolation', 'occupied', 'to'), '7');
    assert.equal((await rest()).beds.icu_adult.occupied, 66, 'a preview changes nothing');
    await page.locator('#mg-import-apply').click();
    await waitFor(async () => /^Đã áp dụng 2 dòng/.test(await page.locator('#mg-import-notice').innerText()), { what: 'applied' });
    const h = await rest();
    assert.equal(h.beds.icu_adult.occupied, 58);
    assert.equal(h.beds.isolation.occupied, 7);
    assert.equal(await field('icu_adult').inputValue(), '58');
    await s.noErrors(page, rec);
  });

  s.step('the language toggle switches every string; nothing is left in the other language', async () => {
    const dicts = await dictionaries();
    const hs = (await stack.call('GET', '/api/v1/hospitals', { token: lan.token })).json;
    const names = hs.flatMap((h) => [h.name.en]);
    await page.locator('.mg-more').first().evaluate((d) => { d.open = true; });
    assert.deepEqual(languageProblems(await visibleStrings(page), 'vi', dicts, names), []);
    await page.locator('#lang-toggle').click();
    await waitFor(async () => (await page.evaluate(() => document.documentElement.lang)) === 'en', { what: 'English' });
    await waitFor(async () => (await page.locator('#mg-name').innerText()) === 'Bach Mai Hospital', { what: 'English form' });
    assert.equal(await page.locator('#mg-confirm').innerText(), 'Figures unchanged: confirm');
    assert.equal(await field('icu_adult').inputValue(), '58');
    assert.deepEqual(languageProblems(await visibleStrings(page), 'en', dicts, names), []);
    await page.locator('#lang-toggle').click();
    await waitFor(async () => (await page.evaluate(() => document.documentElement.lang)) === 'vi', { what: 'Vietnamese' });
    assert.equal(await page.locator('#mg-confirm').innerText(), 'Số liệu không đổi: xác nhận');
    assert.deepEqual(await contrastProblems(page), []);
    await s.noErrors(page, rec);
  });

  s.step('at desktop width the same page is a centred grid', async () => {
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await waitFor(async () => {
      const a = await card('emergency').boundingBox();
      const b = await card('icu_adult').boundingBox();
      return Math.round(a.y) === Math.round(b.y) || notYet({ emergency: a, icu_adult: b });
    }, { what: 'cards side by side' });
    assert.deepEqual(await contrastProblems(page), []);
    await screenshot(page, 'manage-desktop.png');
    await page.setViewportSize(PHONE);
    await s.noErrors(page, rec);
  });

  s.step('an admin finds any hospital with the search', async () => {
    const admin = stack.createToken('admin', { hospitals: '*', name: 'Admin' });
    await stack.waitForToken(admin.token);
    const a = await openPage(s.browser, PHONE);
    await signIn(a.page, admin.token);
    await waitFor(() => a.page.locator('#mg-search').isVisible(), { what: 'the search' });
    await a.page.locator('#mg-search').fill('viet duc');
    await a.page.locator('#mg-results .pick[data-id="viet-duc"]').click();
    await waitFor(async () => (await a.page.locator('#mg-name').innerText()) === 'Bệnh viện Hữu nghị Việt Đức', { what: 'viet-duc' });
    assert.match(a.page.url(), /#h=viet-duc$/);
    await s.noErrors(a.page, a.rec);
    await a.context.close();
  });

  s.step('a wall display\'s sign-in is told it cannot change figures, and can sign out', async () => {
    const wall = stack.createToken('wall', { name: 'Wall 1' });
    await stack.waitForToken(wall.token);
    const w = await openPage(s.browser, PHONE);
    await signIn(w.page, wall.token);
    await waitFor(() => w.page.locator('#mg-problem').isVisible(), { what: 'the message' });
    assert.match(await w.page.locator('#mg-problem').innerText(), /Màn hình tường: tài khoản này không thể thay đổi số liệu/);
    assert.equal(await w.page.locator('#mg-form').count(), 0);
    await w.page.locator('#mg-signout-big').click();
    await waitFor(async () => new URL(w.page.url()).pathname.startsWith('/signin'), { what: 'sign-in page' });
    await s.noErrors(w.page, w.rec);
    await w.context.close();
  });

  s.step('signing out returns to the sign-in page and the cookie no longer works', async () => {
    const cookie = await sessionCookie(context);
    assert.equal((await stack.call('GET', '/api/v1/hospitals/bach-mai', { cookie: cookie.value })).status, 200);
    await page.locator('#mg-signout').click();
    await waitFor(async () => new URL(page.url()).pathname.startsWith('/signin'), { what: 'sign-in page' });
    await waitFor(() => page.locator('#token').isVisible(), { what: 'the form' });
    assert.equal(await sessionCookie(context), null, 'the browser dropped it');
    await waitFor(async () => (await stack.call('GET', '/api/v1/hospitals/bach-mai', { cookie: cookie.value })).status === 401,
      { timeout: 3000, what: 'the cookie denied' });
    // and /manage sends the browser to sign in
    await page.goto(s.url('/manage'));
    await waitFor(async () => new URL(page.url()).pathname.startsWith('/signin'), { what: 'back to sign-in' });
    await s.noErrors(page, rec);
  });
});
