'use strict';
// The 24-hour outlook (issue 15, part 4): GET /api/v1/outlook[?hospital=]
// from the trend history a server holds. Three weeks of hourly history are
// written in the stored format before the server starts (tests/lib/
// bed_history.js); the current figures come through the real feed, and the
// server's own sample of them is the hour the forecast starts from.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT } = require('../lib/stack');
const { Stack, waitFor, notYet, bedsMsg, isoNow } = require('../lib/stack');
const { HOUR, dailyBeds, seedBeds } = require('../lib/bed_history');

const WAIT = { timeout: 30000 };
// the seeded rhythm without its wobble: what the outlook should find
const icuShape = (t) => 30 + 6 * Math.sin(((Math.floor(t / HOUR + 7) % 24 - 14) / 24) * 2 * Math.PI);

describe('24-hour outlook', () => {
  const stack = new Stack({ env: { BP_HISTORY_INTERVAL_S: '3600', BP_HISTORY_RETENTION_H: '720' } });
  let feed;
  before(stack.guard(async () => {
    await stack.startRedis();
    const end = Math.floor(Date.now() / HOUR) * HOUR; // the server samples this hour itself
    const bachMai = (t) => ({
      icu_adult: { staffed: 40, occupied: dailyBeds(t, 30, 6) },
      medical_surgical: { staffed: 1500, occupied: dailyBeds(t, 1400, 60) },
      emergency: { staffed: 90, occupied: dailyBeds(t, 100, 25) },
    });
    seedBeds(stack, `${stack.prefix}hist:h:bach-mai`, { endMs: end, hours: 21 * 24, beds: bachMai });
    seedBeds(stack, `${stack.prefix}hist:city`, {
      endMs: end,
      hours: 21 * 24,
      beds: (t) => {
        const b = bachMai(t);
        b.icu_adult = { staffed: 60, occupied: b.icu_adult.occupied + 10 };
        return b;
      },
    });
    // a hospital with ten hours of history only
    seedBeds(stack, `${stack.prefix}hist:h:viet-duc`, { endMs: end, hours: 10, beds: () => ({ icu_adult: { staffed: 20, occupied: 10 } }) });
    // two adult ICUs at the bottom of their day now (6 occupied), 22 twelve
    // hours on: full within the day with 20 staffed beds, never with 30
    const wave = (t) => Math.round(14 - 8 * Math.cos((2 * Math.PI * (t - end)) / (24 * HOUR)));
    seedBeds(stack, `${stack.prefix}hist:h:benh-vien-108`, { endMs: end, hours: 21 * 24, beds: (t) => ({ icu_adult: { staffed: 20, occupied: wave(t) } }) });
    seedBeds(stack, `${stack.prefix}hist:h:benh-vien-e`, { endMs: end, hours: 21 * 24, beds: (t) => ({ icu_adult: { staffed: 30, occupied: wave(t) } }) });
    // "expected full within 24 hours" raises full_soon whatever the hour
    const dispatch = JSON.parse(fs.readFileSync(path.join(ROOT, 'config', 'dispatch.json'), 'utf8'));
    dispatch.alerts.full_within_h = 24;
    stack.opts.env.BP_CONFIG_DISPATCH = path.join(stack.dir, 'dispatch.json');
    fs.writeFileSync(stack.opts.env.BP_CONFIG_DISPATCH, JSON.stringify(dispatch));
    await stack.startCollector();
    feed = await stack.feed();
    const now = Date.now();
    const sent = await feed.sendMany([
      bedsMsg({ source: 'ol', seq: 1, at: isoNow(), beds: bachMai(now) }),
      bedsMsg({ source: 'ol', seq: 2, at: isoNow(), hospital: 'viet-duc', beds: { icu_adult: { staffed: 20, occupied: 10 } } }),
      bedsMsg({ source: 'ol', seq: 3, at: isoNow(), hospital: 'benh-vien-108', beds: { icu_adult: { staffed: 20, occupied: 6 } } }),
      bedsMsg({ source: 'ol', seq: 4, at: isoNow(), hospital: 'benh-vien-e', beds: { icu_adult: { staffed: 30, occupied: 6 } } }),
    ]);
    assert.deepEqual(sent.map((r) => r.ok), [true, true, true, true], JSON.stringify(sent));
    await stack.startServer();
  }));
  after(async () => {
    if (feed) feed.destroy();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });

  const outlook = async (q = '') => stack.get(`/api/v1/outlook${q}`);

  test('a hospital: 24 hourly points per bed type, on its daily rhythm, inside a band', stack.guard(async () => {
    const r = await waitFor(async () => {
      const x = await outlook('?hospital=bach-mai');
      return x.status === 200 && x.json.beds.icu_adult && x.json.beds.icu_adult.status === 'ok' && x;
    }, { ...WAIT, what: 'an outlook for bach-mai' });
    const o = r.json;
    assert.equal(o.series, 'bach-mai');
    assert.equal(o.horizon_h, 24);
    assert.equal(o.interval, 80);
    const asOf = Date.parse(o.as_of);
    assert.ok(Number.isFinite(asOf) && Number.isFinite(Date.parse(o.generated)), JSON.stringify(o).slice(0, 200));
    for (const type of ['icu_adult', 'medical_surgical', 'emergency']) {
      const b = o.beds[type];
      assert.equal(b.status, 'ok', type);
      assert.equal(b.weekly, true, `${type}: three weeks give the hour-of-week profile`);
      assert.equal(b.points.length, 24);
      b.points.forEach((p, i) => {
        assert.equal(Date.parse(p.t), asOf + (i + 1) * HOUR, `${type} point ${i}`);
        assert.ok(p.lower <= p.mean && p.mean <= p.upper && p.lower >= 0, JSON.stringify(p));
      });
    }
    // the rhythm is recovered: each hour within 3 beds of it
    const icu = o.beds.icu_adult;
    assert.equal(icu.staffed, 40);
    for (const p of icu.points) {
      const want = icuShape(Date.parse(p.t));
      assert.ok(Math.abs(p.mean - want) <= 3, `${p.t}: ${p.mean} vs ${want.toFixed(1)}`);
      assert.ok(p.upper <= 40, 'clipped to the staffed beds');
    }
    // the forecast moves with the day: not a flat line
    const means = icu.points.map((p) => p.mean);
    assert.ok(Math.max(...means) - Math.min(...means) > 6, JSON.stringify(means));
  }));

  test('too little history: said so, no made-up line', stack.guard(async () => {
    const r = await waitFor(async () => {
      const x = await outlook('?hospital=viet-duc');
      return x.status === 200 && x.json.beds.icu_adult && x;
    }, { ...WAIT, what: 'an outlook answer for viet-duc' });
    const icu = r.json.beds.icu_adult;
    assert.equal(icu.status, 'insufficient_history');
    assert.ok(icu.hours_known >= 1 && icu.hours_known <= 12, JSON.stringify(icu));
    assert.equal(icu.hours_needed, 36);
    assert.equal(icu.points, undefined);
  }));

  test('the city, and the hospitals expected full', stack.guard(async () => {
    // once the server's own sample of this hour is in: the four ICUs reporting now
    const r = await waitFor(async () => {
      const x = await outlook();
      const icu = x.status === 200 && x.json.beds.icu_adult;
      return (icu && icu.status === 'ok' && icu.staffed === 40 + 20 + 20 + 30 && x) || notYet(icu);
    }, { ...WAIT, what: "the city's outlook from the server's own sample" });
    assert.equal(r.json.series, 'city');
    assert.ok(Array.isArray(r.json.full_soon));
    for (const f of r.json.full_soon) assert.ok(f.hours >= 1 && f.hours <= 24 && typeof f.hospital === 'string');
  }));

  test('"expected full within N hours": raised for the ICU that will fill, not for the one with room', stack.guard(async () => {
    const a = await waitFor(async () => {
      const x = (await stack.get('/api/v1/alerts')).json;
      return x.alerts.find((al) => al.id === 'full_soon:benh-vien-108') || notYet(x.alerts.map((al) => al.id));
    }, { ...WAIT, what: 'the full_soon alert' });
    assert.equal(a.rule, 'full_soon');
    assert.equal(a.severity, 'notice');
    assert.ok(a.value >= 1 && a.value <= 24, JSON.stringify(a));
    assert.match(a.text.en, /: expected full within \d+ h$/);
    assert.match(a.text.vi, /: dự kiến hết giường trong \d+ giờ$/);
    // the outlook says so too (the alert keeps the hours of when it was raised)
    const o = (await outlook('?hospital=benh-vien-108')).json.beds.icu_adult;
    assert.ok(o.full_within_h >= 1 && o.full_within_h <= 24, JSON.stringify(o).slice(0, 200));
    const room = (await outlook('?hospital=benh-vien-e')).json.beds.icu_adult;
    assert.equal(room.status, 'ok');
    assert.equal(room.full_within_h, null);
    const ids = (await stack.get('/api/v1/alerts')).json.alerts.map((al) => al.id);
    assert.ok(!ids.includes('full_soon:benh-vien-e'), ids.join());
    const city = (await outlook()).json;
    assert.deepEqual(city.full_soon.map((f) => f.hospital), ['benh-vien-108']);
  }));

  test('an unknown hospital is refused naming the parameter', stack.guard(async () => {
    for (const q of ['?hospital=nope', '?hospital=..%2F..', '?hospital=']) {
      const r = await outlook(q);
      assert.equal(r.status, 404, q);
      assert.equal(r.json.error, 'unknown_hospital', q);
      assert.match(r.json.message, /^hospital must be the id of a hospital/);
    }
    const long = await outlook(`?hospital=${'a'.repeat(200)}`);
    assert.equal(long.status, 400);
  }));
});
