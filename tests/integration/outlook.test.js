'use strict';
// The 24-hour outlook (issue 15, part 4): GET /api/v1/outlook[?hospital=]
// from the trend history a server holds. Three weeks of hourly history are
// written in the stored format before the server starts (tests/lib/
// bed_history.js); the current figures come through the real feed, and the
// server's own sample of them is the hour the forecast starts from.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Stack, waitFor, bedsMsg, isoNow } = require('../lib/stack');
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
    await stack.startCollector();
    feed = await stack.feed();
    const now = Date.now();
    const sent = await feed.sendMany([
      bedsMsg({ source: 'ol', seq: 1, at: isoNow(), beds: bachMai(now) }),
      bedsMsg({ source: 'ol', seq: 2, at: isoNow(), hospital: 'viet-duc', beds: { icu_adult: { staffed: 20, occupied: 10 } } }),
    ]);
    assert.deepEqual(sent.map((r) => r.ok), [true, true], JSON.stringify(sent));
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
    const r = await waitFor(async () => {
      const x = await outlook();
      return x.status === 200 && x.json.beds.icu_adult && x.json.beds.icu_adult.status === 'ok' && x;
    }, { ...WAIT, what: "the city's outlook" });
    assert.equal(r.json.series, 'city');
    assert.equal(r.json.beds.icu_adult.staffed, 60);
    assert.ok(Array.isArray(r.json.full_soon));
    for (const f of r.json.full_soon) assert.ok(f.hours >= 1 && f.hours <= 24 && typeof f.hospital === 'string');
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
