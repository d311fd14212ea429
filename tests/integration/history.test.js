'use strict';
// Trend history (issue 4): servers sample the city and every hospital once
// per interval into Redis, one point per interval whoever runs, and answer
// GET /api/v1/history from memory; a restarted server has its history back.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Stack, waitFor, bedsMsg } = require('../lib/stack');

const WAIT = { timeout: 20000 };

describe('trend history', () => {
  const stack = new Stack({ env: { BP_HISTORY_INTERVAL_S: '1', BP_HISTORY_RETENTION_H: '2' } });
  let second;
  let feed;
  before(stack.guard(async () => {
    await stack.start();
    second = await stack.startServer({}, 'second');
    feed = await stack.feed();
  }));
  after(async () => {
    if (feed) feed.destroy();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });
  const history = async (q, port) => (await stack.get(`/api/v1/history?${q}`, port)).json;

  test('one point per interval in Redis, the same on every server, with the figures of the time', stack.guard(async () => {
    let seq = 0;
    await feed.send(bedsMsg({ source: 'hist', seq: ++seq, beds: { icu_adult: { staffed: 10, occupied: 4 } } }));
    await waitFor(async () => (await history('series=bach-mai&hours=1')).points.some((p) => p.icu_adult_available === 6),
      { ...WAIT, what: 'a sample with 6 adult ICU free' });
    await feed.send(bedsMsg({ source: 'hist', seq: ++seq, beds: { icu_adult: { occupied: 9 } } }));
    await waitFor(async () => (await history('series=bach-mai&hours=1')).points.some((p) => p.icu_adult_available === 1),
      { ...WAIT, what: 'a later sample with 1 free' });
    const h = await history('series=bach-mai&hours=1');
    assert.equal(h.series, 'bach-mai');
    assert.equal(h.interval_s, 1);
    const ts = h.points.map((p) => Date.parse(p.t));
    assert.deepEqual(ts, [...ts].sort((a, b) => a - b), 'oldest first');
    assert.equal(new Set(ts).size, ts.length, 'one point per time');
    // the change shows in order: 6 free before 1 free
    const i6 = h.points.findIndex((p) => p.icu_adult_available === 6);
    const i1 = h.points.findIndex((p) => p.icu_adult_available === 1);
    assert.ok(i6 >= 0 && i1 > i6, `6 free at point ${i6}, 1 free at point ${i1}`);
    // two servers, one writer per interval: Redis holds one point per time
    const members = stack.redis('ZRANGE', 'bp:hist:city', '0', '-1', 'WITHSCORES').split('\n');
    const scores = members.filter((_, k) => k % 2 === 1);
    assert.equal(new Set(scores).size, scores.length, 'no interval sampled twice');
    // both servers answer the same points (the second may be a refresh behind)
    await waitFor(async () => {
      const a = await history('series=city&hours=1');
      const b = await history('series=city&hours=1', second);
      return JSON.stringify(a.points.slice(0, -1)) === JSON.stringify(b.points.slice(0, -1)) && a.points.length >= 2;
    }, { ...WAIT, what: 'both servers to hold the same city points' });
    const city = await history('series=city&hours=1');
    const last = city.points.at(-1);
    for (const k of ['occupancy_pct', 'occupied', 'staffed', 'icu_adult_available', 'diversions', 'level4', 'reporting']) {
      assert.ok(k in last, k);
    }
    assert.ok(last.reporting >= 1, JSON.stringify(last));
  }));

  test('bad requests are refused with the rule', stack.guard(async () => {
    let r = await stack.get('/api/v1/history?series=nope&hours=1');
    assert.equal(r.status, 404);
    assert.equal(r.json.error, 'unknown_series');
    for (const hours of ['0', '3', 'x', '-1', '1e1']) {
      r = await stack.get(`/api/v1/history?series=city&hours=${hours}`);
      assert.equal(r.status, 400, hours);
      assert.match(r.json.message, /hours must be an integer from 1 to 2/);
    }
    r = await stack.get('/api/v1/history?series=city');
    assert.equal(r.status, 200, 'hours defaults to what retention allows');
  }));

  test('a restarted server has the history back from Redis', stack.guard(async () => {
    const before = (await history('series=city&hours=1')).points.length;
    assert.ok(before >= 2, `${before} points`);
    await stack.stopProc('server');
    await stack.startServer();
    const after = await waitFor(async () => {
      const h = await history('series=city&hours=1');
      return h.points.length >= before ? h : null;
    }, { ...WAIT, what: 'the history after the restart' });
    assert.ok(after.points.length >= before, `${after.points.length} points, ${before} before`);
  }));
});
