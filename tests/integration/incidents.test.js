'use strict';
// 115 incidents against the real stack: CAD lines into the collector, the
// live feed per audience (dispatchers see incidents; wall displays and
// managers get offset markers only), GET /api/v1/incidents with the top
// destinations, the rules that need the stored state (exists, unknown,
// the bound), fleet rights for feed tokens, a server restart, two servers.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Stack, FeedClient, waitFor, notYet, bedsMsg, incidentMsg } = require('../lib/stack');

const WAIT = { timeout: 5000, interval: 20 };
const MAX_OPEN = 6;
// next to Lao khoa trung uong (a stroke unit), 300 m from Bach Mai
const NEAR_LAO_KHOA = { lat: 21.0038, lon: 105.8392 };

describe('incidents from the CAD gateway', () => {
  const stack = new Stack({ env: { BP_AUTH_ANONYMOUS: 'none', BP_STREAM_MAX_OPEN_INCIDENTS: String(MAX_OPEN) } });
  const t = {};
  const live = [];
  let feed;
  let seq = 1;

  before(async () => {
    await stack.start();
    t.dispatcher = stack.createToken('dispatcher');
    t.wall = stack.createToken('wall');
    t.manager = stack.createToken('manager', { hospitals: 'bach-mai' });
    t.cad = stack.createToken('feed', { fleet: true, name: 'CAD gateway' });
    t.his = stack.createToken('feed', { hospitals: 'bach-mai', name: 'HIS without fleet rights' });
    // the servers reload the whole table at once: the last token created
    // known means every one is
    await stack.waitForToken(t.his.token);
    await stack.waitForFeedToken(t.his.token);
    feed = await stack.feed(); // anonymous loopback feed, as today
    // the situation: Bach Mai's adult ICU is full, Lao khoa next door has room
    for (const [hospital, beds] of [['bach-mai', { icu_adult: { staffed: 75, occupied: 75, surge24: 0 } }],
      ['lao-khoa-trung-uong', { icu_adult: { staffed: 10, occupied: 6, surge24: 0 } }]]) {
      const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital, beds }));
      assert.equal(r.ok, true, JSON.stringify(r));
    }
  });
  after(async () => {
    for (const c of live) c.close();
    if (feed) feed.close();
    await stack.stop();
  });

  const as = (who, port) => Object.assign({ token: t[who].token }, port ? { port } : {});
  const get = (p, who = 'dispatcher', port) => stack.call('GET', p, as(who, port));
  const connect = async (who, port = stack.serverPort) => {
    const c = await stack.live({ type: 'hello', token: t[who].token }, port);
    live.push(c);
    await c.waitFor((x) => x.snapshot, { ...WAIT, what: `${who} snapshot` });
    return c;
  };
  const send = async (fields, via = feed) => via.send(incidentMsg(Object.assign({ source: 'cad-115', seq: seq++ }, fields)));
  const ok = async (fields, via) => {
    const r = await send(fields, via);
    assert.equal(r.ok, true, JSON.stringify(r));
    return r;
  };
  const create = (id, more = {}) => ok({ id, action: 'create', priority: 1, category: 'stroke', ...NEAR_LAO_KHOA, ...more });
  const offset = () => Number(stack.redis('GET', 'bp:offset'));
  const openIds = async (port) => (await get('/api/v1/incidents', 'dispatcher', port)).json.map((i) => i.id);

  test('an incident reaches dispatchers, with the best destination; wall and managers see only offsets', stack.guard(async () => {
    const dispatcher = await connect('dispatcher');
    const wall = await connect('wall');
    const manager = await connect('manager');
    assert.deepEqual(dispatcher.snapshot.incidents, []);
    assert.equal('incidents' in wall.snapshot, false);
    assert.equal('incidents' in manager.snapshot, false);

    const r = await create('INC-2211-0042', { address: '1 Phương Mai, Đống Đa', received: new Date(Date.now() - 60e3).toISOString(), unit: '115-HK-03' });
    for (const c of [dispatcher, wall, manager]) await c.waitFor((x) => x.offset >= r.offset, WAIT);
    const ev = dispatcher.events.find((e) => e.offset === r.offset);
    assert.equal(ev.kind, 'incident');
    assert.equal(ev.id, 'INC-2211-0042');
    assert.equal(ev.data.action, 'create');
    assert.deepEqual([ev.data.version, ev.data.priority, ev.data.category, ev.data.unit, ev.data.source],
      [1, 1, 'stroke', '115-HK-03', 'cad-115']);
    assert.equal(ev.data.address, '1 Phương Mai, Đống Đa');
    for (const c of [wall, manager]) {
      assert.deepEqual(c.events.find((e) => e.offset === r.offset), { offset: r.offset });
      assert.equal(c.incidents.size, 0);
      assert.equal(c.gaps, 0);
    }
    assert.equal(dispatcher.gaps, 0);
    assert.equal(dispatcher.incidents.get('INC-2211-0042').priority, 1);

    // a fresh dispatcher snapshot holds it; a fresh wall snapshot does not.
    // The hub may hand a new client a snapshot built up to 100 ms earlier
    // (followed by the events since): connect until one is built at or
    // after the create.
    const d2 = await waitFor(async () => {
      const c = await connect('dispatcher');
      if (c.snapshot.offset >= r.offset) return c;
      c.close();
      return notYet({ snapshotOffset: c.snapshot.offset, created: r.offset });
    }, { ...WAIT, what: 'a dispatcher snapshot built after the create' });
    const inc = d2.snapshot.incidents.find((i) => i.id === 'INC-2211-0042');
    assert.ok(inc, JSON.stringify(d2.snapshot.incidents));
    assert.deepEqual([inc.version, inc.lat, inc.lon, inc.destination], [1, NEAR_LAO_KHOA.lat, NEAR_LAO_KHOA.lon, null]);
    assert.equal(inc.opened, inc.at);
    const w2 = await connect('wall');
    assert.equal('incidents' in w2.snapshot, false);
    assert.ok(!JSON.stringify(w2.snapshot).includes('INC-2211-0042'));

    // REST: the open incidents, each with its top three destinations
    const list = await waitFor(async () => {
      const x = await get('/api/v1/incidents');
      return x.status === 200 && x.json.length === 1 && x;
    }, { ...WAIT, what: 'the incident over REST' });
    const rec = list.json[0].recommend;
    assert.equal(rec.length, 3);
    assert.equal(rec[0].hospital, 'lao-khoa-trung-uong', JSON.stringify(rec));
    assert.deepEqual([rec[0].rank, rec[0].bed_type, rec[0].free, rec[0].specialty], [1, 'icu_adult', 4, true]);
    assert.match(rec[0].reason.en, /4 adult ICU free · stroke unit/);
    assert.match(rec[0].reason.vi, /4 HSTC người lớn trống/);
    assert.ok(!rec.some((c) => c.hospital === 'bach-mai' && c.free > 0), JSON.stringify(rec));
    // pushed to dispatchers over the live feed, never to walls or managers
    const pushedTop = () => {
      const m = dispatcher.ofType('recommendations').at(-1);
      const i = m && m.incidents.find((x) => x.id === 'INC-2211-0042');
      return i && i.candidates[0] && i.candidates[0].hospital;
    };
    await dispatcher.waitFor(() => pushedTop() === 'lao-khoa-trung-uong', { ...WAIT, what: 'a recommendations frame' });
    assert.deepEqual(dispatcher.ofType('recommendations').at(-1).incidents.find((x) => x.id === 'INC-2211-0042').candidates.map((c) => c.hospital),
      rec.map((c) => c.hospital));
    const one = await get('/api/v1/incidents/INC-2211-0042');
    assert.equal(one.status, 200);
    assert.equal(one.json.id, 'INC-2211-0042');
    assert.equal(one.json.recommend[0].hospital, 'lao-khoa-trung-uong');
    // the recommendation follows capacity: Lao khoa fills up
    const full = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'lao-khoa-trung-uong', beds: { icu_adult: { occupied: 10 } } }));
    assert.equal(full.ok, true);
    await waitFor(async () => (await get('/api/v1/incidents/INC-2211-0042')).json.recommend[0].hospital !== 'lao-khoa-trung-uong',
      { ...WAIT, what: 'the top destination to change' });
    await dispatcher.waitFor(() => pushedTop() && pushedTop() !== 'lao-khoa-trung-uong', { ...WAIT, what: 'the pushed top to change' });
    for (const c of [wall, manager]) assert.equal(c.ofType('recommendations').length, 0);
    await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'lao-khoa-trung-uong', beds: { icu_adult: { occupied: 6 } } }));

    assert.match((await stack.get('/metrics')).body, /^bedpulse_incidents_open 1$/m);

    // who may read them
    assert.equal((await get('/api/v1/incidents/INC-nope')).status, 404);
    assert.equal((await get('/api/v1/incidents/INC-nope')).json.error, 'unknown_incident');
    assert.equal((await get('/api/v1/incidents', 'wall')).status, 403);
    assert.equal((await get('/api/v1/incidents/INC-2211-0042', 'manager')).status, 403);
    assert.equal((await stack.call('GET', '/api/v1/incidents')).status, 401);
    assert.equal((await stack.call('POST', '/api/v1/incidents', { token: t.dispatcher.token, json: {} })).status, 405);

    // stored as docs/redis.md says, and audited
    const stored = stack.redis('HGETALL', 'bp:inc:INC-2211-0042').split('\n');
    const h = Object.fromEntries(stored.flatMap((v, i) => (i % 2 ? [] : [[v, stored[i + 1]]])));
    assert.deepEqual([h.v, h.act, h.priority, h.category, h.unit, h.src], ['1', 'create', '1', 'stroke', '115-HK-03', 'cad-115']);
    assert.equal(Number(stack.redis('ZSCORE', 'bp:incidents', 'INC-2211-0042')), Number(h.op));
    const audit = stack.redis('XREVRANGE', 'bp:audit', '+', '-', 'COUNT', '20');
    assert.match(audit, /incident\nid\nINC-2211-0042/);
  }));

  test('update changes it; close removes it everywhere; the stored state decides what is allowed', stack.guard(async () => {
    const dispatcher = await connect('dispatcher');
    const wall = await connect('wall');
    const u = await ok({ id: 'INC-2211-0042', action: 'update', priority: 2, unit: '115-HK-05', address: null });
    await dispatcher.waitFor((x) => x.offset >= u.offset, WAIT);
    const ev = dispatcher.events.find((e) => e.offset === u.offset);
    assert.deepEqual(ev.data, Object.assign({}, ev.data, { action: 'update', version: 2, priority: 2, unit: '115-HK-05', address: null }));
    assert.equal(ev.data.category, undefined, 'only what changed');
    const one = await waitFor(async () => {
      const x = await get('/api/v1/incidents/INC-2211-0042');
      return x.json.version === 2 && x.json;
    }, WAIT);
    assert.deepEqual([one.priority, one.unit, one.address, one.category], [2, '115-HK-05', null, 'stroke']);

    // errors that need the stored state change nothing
    const before = offset();
    const exists = await send({ id: 'INC-2211-0042', action: 'create', priority: 1, category: 'other', ...NEAR_LAO_KHOA });
    assert.deepEqual([exists.ok, exists.error, exists.field], [false, 'exists', 'id']);
    const unknown = await send({ id: 'INC-never', action: 'update', priority: 3 });
    assert.deepEqual([unknown.ok, unknown.error, unknown.field], [false, 'unknown_incident', 'id']);
    assert.equal(offset(), before);

    const c = await ok({ id: 'INC-2211-0042', action: 'close', destination: 'lao-khoa-trung-uong' });
    for (const x of [dispatcher, wall]) await x.waitFor((y) => y.offset >= c.offset, WAIT);
    const closed = dispatcher.events.find((e) => e.offset === c.offset);
    assert.deepEqual([closed.kind, closed.data.action, closed.data.destination], ['incident', 'close', 'lao-khoa-trung-uong']);
    assert.equal(dispatcher.incidents.has('INC-2211-0042'), false);
    assert.deepEqual(wall.events.find((e) => e.offset === c.offset), { offset: c.offset });
    await waitFor(async () => (await openIds()).length === 0, WAIT);
    assert.equal((await get('/api/v1/incidents/INC-2211-0042')).status, 404);
    // a new dispatcher has none once it is caught up (its snapshot may be
    // the hub's cached one from just before the close, followed by the close)
    const fresh = await connect('dispatcher');
    await fresh.waitFor((x) => x.offset >= c.offset, WAIT);
    assert.equal(fresh.incidents.size, 0);
    // kept for a week, out of the open set
    assert.equal(stack.redis('ZSCORE', 'bp:incidents', 'INC-2211-0042'), '');
    const ttl = Number(stack.redis('TTL', 'bp:inc:INC-2211-0042'));
    assert.ok(ttl > 7 * 86400 - 60 && ttl <= 7 * 86400, String(ttl));
    // closed is closed: an update or a second close is unknown_incident
    const again = await send({ id: 'INC-2211-0042', action: 'close' });
    assert.deepEqual([again.ok, again.error, again.field], [false, 'unknown_incident', 'id']);
    // a line sent twice (same source and seq) is acknowledged, not applied twice
    const line = incidentMsg({ source: 'cad-115', seq: seq++, id: 'INC-DUP', action: 'create', priority: 3, category: 'other', ...NEAR_LAO_KHOA });
    const first = await feed.send(line);
    const second = await feed.send(line);
    assert.deepEqual([first.ok, second.ok, second.duplicate, second.offset], [true, true, true, first.offset]);
    await ok({ id: 'INC-DUP', action: 'close' });
    for (const x of [dispatcher, wall]) assert.equal(x.gaps, 0);
  }));

  test('bad lines are refused naming the field, and change nothing', stack.guard(async () => {
    const before = offset();
    const base = { id: 'INC-BAD', action: 'create', priority: 1, category: 'stroke', ...NEAR_LAO_KHOA };
    for (const [fields, error, field] of [
      [{ priority: 5 }, 'out_of_range', 'priority'],
      [{ priority: '1' }, 'wrong_type', 'priority'],
      [{ category: 'flu' }, 'bad_value', 'category'],
      [{ category: undefined }, 'missing_field', 'category'],
      [{ lat: 10.78, lon: 106.7 }, 'out_of_range', 'lat'],
      [{ lon: 106.7 }, 'out_of_range', 'lon'],
      [{ lon: undefined }, 'missing_field', 'lon'],
      [{ id: 'INC 1' }, 'bad_value', 'id'],
      [{ action: 'reopen' }, 'bad_value', 'action'],
      [{ unit: '115-XX-99' }, 'unknown_ambulance', 'unit'],
      [{ destination: 'nowhere' }, 'unknown_hospital', 'destination'],
      [{ address: 'x'.repeat(201) }, 'too_long', 'address'],
      [{ address: 'a\u0007b' }, 'bad_string', 'address'],
      [{ received: new Date(Date.now() + 600e3).toISOString() }, 'out_of_range', 'received'],
      [{ received: 'this morning' }, 'bad_time', 'received'],
      [{ patient: 'x' }, 'unknown_field', 'patient'],
      [{ action: 'close', priority: 1 }, 'bad_value', 'priority'],
      [{ action: 'update', priority: undefined, category: undefined, lat: undefined, lon: undefined }, 'missing_field', 'action'],
    ]) {
      const r = await send(Object.assign({}, base, fields));
      assert.equal(r.ok, false, JSON.stringify(fields));
      assert.deepEqual([r.error, r.field], [error, field], `${JSON.stringify(fields)}: ${r.message}`);
      assert.match(r.message, new RegExp(field));
      assert.equal(typeof r.seq, 'number');
    }
    assert.equal(offset(), before);
    assert.deepEqual(await openIds(), []);
  }));

  test('at most stream.max_open_incidents are open at once', stack.guard(async () => {
    const ids = Array.from({ length: MAX_OPEN }, (_, i) => `INC-B${i}`);
    for (const id of ids) await create(id, { priority: 1 + (ids.indexOf(id) % 3) });
    const over = await send({ id: 'INC-B-extra', action: 'create', priority: 1, category: 'trauma', ...NEAR_LAO_KHOA });
    assert.deepEqual([over.ok, over.error, over.field], [false, 'too_many_incidents', 'id']);
    assert.match(over.message, /max_open_incidents/);
    await waitFor(async () => (await openIds()).length === MAX_OPEN, WAIT);
    // listed in the order they were opened, by every server alike
    assert.deepEqual(await openIds(), ids);
    await ok({ id: ids[0], action: 'close' });
    await create('INC-B-extra', { category: 'trauma' });
    for (const id of [...ids.slice(1), 'INC-B-extra']) await ok({ id, action: 'close' });
    await waitFor(async () => (await openIds()).length === 0, WAIT);
  }));

  test('a feed token needs fleet rights to send incidents', stack.guard(async () => {
    const as = async (token) => {
      const f = await new FeedClient(stack.collectorPort).connect();
      const hello = await f.send({ type: 'hello', token });
      assert.equal(hello.ok, true, JSON.stringify(hello));
      return f;
    };
    await waitFor(async () => {
      const f = await new FeedClient(stack.collectorPort).connect();
      const r = await f.send({ type: 'hello', token: t.cad.token });
      f.close();
      return r.ok;
    }, { ...WAIT, what: 'the collector to load the tokens' });
    const his = await as(t.his.token);
    const cad = await as(t.cad.token);
    try {
      const before = offset();
      const no = await send({ id: 'INC-F1', action: 'create', priority: 2, category: 'cardiac', ...NEAR_LAO_KHOA }, his);
      assert.deepEqual([no.ok, no.error, no.field], [false, 'forbidden', 'id']);
      assert.match(no.message, /incident INC-F1/);
      assert.equal(offset(), before);
      // the same token still reports its hospital
      const beds = await his.send(bedsMsg({ source: 'his-bm', seq: seq++, hospital: 'bach-mai', beds: { icu_adult: { occupied: 75 } } }));
      assert.equal(beds.ok, true, JSON.stringify(beds));
      const yes = await send({ id: 'INC-F1', action: 'create', priority: 2, category: 'cardiac', ...NEAR_LAO_KHOA }, cad);
      assert.equal(yes.ok, true, JSON.stringify(yes));
      const audit = stack.redis('XREVRANGE', 'bp:audit', '+', '-', 'COUNT', '1');
      assert.match(audit, new RegExp(`actor\\n${t.cad.id}\\nrole\\nfeed`));
      await ok({ id: 'INC-F1', action: 'close' }, cad);
    } finally {
      his.close();
      cad.close();
    }
  }));

  test('a restarted server loads the open incidents; two servers agree', stack.guard(async () => {
    await create('INC-R1', { category: 'trauma', priority: 2, unit: '115-HK-07', address: 'Cầu Giấy' });
    await create('INC-R2', { category: 'obstetric', priority: 3, lat: 21.03, lon: 105.80 });
    await create('INC-R3', { category: 'burn' });
    await ok({ id: 'INC-R3', action: 'close' });
    const u = await ok({ id: 'INC-R1', action: 'update', destination: 'viet-duc' });
    await waitFor(async () => (await openIds()).join() === 'INC-R1,INC-R2', WAIT);
    const beforeRestart = (await get('/api/v1/incidents')).json;

    await stack.stopProc('server');
    await stack.startServer();
    // a new server loads the tokens a moment after it is ready
    await stack.waitForToken(t.dispatcher.token);
    const reread = await get('/api/v1/incidents');
    assert.equal(reread.status, 200, reread.body);
    const afterRestart = reread.json;
    const strip = (list) => list.map(({ recommend, ...i }) => ({ ...i, top: recommend.map((c) => c.hospital) }));
    assert.deepEqual(strip(afterRestart), strip(beforeRestart));
    assert.deepEqual([afterRestart[0].version, afterRestart[0].destination, afterRestart[0].unit], [2, 'viet-duc', '115-HK-07']);
    const d = await connect('dispatcher');
    assert.deepEqual(d.snapshot.incidents.map((i) => i.id), ['INC-R1', 'INC-R2']);
    assert.ok(d.snapshot.offset >= u.offset, `snapshot at ${d.snapshot.offset}, the update at ${u.offset}`);

    // a second server reads the same Redis and lists the same
    const port2 = await stack.startServer({}, 'server2');
    await stack.waitForToken(t.dispatcher.token, port2);
    const d2 = await connect('dispatcher', port2);
    assert.deepEqual(d2.snapshot.incidents, d.snapshot.incidents);
    const n = await ok({ id: 'INC-R2', action: 'update', unit: '115-HK-08' });
    for (const c of [d, d2]) await c.waitFor((x) => x.offset >= n.offset, WAIT);
    assert.deepEqual([...d2.incidents.values()], [...d.incidents.values()]);
    assert.equal(d2.incidents.get('INC-R2').unit, '115-HK-08');
    const [l1, l2] = await Promise.all([get('/api/v1/incidents'), get('/api/v1/incidents', 'dispatcher', port2)]);
    assert.deepEqual(strip(l2.json), strip(l1.json));
    for (const id of ['INC-R1', 'INC-R2']) await ok({ id, action: 'close' });
  }));

  test('every process exits 0, without sanitizer reports', stack.guard(async () => {
    for (const c of live.splice(0)) c.close();
    feed.destroy();
    feed = null;
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
  }));
});
