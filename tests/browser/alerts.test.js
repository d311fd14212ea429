'use strict';
// Alerts (docs/dispatch.md) on the dispatcher view and the wall, in real
// Chromium against the real stack with anonymous access off: two
// dispatchers signed in in two browser contexts, a wall display signed in
// with a wall token in a third. A diversion line sent to the collector
// raises an alert on both dispatcher pages within a few seconds, in the
// current language, with the alarm on and sounding again and again (the
// beep counter; headless Chromium may hold the sound back, which the bar
// says); a page without the right to acknowledge (a wall account on /) has
// no button; muting one page stops its alarm only; acknowledging on page A
// shows "acknowledged by <name>" with the Hanoi time on page B too and
// stops the alarm on both; the wall shows the alert in its ticker, then
// that it was acknowledged; the language toggle changes the alert's words;
// ending the diversion clears it everywhere. Then (issue 14): two
// diversions that start together are ONE alert on every page, "2
// emergency departments…", whose list opens on demand, critical (three
// tones, every 10 s); a dispatcher mutes the rule for 30 minutes from the
// row: every console shows who and until when, the alarm stops there, the
// wall says so, and Unmute brings it back; a level 4 hospital is a
// warning (its alarm every 30 s). Screenshots dispatcher-alert.png,
// wall-alert.png and dispatcher-alert-group.png (1920×1080).
//
// The steps share the pages and run in order.

const { describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, isoNow } = require('../lib/stack.js');
const {
  Session, openPage, screenshot, contrastProblems, latency, LATE_MS, shortDateTimes,
} = require('./pages.js');

const ID = 'diversion:bach-mai';
const VI_TEXT = 'Bệnh viện Bạch Mai: cấp cứu đang chuyển hướng';
const EN_TEXT = 'Bach Mai Hospital: emergency department on diversion';

const hanoiTime = (iso) => new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'Asia/Ho_Chi_Minh',
}).format(new Date(iso));

describe('alerts on the dispatcher view and the wall', { timeout: 400000 }, () => {
  const s = new Session({ env: { BP_AUTH_ANONYMOUS: 'none' } });
  let stack;
  let a; // {page, rec, context}: dispatcher Chị Lan
  let b; // dispatcher Anh Minh
  let w; // the wall display
  let wd; // a wall account's page on / (may not acknowledge)
  let beepsAfterAck;
  let lan;

  const bar = (p) => p.page.locator('#alerts');
  const row = (p) => p.page.locator(`#alerts-list li[data-id="${ID}"]`);
  const barAttr = (p, name) => bar(p).getAttribute(`data-${name}`);
  const beeps = async (p) => Number(await barAttr(p, 'beeps'));
  const ticker = () => w.page.locator('#w-ticker');

  // the diversion (or its end) at Bach Mai, with no ICU beds reported so
  // that no other alert (city-wide ICU, level 4) comes with it
  const ed = (status) => s.send(s.beds('bach-mai', isoNow(), {
    beds: { medical_surgical: { staffed: 100, occupied: 50 } },
    ed: status === 'normal' ? { status } : { status, reason: 'Quá tải', until: isoNow(3600e3) },
  }));

  async function signedIn(token, next) {
    const p = await openPage(s.browser);
    await p.page.goto(s.url(`/signin#token=${token}&next=${next}`));
    await waitFor(async () => new URL(p.page.url()).pathname.replace(/(.)\/$/, '$1') === next, { timeout: 5000, what: next });
    return p;
  }

  const live = (p, sel) => waitFor(async () => (await p.page.locator(sel).getAttribute('data-state')) === 'live', { what: 'live' });

  before(async () => {
    stack = s.stack;
    lan = stack.createToken('dispatcher', { name: 'Chị Lan' });
    const minh = stack.createToken('dispatcher', { name: 'Anh Minh' });
    const wall = stack.createToken('wall', { name: 'Màn hình 1' });
    await stack.waitForToken(lan.token);
    await stack.waitForToken(minh.token);
    await stack.waitForToken(wall.token);
    a = await signedIn(lan.token, '/');
    b = await signedIn(minh.token, '/');
    w = await signedIn(wall.token, '/wall');
    wd = { context: w.context, page: await w.context.newPage(), rec: { errors: [] } };
    wd.page.on('console', (m) => m.type() === 'error' && wd.rec.errors.push(m.text()));
    await wd.page.setViewportSize({ width: 1920, height: 1080 });
    await wd.page.goto(s.url('/'));
  });

  s.step('no alerts yet: the bar says so, the alarm is quiet, the wall ticker says so', async () => {
    for (const p of [a, b, wd]) await live(p, '#conn');
    await live(w, '#w-conn');
    for (const p of [a, b]) {
      await waitFor(() => bar(p).isVisible(), { what: 'the alert bar' });
      assert.equal(await p.page.locator('#alerts-empty').innerText(), 'Không có cảnh báo nào.');
      assert.equal(await barAttr(p, 'sound'), 'off');
      assert.equal(await barAttr(p, 'count'), '0');
      assert.equal(await p.page.locator('#alerts-mute').isDisabled(), true);
    }
    await waitFor(() => ticker().isVisible(), { what: 'the ticker' });
    assert.equal(await ticker().getAttribute('data-state'), 'none');
    assert.match(await ticker().innerText(), /Không có cảnh báo/);
    for (const p of [a, b, w]) await s.noErrors(p.page, p.rec);
  });

  s.step('a diversion raises an alert on both dispatcher pages (within seconds: reported), sounding, announced', async (t) => {
    const t0 = Date.now();
    await ed('diversion');
    for (const p of [a, b]) {
      await waitFor(async () => (await row(p).count()) === 1, { timeout: LATE_MS, interval: 50, what: 'the alert row' });
    }
    latency(t, 'diversion to an alert on both pages', Date.now() - t0, 5000);
    for (const p of [a, b]) {
      assert.equal(await row(p).locator('.alert-text').innerText(), VI_TEXT);
      assert.match(await row(p).locator('.alert-since').innerText(), /^từ \d\d:\d\d( \d\d-\d\d)? \(/);
      assert.equal(await row(p).locator('.alert-state').innerText(), 'Chưa xác nhận');
      assert.equal(await row(p).getAttribute('data-ack'), 'no');
      assert.equal(await row(p).locator('.alert-mark').innerText(), '!');
      await waitFor(() => row(p).locator('button.alert-ack').isVisible(), { timeout: 3000, what: 'the acknowledge button' });
      assert.equal(await row(p).locator('button.alert-ack').innerText(), 'Xác nhận');
      assert.equal(await barAttr(p, 'sound'), 'on');
      const n = await beeps(p);
      assert.ok(n >= 1, `${n} beeps`);
      assert.match(await barAttr(p, 'audio'), /^(running|suspended)$/);
      assert.match(await p.page.locator('#alerts-sound').innerText(), /Chuông báo kêu mỗi 10 giây/);
      assert.equal(await p.page.locator('#alerts-count').innerText(), '1 đang có · 1 chưa xác nhận');
      await waitFor(async () => (await p.page.locator('#announcer').textContent()).includes(`Cảnh báo: ${VI_TEXT}.`),
        { timeout: 5000, what: 'the alert announced' });
    }
    // a wall account on the dispatcher view sees it, without a button
    await waitFor(async () => (await row(wd).count()) === 1, { timeout: 5000, what: 'the alert for a wall account' });
    // once the page knows who it is (the bar's data-role), it shows or hides the button
    await waitFor(async () => (await barAttr(wd, 'role')) === 'wall', { timeout: 5000, what: 'the role applied' });
    assert.equal(await row(wd).locator('button.alert-ack').isVisible(), false);
    assert.equal(await row(wd).locator('.alert-state').innerText(), 'Chưa xác nhận');
    // the wall's ticker
    await waitFor(async () => (await ticker().getAttribute('data-state')) === 'new', { timeout: 5000, what: 'the ticker' });
    assert.equal(await w.page.locator('#w-ticker-item .w-tk-text').innerText(), VI_TEXT);
    assert.equal(await w.page.locator('#w-ticker-item').getAttribute('data-id'), ID);
    for (const p of [a, b, w]) await s.noErrors(p.page, p.rec);
  });

  s.step('screenshots: dispatcher-alert.png and wall-alert.png (1920x1080), AA contrast', async () => {
    await screenshot(a.page, 'dispatcher-alert.png');
    await screenshot(w.page, 'wall-alert.png');
    assert.deepEqual(await contrastProblems(a.page, { skip: ['.hm.is-out'] }), []);
    assert.deepEqual(await contrastProblems(w.page), []);
    const size = await w.page.locator('.w-tk-text').evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    assert.ok(size >= 30, `ticker text ${size}px at 1080p`);
    const over = await w.page.evaluate(() => document.documentElement.scrollHeight > window.innerHeight + 1);
    assert.equal(over, false, 'the wall still fits the screen');
  });

  s.step('the alarm repeats; muting one page stops its alarm only', async () => {
    await waitFor(async () => (await beeps(a)) >= 2 && (await beeps(b)) >= 2, { timeout: 13000, interval: 200, what: 'a second beep' });
    await b.page.locator('#alerts-mute').click();
    assert.equal(await barAttr(b, 'sound'), 'muted');
    assert.equal(await b.page.locator('#alerts-mute').getAttribute('aria-pressed'), 'true');
    assert.equal(await b.page.locator('#alerts-mute').innerText(), 'Bật chuông');
    assert.match(await b.page.locator('#alerts-sound').innerText(), /Đã tắt chuông/);
    const muted = await beeps(b);
    const before = await beeps(a);
    await waitFor(async () => (await beeps(a)) > before, { timeout: 13000, interval: 200, what: 'page A beeping on' });
    assert.equal(await beeps(b), muted, 'the muted page stays silent');
    for (const p of [a, b]) await s.noErrors(p.page, p.rec);
  });

  s.step('acknowledging on page A shows who and when on page B too and stops the alarm on both', async () => {
    await row(a).locator('button.alert-ack').click();
    for (const p of [a, b, wd]) {
      await waitFor(async () => (await row(p).getAttribute('data-ack')) === 'yes', { timeout: 3000, interval: 50, what: 'acknowledged' });
    }
    const list = (await stack.call('GET', '/api/v1/alerts', { token: lan.token })).json;
    const { ack } = list.alerts.find((x) => x.id === ID);
    assert.equal(ack.name, 'Chị Lan');
    for (const p of [a, b, wd]) {
      assert.equal(await row(p).locator('.alert-state').innerText(), `Đã xác nhận: Chị Lan lúc ${hanoiTime(ack.at)}`);
      assert.equal(await row(p).locator('.alert-mark').innerText(), '✓');
      assert.equal(await row(p).locator('button.alert-ack').isVisible(), false);
      assert.equal(await barAttr(p, 'sound'), 'off');
    }
    assert.match(await b.page.locator('#alerts-sound').innerText(), /Chuông im/);
    await waitFor(async () => (await b.page.locator('#announcer').textContent()).includes('Chị Lan đã xác nhận cảnh báo'),
      { timeout: 5000, what: 'the acknowledgement announced' });
    beepsAfterAck = [await beeps(a), await beeps(b)];
    await waitFor(async () => (await ticker().getAttribute('data-state')) === 'acked', { timeout: 3000, what: 'the ticker acknowledged' });
    assert.match(await ticker().innerText(), /đã xác nhận/);
    for (const p of [a, b, w]) await s.noErrors(p.page, p.rec);
  });

  s.step('the language toggle changes the alert words', async () => {
    await a.page.locator('#lang-toggle').click();
    await waitFor(async () => (await row(a).locator('.alert-text').innerText()) === EN_TEXT, { timeout: 3000, what: 'English' });
    // a time of another Hanoi day carries its day (an alert raised at 23:59
    // read at 00:00: "since 02/12, 23:59 (just now)")
    assert.match(await row(a).locator('.alert-state').innerText(), /^Acknowledged by Chị Lan at (\d\d\/\d\d, )?\d\d:\d\d$/);
    assert.match(await row(a).locator('.alert-since').innerText(), /^since (\d\d\/\d\d, )?\d\d:\d\d \(/);
    assert.equal(await a.page.locator('#alerts-title').innerText(), 'ALERTS');
    assert.match(await a.page.locator('#alerts-sound').innerText(), /Alarm quiet/);
    await a.page.locator('#lang-toggle').click();
    await waitFor(async () => (await row(a).locator('.alert-text').innerText()) === VI_TEXT, { timeout: 3000, what: 'Vietnamese' });
  });

  s.step('the end of the diversion clears the alert everywhere; the alarm stayed off', async () => {
    await ed('normal');
    for (const p of [a, b, wd]) {
      await waitFor(async () => (await row(p).count()) === 0, { timeout: 5000, interval: 50, what: 'the alert gone' });
      assert.equal(await p.page.locator('#alerts-empty').isVisible(), true);
      assert.equal(await barAttr(p, 'count'), '0');
    }
    await waitFor(async () => (await ticker().getAttribute('data-state')) === 'none', { timeout: 5000, what: 'the ticker empty' });
    assert.match(await ticker().innerText(), /Không có cảnh báo/);
    await waitFor(async () => (await a.page.locator('#announcer').textContent()).includes(`Hết cảnh báo: ${VI_TEXT}.`),
      { timeout: 5000, what: 'the end announced' });
    assert.deepEqual([await beeps(a), await beeps(b)], beepsAfterAck, 'no beep after the acknowledgement');
    for (const p of [a, b, w]) await s.noErrors(p.page, p.rec);
    assert.deepEqual(wd.rec.errors, []);
  });

  const rows = (p) => p.page.locator('#alerts-list > li.alert');
  const beds = (hospital, pct, edStatus) => s.beds(hospital, isoNow(), Object.assign(
    { beds: { medical_surgical: { staffed: 100, occupied: pct } } },
    edStatus ? { ed: edStatus === 'normal' ? { status: 'normal' } : { status: edStatus, reason: 'Quá tải', until: isoNow(3600e3) } } : {},
  ));

  s.step('two diversions together are one alert with the list inside, critical, on every page', async () => {
    await s.sendAll([beds('bach-mai', 50, 'diversion'), beds('viet-duc', 50, 'diversion')]);
    for (const p of [a, b]) {
      await waitFor(async () => (await rows(p).count()) === 1 && (await rows(p).first().locator('.alert-text').innerText()) === '2 khoa cấp cứu chuyển hướng hoặc tạm đóng',
        { what: 'one grouped alert' });
      const row = rows(p).first();
      assert.equal(await row.getAttribute('data-rule'), 'diversion');
      assert.equal(await row.getAttribute('data-severity'), 'critical');
      assert.equal((await row.locator('.alert-sev').innerText()).toLowerCase(), 'khẩn');
      assert.equal(await barAttr(p, 'count'), '1');
      assert.equal(await barAttr(p, 'tone'), 'critical');
      assert.equal(await barAttr(p, 'sound'), 'on');
      assert.match(await p.page.locator('#alerts-sound').innerText(), /mỗi 10 giây/);
      // the list, on demand
      const more = row.locator('button.alert-more');
      assert.equal(await more.innerText(), 'Xem danh sách (2)');
      assert.equal(await row.locator('.alert-members').isVisible(), false);
      await more.click();
      await waitFor(() => row.locator('.alert-members').isVisible(), { what: 'the list' });
      assert.equal(await more.getAttribute('aria-expanded'), 'true');
      const members = await row.locator('.alert-member').allInnerTexts();
      assert.deepEqual(members.sort(), ['Bệnh viện Bạch Mai: cấp cứu đang chuyển hướng', 'Bệnh viện Hữu nghị Việt Đức: cấp cứu đang chuyển hướng'].sort());
    }
    await waitFor(async () => (await w.page.locator('#w-ticker-item .w-tk-text').innerText()) === '2 khoa cấp cứu chuyển hướng hoặc tạm đóng',
      { what: 'the group on the wall' });
    await screenshot(a.page, 'dispatcher-alert-group.png');
    assert.deepEqual(await contrastProblems(a.page, { skip: ['.hm.is-out'] }), []);
    // in English too, the list included
    await a.page.locator('#lang-toggle').click();
    await waitFor(async () => (await rows(a).first().locator('.alert-text').innerText()) === '2 emergency departments on diversion or closed', { what: 'English' });
    assert.match((await rows(a).first().locator('.alert-member').allInnerTexts()).join('|'), /Bach Mai Hospital: emergency department on diversion/);
    await a.page.locator('#lang-toggle').click();
    for (const p of [a, b, w]) await s.noErrors(p.page, p.rec);
  });

  s.step('a dispatcher mutes the rule for 30 minutes: every console shows who and until when, the alarm stops; Unmute', async () => {
    const before = Number(await barAttr(b, 'beeps'));
    const mutedFrom = Date.now();
    await rows(a).first().locator('select.alert-mute-rule').selectOption('30');
    for (const p of [a, b]) {
      await waitFor(() => p.page.locator('#alerts-mutes li[data-rule="diversion"]').isVisible(), { what: 'the mute shown' });
      // until 30 min after the click, with its date when that is tomorrow
      // (from 23:30 in Hanoi)
      const now = Date.now();
      const untils = shortDateTimes([mutedFrom + 30 * 60e3, now + 30 * 60e3], [mutedFrom, now]);
      const muted = await p.page.locator('#alerts-mutes li[data-rule="diversion"]').innerText();
      assert.ok(untils.some((u) => muted.startsWith(`Chuông “Cấp cứu chuyển hướng” đã tắt đến ${u} (Chị Lan)`)), `${muted}: until ${untils.join(' or ')}`);
      await waitFor(async () => (await barAttr(p, 'sound')) === 'off', { what: 'the alarm off' });
      assert.equal(await rows(p).first().getAttribute('data-muted'), 'yes');
      assert.equal(await rows(p).first().locator('.alert-state').innerText(), 'Đã tắt chuông');
      assert.equal(await rows(p).first().getAttribute('data-ack'), 'no', 'still not acknowledged');
    }
    await waitFor(async () => (await ticker().getAttribute('data-state')) === 'muted', { what: 'the wall says so' });
    assert.match(await ticker().innerText(), /đã tắt chuông/);
    const list = (await stack.call('GET', '/api/v1/alerts', { token: lan.token })).json;
    assert.equal(list.mutes[0].name, 'Chị Lan');
    assert.match(stack.redis('XREVRANGE', `${stack.prefix}audit`, '+', '-', 'COUNT', '3'), /alert_rule[\s\S]*diversion[\s\S]*mute/);
    const muted = Number(await barAttr(b, 'beeps'));
    assert.ok(muted >= before);
    // Unmute from the other console: sounding again everywhere
    await b.page.locator('#alerts-mutes button.alerts-unmute-rule').click();
    for (const p of [a, b]) {
      await waitFor(async () => (await p.page.locator('#alerts-mutes').isVisible()) === false, { what: 'the mute gone' });
      await waitFor(async () => (await barAttr(p, 'sound')) === 'on', { what: 'sounding again' });
    }
    await waitFor(async () => (await ticker().getAttribute('data-state')) === 'new', { what: 'the wall too' });
    for (const p of [a, b, w]) await s.noErrors(p.page, p.rec);
  });

  s.step('acknowledged, then a level 4 hospital is a warning: its alarm repeats every 30 s', async () => {
    await rows(a).first().locator('button.alert-ack').click();
    await waitFor(async () => (await barAttr(b, 'sound')) === 'off', { what: 'quiet after the acknowledgement' });
    await s.send(beds('thanh-nhan', 130));
    for (const p of [a, b]) {
      await waitFor(async () => (await barAttr(p, 'tone')) === 'warning', { what: 'a warning' });
      const row = p.page.locator('#alerts-list > li.alert[data-rule="level4"]');
      assert.equal(await row.getAttribute('data-severity'), 'warning');
      assert.equal((await row.locator('.alert-sev').innerText()).toLowerCase(), 'cảnh báo');
      assert.match(await p.page.locator('#alerts-sound').innerText(), /mỗi 30 giây/);
    }
    await s.sendAll([beds('thanh-nhan', 50), beds('bach-mai', 50, 'normal'), beds('viet-duc', 50, 'normal')]);
    for (const p of [a, b]) await waitFor(async () => (await rows(p).count()) === 0, { what: 'all clear' });
    for (const p of [a, b, w]) await s.noErrors(p.page, p.rec);
  });
});
