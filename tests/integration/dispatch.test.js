'use strict';
// 115 dispatch against the real stack: GET /api/v1/recommend ranks hospitals
// from the live figures, and ambulances transporting to a hospital (inbound
// load) change the order.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Stack, waitFor, bedsMsg, ambulanceMsg } = require('../lib/stack');

const BACH_MAI = { lat: 21.001, lon: 105.8407 };

describe('where do I send this patient', () => {
  const stack = new Stack();
  let feed;
  let seq = 1;
  before(async () => {
    await stack.start();
    feed = await stack.feed();
  });
  after(async () => {
    if (feed) feed.close();
    await stack.stop();
  });

  const recommend = (q) => stack.get(`/api/v1/recommend?${new URLSearchParams(q)}`);

  test('the top hospital has room; inbound ambulances take it away', stack.guard(async () => {
    // Bach Mai's adult ICU is full; Lao khoa, 300 m away with a stroke unit, has 2 free
    for (const [hospital, beds] of [['bach-mai', { icu_adult: { staffed: 75, occupied: 75, surge24: 0 } }],
      ['lao-khoa-trung-uong', { icu_adult: { staffed: 10, occupied: 8, surge24: 0 } }]]) {
      const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital, beds }));
      assert.equal(r.ok, true, JSON.stringify(r));
    }
    await waitFor(async () => (await stack.get('/api/v1/hospitals/lao-khoa-trung-uong')).json.version >= 1);
    const q = { ...BACH_MAI, category: 'stroke', priority: 1, limit: 10 };
    const r1 = await recommend(q);
    assert.equal(r1.status, 200, r1.body);
    assert.deepEqual(r1.json.query.bed_types, ['icu_adult', 'medical_surgical']);
    assert.ok(r1.json.query.specialties.includes('stroke'));
    const top = r1.json.candidates[0];
    assert.equal(top.hospital, 'lao-khoa-trung-uong');
    assert.equal(top.free, 2);
    assert.equal(top.inbound, 0);
    assert.equal(top.rank, 1);
    assert.match(top.reason.en, new RegExp(`^${Math.ceil(top.eta_min)} min · 2 adult ICU free · stroke unit`));
    assert.match(top.reason.vi, /HSTC người lớn trống/);
    const bm = r1.json.candidates.find((c) => c.hospital === 'bach-mai');
    assert.ok(!bm || bm.free <= 0);
    // scores only grow down the list
    const scores = r1.json.candidates.map((c) => c.score);
    assert.deepEqual([...scores].sort((a, b) => a - b), scores);

    // two ambulances on their way to Lao khoa take its two beds
    for (const id of ['115-HK-01', '115-HK-02']) {
      const a = await feed.send(ambulanceMsg({ source: 'avl', seq: seq++, id, status: 'transporting', lat: 21.02, lon: 105.85, destination: 'lao-khoa-trung-uong' }));
      assert.equal(a.ok, true, JSON.stringify(a));
    }
    const r2 = await waitFor(async () => {
      const r = await recommend(q);
      return r.json.candidates[0].hospital !== 'lao-khoa-trung-uong' && r;
    }, { what: 'the order to change' });
    const lk = r2.json.candidates.find((c) => c.hospital === 'lao-khoa-trung-uong');
    assert.ok(lk, 'still listed, lower');
    assert.equal(lk.inbound, 2);
    assert.equal(lk.free, 0);
    assert.match(lk.reason.en, /no adult ICU free, 2 inbound/);
  }));

  test('handover: inbound, at the door, and the median of finished handovers', stack.guard(async () => {
    const ago = (min) => new Date(Date.now() - min * 60e3).toISOString();
    const amb = async (id, status, at, extra = {}) => {
      const r = await feed.send(ambulanceMsg(Object.assign({ source: 'avl', seq: seq++, id, status, at }, extra)));
      assert.equal(r.ok, true, JSON.stringify(r));
    };
    // HK-05: at Viet Duc's door for 35 min, then free again: one handover
    await amb('115-HK-05', 'transporting', ago(45), { destination: 'viet-duc', lat: 21.02, lon: 105.84 });
    await amb('115-HK-05', 'at_hospital', ago(40));
    await amb('115-HK-05', 'available_radio', ago(5));
    // HK-06 has waited 10 min so far; HK-07 is on its way
    await amb('115-HK-06', 'transporting', ago(15), { destination: 'viet-duc', lat: 21.02, lon: 105.84 });
    await amb('115-HK-06', 'at_hospital', ago(10));
    await amb('115-HK-07', 'transporting', ago(2), { destination: 'viet-duc', lat: 21.03, lon: 105.84 });
    const vd = await waitFor(async () => {
      const r = await stack.get('/api/v1/handover');
      const h = r.json.hospitals.find((x) => x.id === 'viet-duc');
      return h.inbound === 1 && h.waiting === 1 && h.handovers === 1 && h;
    }, { what: 'handover figures of viet-duc' });
    assert.equal(vd.median_min, 35);
    assert.ok(vd.longest_wait_min >= 10 && vd.longest_wait_min < 11, JSON.stringify(vd));
    assert.equal(vd.offload, 'delayed', 'a 35 min median is over the 30 min threshold');
    const bm = (await stack.get('/api/v1/handover')).json.hospitals.find((x) => x.id === 'bach-mai');
    assert.deepEqual([bm.waiting, bm.handovers, bm.median_min, bm.offload], [0, 0, null, 'normal']);
    // a restarted server knows who is waiting (from the state), not the past handovers
    await stack.stopProc('server');
    await stack.startServer();
    const after = (await stack.get('/api/v1/handover')).json.hospitals.find((x) => x.id === 'viet-duc');
    assert.deepEqual([after.inbound, after.waiting], [1, 1]);
    assert.ok(after.longest_wait_min >= 10);
  }));

  test('bad questions get 400 naming the argument; only dispatchers may ask', stack.guard(async () => {
    for (const [q, word] of [[{ lon: 105.8 }, 'lat'], [{ lat: 91, lon: 105.8 }, 'lat'], [{ lat: 21, lon: 'x' }, 'lon'],
      [{ lat: 21, lon: 105.8, category: 'flu' }, 'category'], [{ lat: 21, lon: 105.8, priority: 4 }, 'priority'],
      [{ lat: 21, lon: 105.8, limit: 0 }, 'limit'], [{ lat: 21, lon: 105.8, priority: 1.5 }, 'priority']]) {
      const r = await recommend(q);
      assert.equal(r.status, 400, JSON.stringify(q));
      assert.match(r.json.message, new RegExp(word));
    }
    const wall = stack.createToken('wall');
    await stack.waitForToken(wall.token);
    const r = await stack.call('GET', `/api/v1/recommend?lat=21&lon=105.8`, { token: wall.token });
    assert.equal(r.status, 403);
    assert.equal((await stack.call('GET', '/api/v1/handover', { token: wall.token })).status, 403);
  }));
});
