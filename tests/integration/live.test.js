'use strict';
// Live feed (docs/protocol.md §2): welcome + snapshot, events derived from
// feed lines, agreement with REST, ticks, and the protocol's close codes.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const os = require('node:os');
const WebSocket = require('ws');
const { Stack, LiveClient, waitFor, pastMs, isoNow, isoMs, bedsMsg, ambulanceMsg } = require('../lib/stack');
const registry = require('../../config/hospitals.json');
const fleet = require('../../config/fleet.json');

const BED_TYPES = ['emergency', 'icu_adult', 'icu_pediatric', 'icu_neonatal', 'medical_surgical', 'pediatrics',
  'obstetrics', 'burn', 'psychiatric', 'isolation', 'operating_room'];
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const WAIT = { timeout: 10000 };

// What the live client and REST must agree on for a hospital.
function hospitalView(h) {
  const ed = h.ed ? { ...h.ed } : h.ed;
  if (ed) delete ed.effective;
  return { version: h.version, at: h.at, updated: h.updated, source: h.source, beds: h.beds, ed };
}

// Resolves 'open' when the upgrade succeeds, 'rejected' when it does not.
function tryUpgrade(url, protocol) {
  return new Promise((resolve) => {
    const ws = protocol ? new WebSocket(url, protocol) : new WebSocket(url);
    const done = (r) => {
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      resolve(r);
    };
    ws.on('open', () => done('open'));
    ws.on('unexpected-response', () => done('rejected'));
    ws.on('error', () => done('rejected'));
  });
}

async function closedWithin(client, ms = 15000) {
  let timer;
  const r = await Promise.race([
    client.whenClosed,
    new Promise((resolve) => (timer = setTimeout(() => resolve({ code: 'still open' }), ms))),
  ]);
  clearTimeout(timer);
  return r;
}

describe('live feed', () => {
  const stack = new Stack({ env: { BP_SERVER_TICK_INTERVAL_S: '1', BP_SERVER_HELLO_TIMEOUT_S: '1' } });
  let feed;
  let live;
  let seq = 0;
  const clients = [];
  const send = async (msg) => {
    const r = await feed.send(Object.assign({}, msg, { seq: ++seq }));
    assert.equal(r.ok, true, `${JSON.stringify(msg)} -> ${JSON.stringify(r)}`);
    return r;
  };
  const connect = async (hello) => {
    const c = new LiveClient(`ws://127.0.0.1:${stack.serverPort}/ws`);
    clients.push(c);
    await c.connect(hello);
    return c;
  };
  // the events frame that carries an offset
  const frameWith = (c, offset) => c.messages.find((m) => m.type === 'events' && m.events.some((e) => e.offset === offset));
  const eventAt = async (c, offset) => {
    const f = await waitFor(() => frameWith(c, offset), { ...WAIT, what: `event ${offset}` });
    assert.equal(f.epoch, c.epoch);
    return f.events.find((e) => e.offset === offset);
  };

  before(stack.guard(async () => {
    await stack.start();
    feed = await stack.feed();
  }));
  after(async () => {
    for (const c of clients) c.close();
    if (feed) feed.destroy();
    await stack.stop();
  });

  test('a new client gets welcome, then a snapshot of the whole registry', stack.guard(async () => {
    live = await connect();
    await live.waitFor((c) => c.snapshot, { ...WAIT, what: 'snapshot' });
    const [welcome, snap] = live.messages;
    const ready = (await stack.get('/readyz')).json;
    // server: its host name, the same in /readyz (which server am I on, behind a balancer)
    assert.deepEqual(welcome, { type: 'welcome', mode: 'snapshot', reason: 'new', epoch: ready.epoch, offset: ready.offset, tick_interval_s: 1, server: os.hostname() });
    assert.equal(ready.server, os.hostname());
    assert.equal(welcome.epoch, stack.redis('GET', 'bp:epoch'));
    assert.equal(snap.type, 'snapshot');
    assert.equal(snap.epoch, welcome.epoch);
    assert.equal(snap.offset, welcome.offset);
    assert.match(snap.now, ISO_MS);
    // a dispatcher's snapshot (the harness reads as anonymous dispatcher) holds the open incidents
    assert.deepEqual(Object.keys(snap).sort(), ['ambulances', 'epoch', 'hospitals', 'incidents', 'meta', 'now', 'offset', 'type']);
    assert.deepEqual(snap.incidents, []);
    assert.equal(snap.hospitals.length, 88);
    assert.deepEqual(snap.hospitals.map((h) => h.id).sort(), registry.hospitals.map((h) => h.id).sort());
    assert.equal(snap.ambulances.length, 62);
    assert.deepEqual(snap.ambulances.map((a) => a.id).sort(), fleet.ambulances.map((a) => a.id).sort());
    assert.deepEqual(snap.meta.bed_types, BED_TYPES);
    assert.deepEqual(snap.meta.pressure, { level2_pct: 85, level3_pct: 95, level4_pct: 110 });
    assert.deepEqual(snap.meta.districts, registry.districts);
    assert.deepEqual(snap.meta.stations, fleet.stations);
    // a hospital in the snapshot is the REST representation
    const rest = (await stack.get('/api/v1/hospitals')).json;
    assert.deepEqual(snap.hospitals, rest);
    assert.deepEqual(snap.ambulances, (await stack.get('/api/v1/ambulances')).json);
  }));

  test('a beds line arrives as an events frame with derived figures', stack.guard(async () => {
    const at = isoNow(-1000);
    const until = isoNow(3 * 3600e3);
    const r = await send(bedsMsg({
      source: 'his-bach-mai', at, beds: { icu_adult: { occupied: 80 } },
      ed: { status: 'diversion', reason: 'no ICU beds', until, waiting: 12 },
    }));
    const e = await eventAt(live, r.offset);
    assert.match(e.data.updated, ISO_MS);
    assert.deepEqual(e, {
      offset: r.offset, kind: 'hospital', id: 'bach-mai',
      data: {
        version: 1, at: isoMs(Date.parse(at)), updated: e.data.updated, source: 'his-bach-mai',
        beds: { icu_adult: { staffed: 75, occupied: 80, surge24: 8, available: 0, overflow: 5 } },
        ed: { status: 'diversion', reason: 'no ICU beds', until: isoMs(Date.parse(until)), waiting: 12 },
      },
    });
    // partial: occupied only; the event carries the whole merged bed type
    const r2 = await send(bedsMsg({ source: 'his-bach-mai', beds: { icu_adult: { occupied: 70 }, burn: { occupied: 3 } } }));
    const e2 = await eventAt(live, r2.offset);
    assert.equal(e2.data.version, 2);
    assert.deepEqual(e2.data.beds, {
      icu_adult: { staffed: 75, occupied: 70, surge24: 8, available: 5, overflow: 0 },
      burn: { staffed: null, occupied: 3, surge24: null, available: null, overflow: null },
    });
    assert.equal(e2.data.ed, undefined, 'ed was not sent, so it is not in the event');
    // an ED back to normal without the optional fields
    const r3 = await send(bedsMsg({ source: 'his-bach-mai', ed: { status: 'normal' } }));
    const e3 = await eventAt(live, r3.offset);
    assert.deepEqual(e3.data.ed, { status: 'normal', reason: '', until: null, waiting: null });
    assert.equal(e3.data.beds, undefined);
    // several clients see the same events in the same order
    const others = [];
    for (let i = 0; i < 4; i++) others.push(await connect());
    await Promise.all(others.map((c) => c.waitFor((x) => x.snapshot, WAIT)));
    const rs = [];
    for (let i = 0; i < 10; i++) rs.push(await send(bedsMsg({ hospital: 'viet-duc', beds: { emergency: { occupied: i } } })));
    const last = rs.at(-1).offset;
    for (const c of [live, ...others]) {
      await c.waitFor((x) => x.offset >= last, { ...WAIT, what: 'all events' });
      assert.equal(c.gaps, 0);
      assert.equal(c.duplicates, 0);
      assert.equal(c.hospitals.get('viet-duc').beds.emergency.occupied, 9);
    }
    for (const c of others) c.close();
  }));

  test('ambulance events carry the fields that changed', stack.guard(async () => {
    const r = await send(ambulanceMsg({
      source: 'avl-115', status: 'transporting', lat: 21.0285, lon: 105.8542, heading: 135, speed: 42,
      destination: 'viet-duc', incident: 'INC-2211-0042',
    }));
    const e = await eventAt(live, r.offset);
    assert.deepEqual(e, {
      offset: r.offset, kind: 'ambulance', id: '115-HK-03',
      data: {
        version: 1, at: e.data.at, updated: e.data.updated, source: 'avl-115', status: 'transporting', fms: 7,
        lat: 21.0285, lon: 105.8542, heading: 135, speed: 42, destination: 'viet-duc', incident: 'INC-2211-0042',
      },
    });
    assert.match(e.data.at, ISO_MS);
    const r2 = await send(ambulanceMsg({ source: 'avl-115', status: 'at_hospital' }));
    const e2 = await eventAt(live, r2.offset);
    assert.deepEqual(Object.keys(e2.data).sort(), ['at', 'fms', 'source', 'status', 'updated', 'version']);
    assert.equal(e2.data.status, 'at_hospital');
    assert.equal(e2.data.version, 2);
    assert.ok(Number.isInteger(e2.data.fms), JSON.stringify(e2.data));
    const r3 = await send(ambulanceMsg({ source: 'avl-115', destination: null, incident: '' }));
    const e3 = await eventAt(live, r3.offset);
    assert.equal(e3.data.destination, null);
    assert.equal(e3.data.incident, null);
    assert.equal(e3.data.status, undefined);
    const a = live.ambulances.get('115-HK-03');
    assert.equal(a.status, 'at_hospital');
    assert.equal(a.lat, 21.0285);
    assert.equal(a.destination, null);
  }));

  test('REST agrees with the live view (the C merge matches the Lua merge)', stack.guard(async () => {
    const ids = ['bach-mai', 'viet-duc', 'thanh-nhan', registry.hospitals[40].id];
    let last;
    for (let i = 0; i < 40; i++) {
      const beds = {};
      const t = BED_TYPES[i % BED_TYPES.length];
      beds[t] = i % 3 === 0 ? { occupied: i } : i % 3 === 1 ? { staffed: 50 + i, surge24: i } : { staffed: 10, occupied: 12 + i };
      const msg = bedsMsg({ source: 'merge', hospital: ids[i % ids.length], beds });
      if (i % 7 === 0) msg.ed = { status: ['advisory', 'diversion', 'closed'][i % 3], reason: `r${i}`, until: isoNow(3600e3), waiting: i };
      last = await send(msg);
      if (i % 5 === 0) last = await send(ambulanceMsg({ source: 'avl-merge', id: fleet.ambulances[i].id, status: 'dispatched', lat: 21 + i / 100, lon: 105 + i / 100 }));
    }
    await live.waitFor((c) => c.offset >= last.offset, { ...WAIT, what: 'the last event' });
    const rest = await stack.get('/api/v1/hospitals');
    assert.equal(Number(rest.headers['x-bedpulse-offset']), live.offset);
    assert.equal(rest.headers['x-bedpulse-epoch'], live.epoch);
    for (const h of rest.json) {
      assert.deepEqual(hospitalView(live.hospitals.get(h.id)), hospitalView(h), h.id);
      const stored = stack.stored('hospital', h.id);
      assert.equal(stored ? stored.version : 0, h.version, `${h.id}: version in Redis`);
    }
    const ambulances = (await stack.get('/api/v1/ambulances')).json;
    for (const a of ambulances) assert.deepEqual(live.ambulances.get(a.id), a, a.id);
    // and a new client's snapshot is the same state
    const fresh = await connect();
    await fresh.waitFor((c) => c.snapshot, WAIT);
    assert.equal(fresh.snapshot.offset, live.offset);
    for (const h of fresh.snapshot.hospitals) assert.deepEqual(hospitalView(live.hospitals.get(h.id)), hospitalView(h), h.id);
    fresh.close();
    assert.equal(live.gaps, 0);
    assert.equal(live.duplicates, 0);
  }));

  test('ticks arrive when nothing else is sent', stack.guard(async () => {
    const n = live.ofType('tick').length;
    await live.waitFor((c) => c.ofType('tick').length >= n + 2, { ...WAIT, what: 'two more ticks' });
    const tick = live.ofType('tick').at(-1);
    assert.deepEqual(Object.keys(tick).sort(), ['epoch', 'now', 'offset', 'type']);
    assert.equal(tick.epoch, live.epoch);
    assert.equal(tick.offset, live.offset);
    assert.match(tick.now, ISO_MS);
  }));

  test("a snapshot's now is the time it is sent, not of the last change (a quiet night)", stack.guard(async () => {
    // the snapshot sets the client's clock until the next tick (issue 9)
    const a = await connect();
    const first = await a.waitFor((c) => c.snapshot, { ...WAIT, what: 'snapshot' });
    await pastMs(Date.parse(first.now) + 2500); // nothing changes meanwhile
    const t = Date.now();
    const b = await connect();
    const snap = await b.waitFor((c) => c.snapshot, { ...WAIT, what: 'snapshot' });
    assert.equal(snap.offset, first.offset, 'no change in between');
    assert.ok(Date.parse(snap.now) >= t - 1000 && Date.parse(snap.now) <= Date.now(), `now ${snap.now}, connected at ${new Date(t).toISOString()}`);
    a.close();
    b.close();
  }));

  test('a bad hello is closed with 4002', stack.guard(async () => {
    const bad = [
      'not json',
      '[]',
      '{"type":"helo"}',
      '{"resume":null}',
      '{"type":"hello","extra":1}',
      '{"type":"hello","resume":{"epoch":"!!","offset":1}}',
      '{"type":"hello","resume":{"epoch":"abc"}}',
      '{"type":"hello","resume":{"epoch":"abc","offset":-1}}',
      '{"type":"hello","resume":{"epoch":"abc","offset":"1"}}',
      `{"type":"hello","resume":{"epoch":"${'a'.repeat(65)}","offset":1}}`,
      `{"type":"hello","token":"${'t'.repeat(257)}"}`,
    ];
    for (const hello of bad) {
      const c = await connect(hello);
      const { code } = await closedWithin(c);
      assert.equal(code, 4002, `hello ${hello.slice(0, 80)}`);
      assert.equal(c.ofType('welcome').length, 0);
    }
  }));

  test('no hello in time is closed with 4001', stack.guard(async () => {
    const c = await connect(null);
    const { code } = await closedWithin(c);
    assert.equal(code, 4001);
    assert.equal(c.messages.length, 0);
  }));

  test('a binary frame is closed with 1003', stack.guard(async () => {
    const c = await connect(null);
    c.send(Buffer.from('{"type":"hello"}'), { binary: true });
    assert.equal((await closedWithin(c)).code, 1003);
    assert.equal(c.messages.length, 0);
    // after the hello as well
    const d = await connect();
    await d.waitFor((x) => x.snapshot, WAIT);
    d.send(Buffer.from([0, 1, 2]), { binary: true });
    assert.equal((await closedWithin(d)).code, 1003);
  }));

  test('a message over 1 KiB is closed with 4009', stack.guard(async () => {
    // 1024 bytes is still a hello
    const fits = '{"type":"hello"}'.padEnd(1024, ' ');
    const ok = await connect(fits);
    await ok.waitFor((c) => c.snapshot, WAIT);
    ok.close();
    const big = await connect('{"type":"hello"}'.padEnd(1025, ' '));
    assert.equal((await closedWithin(big)).code, 4009);
    assert.equal(big.ofType('welcome').length, 0);
    const huge = await connect(JSON.stringify({ type: 'hello', token: 'x'.repeat(100000) }));
    assert.equal((await closedWithin(huge)).code, 4009);
    // and after the hello
    const later = await connect();
    await later.waitFor((c) => c.snapshot, WAIT);
    later.send('{"type":"hello"}'.padEnd(5000, ' '));
    assert.equal((await closedWithin(later)).code, 4009);
  }));

  test('/ws with subprotocol bedpulse.v1 is the only upgrade path', stack.guard(async () => {
    const base = `ws://127.0.0.1:${stack.serverPort}`;
    assert.equal(await tryUpgrade(`${base}/ws`, 'bedpulse.v1'), 'open');
    for (const p of ['/', '/index.html', '/api/v1/hospitals', '/healthz', '/metrics', '/other', '/ws/x', '/wss', '/WS']) {
      assert.equal(await tryUpgrade(base + p, 'bedpulse.v1'), 'rejected', `${p} with bedpulse.v1`);
      assert.equal(await tryUpgrade(base + p), 'rejected', `${p} without a subprotocol`);
    }
    assert.equal(await tryUpgrade(`${base}/ws`), 'rejected', '/ws without a subprotocol');
    assert.equal(await tryUpgrade(`${base}/ws`, 'other'), 'rejected', '/ws with another subprotocol');
    // the server is still serving, and counts only the live client
    const m = await stack.get('/metrics');
    assert.equal(m.status, 200);
    await waitFor(async () => /^bedpulse_ws_clients 1$/m.test((await stack.get('/metrics')).body),
      { ...WAIT, what: 'bedpulse_ws_clients 1' });
    // the live client was not disturbed
    const r = await send(bedsMsg({ beds: { isolation: { occupied: 1 } } }));
    await eventAt(live, r.offset);
  }));

  test('processes exit 0 on SIGTERM with a client connected', stack.guard(async () => {
    feed.destroy();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
  }));
});
