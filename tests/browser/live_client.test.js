'use strict';
// web/live.js (the page's WebSocket client and store) in Node with a fake
// WebSocket and a fake clock: the paths a real server rarely takes — a gap
// in the offsets, a silent connection, a refused resume, backoff bounds, a
// gzipped snapshot and the messages behind it.

const { describe, it, before } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { waitFor, notYet } = require('../lib/stack.js');

const ROOT = path.resolve(__dirname, '..', '..');
let LiveFeed;

before(async () => {
  ({ LiveFeed } = await import(pathToFileURL(path.join(ROOT, 'web/live.js')).href));
});

// A WebSocket the test drives from the server side.
function fakeSockets() {
  const sockets = [];
  class FakeWS {
    constructor(url, protocol) {
      this.url = url;
      this.protocol = protocol;
      this.sent = [];
      this.closed = null;
      sockets.push(this);
    }
    send(s) {
      this.sent.push(JSON.parse(s));
    }
    close(code) {
      this.closed = code;
    }
    // server side
    open() {
      this.onopen();
    }
    msg(m) {
      this.onmessage({ data: JSON.stringify(m) });
    }
    binary(buf) {
      this.onmessage({ data: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) });
    }
    drop(code = 1006) {
      this.onclose({ code, reason: '' });
    }
  }
  return { sockets, FakeWS };
}

// Resolves once the feed has opened its nth socket (a reconnect after a
// backoff of a few ms here).
const socketOpened = (sockets, n) => waitFor(() => sockets.length >= n || notYet({ sockets: sockets.length }),
  { timeout: 5000, interval: 1, what: `socket ${n}` });

// opts: more LiveFeed options (gunzip: null unless given: snapshots as text)
function setup(opts = {}) {
  const { sockets, FakeWS } = fakeSockets();
  const clock = { now: 1_000_000 };
  const feed = new LiveFeed(Object.assign({
    url: 'ws://x/ws', WebSocket: FakeWS, now: () => clock.now, random: () => 0.5,
    backoffBaseMs: 2, backoffCapMs: 4, watchIntervalMs: 3_600_000, gunzip: null,
  }, opts));
  const seen = { snapshot: 0, changes: [], connection: [] };
  feed.addEventListener('snapshot', () => seen.snapshot++);
  feed.addEventListener('changes', (e) => seen.changes.push(e.detail));
  feed.addEventListener('connection', (e) => seen.connection.push(e.detail.status));
  feed.start();
  return { feed, sockets, clock, seen };
}

const hosp = (id, extra) => Object.assign({ id, name: { vi: id, en: id }, beds: {}, ed: { status: 'normal' }, report_interval_s: 900, at: null }, extra);

function snapshot(ws, offset = 10, epoch = 'e1') {
  ws.msg({ type: 'welcome', mode: 'snapshot', reason: 'new', epoch, offset });
  ws.msg({
    type: 'snapshot', epoch, offset, now: new Date(1_000_000 + 5000).toISOString(),
    meta: { bed_types: [], pressure: {}, districts: {}, stations: [] },
    hospitals: [hosp('a', { beds: { icu_adult: { staffed: 10, occupied: 4 } } }), hosp('b')],
    ambulances: [{ id: 'U1', station: 's', status: 'available_station', fms: 2 }],
  });
}

const ev = (offset, id, data) => ({ offset, kind: 'hospital', id, data: Object.assign({ version: offset, at: 'x', updated: 'x', source: 's' }, data) });

describe('live.js', () => {
  it('asks for a gzipped snapshot, inflates it, and applies what came behind it in order', async () => {
    const zlib = require('node:zlib');
    const { feed, sockets, seen } = setup({ gunzip: undefined }); // the runtime's own (DecompressionStream)
    sockets[0].open();
    assert.deepEqual(sockets[0].sent, [{ type: 'hello', compress: 'gzip' }]);
    sockets[0].msg({ type: 'welcome', mode: 'snapshot', reason: 'new', epoch: 'e1', offset: 10 });
    const snap = { type: 'snapshot', epoch: 'e1', offset: 10, meta: {}, hospitals: [hosp('a'), hosp('bạch-mai')], ambulances: [] };
    sockets[0].binary(zlib.gzipSync(JSON.stringify(snap)));
    // an event right behind it waits for the snapshot, not applied before it
    sockets[0].msg({ type: 'events', epoch: 'e1', events: [ev(11, 'a', { ed: { status: 'diversion' } })] });
    assert.equal(feed.hasState, false, 'still inflating');
    await waitFor(() => feed.offset === 11);
    assert.equal(seen.snapshot, 1);
    assert.equal(feed.hospitals.get('a').ed.status, 'diversion');
    assert.ok(feed.hospitals.has('bạch-mai'));
    assert.equal(feed.status, 'live');
    // then text again goes straight through
    sockets[0].msg({ type: 'events', epoch: 'e1', events: [ev(12, 'a', {})] });
    assert.equal(feed.offset, 12);
    // bytes that do not inflate: start over, and ask for text next time
    sockets[0].binary(Buffer.from('not gzip'));
    await waitFor(() => sockets[0].closed !== null);
    await waitFor(() => sockets.length === 2);
    sockets[1].open();
    assert.deepEqual(sockets[1].sent, [{ type: 'hello', resume: { epoch: 'e1', offset: 12 } }]);
    feed.stop();
  });

  it('says hello without resume first, goes live on the snapshot, corrects the clock', () => {
    const { feed, sockets, seen } = setup();
    assert.equal(sockets[0].protocol, 'bedpulse.v1');
    sockets[0].open();
    assert.deepEqual(sockets[0].sent, [{ type: 'hello' }]);
    assert.equal(feed.status, 'connecting');
    snapshot(sockets[0]);
    assert.equal(feed.status, 'live');
    assert.equal(seen.snapshot, 1);
    assert.equal(feed.hospitals.size, 2);
    assert.equal(feed.serverNow() - 1_000_000, 5000);
    feed.stop();
  });

  it('applies consecutive events, ignores old ones, replaces bed types whole and ED', () => {
    const { feed, sockets, seen } = setup();
    sockets[0].open();
    snapshot(sockets[0]);
    sockets[0].msg({ type: 'events', epoch: 'e1', events: [
      ev(9, 'a', { beds: { icu_adult: { staffed: 1, occupied: 1 } } }), // old: ignored
      ev(11, 'a', { beds: { icu_adult: { staffed: 10, occupied: 9, surge24: null } } }),
      ev(12, 'b', { ed: { status: 'diversion', reason: 'r', until: null, waiting: null } }),
      { offset: 13, kind: 'ambulance', id: 'U1', data: { version: 1, status: 'transporting', fms: 7, destination: 'a' } },
    ] });
    assert.equal(feed.offset, 13);
    assert.deepEqual(feed.hospitals.get('a').beds.icu_adult, { staffed: 10, occupied: 9, surge24: null });
    assert.equal(feed.hospitals.get('b').ed.status, 'diversion');
    assert.equal(feed.ambulances.get('U1').status, 'transporting');
    assert.equal(feed.ambulances.get('U1').station, 's');
    assert.deepEqual([...seen.changes[0].hospitals].sort(), ['a', 'b']);
    assert.deepEqual([...seen.changes[0].ambulances], ['U1']);
    feed.stop();
  });

  it('keeps the alerts list the server sends (not an event: the offset stays), and emits it', () => {
    const { feed, sockets } = setup();
    const got = [];
    feed.addEventListener('alerts', (e) => got.push(e.detail.alerts.map((a) => a.id)));
    assert.equal(feed.hasAlerts, false);
    sockets[0].open();
    snapshot(sockets[0]);
    const a = { id: 'diversion:b', rule: 'diversion', subject: 'b', since: 'x', value: 2, incident: false, text: { vi: 'v', en: 'e' }, ack: null };
    sockets[0].msg({ type: 'alerts', alerts: [a, { rule: 'no id' }], raised_total: 3 });
    assert.equal(feed.hasAlerts, true);
    assert.deepEqual(feed.alerts, [a]);
    assert.equal(feed.alertsRaised, 3);
    assert.equal(feed.offset, 10);
    sockets[0].msg({ type: 'alerts', alerts: [], raised_total: 3 });
    assert.deepEqual(got, [['diversion:b'], []]);
    sockets[0].msg({ type: 'alerts' }); // malformed: ignored
    assert.equal(got.length, 2);
    feed.stop();
  });

  it('marks offload-delayed hospitals from the server\'s list; their level rises to 3', async () => {
    const { pressureLevel } = await import('../../web/derive.js');
    const { feed, sockets, seen } = setup();
    sockets[0].open();
    snapshot(sockets[0]);
    const lvl = () => pressureLevel(feed.hospitals.get('a'), null, Date.now());
    const before = lvl();
    assert.ok(before < 3, `level ${before}`);
    sockets[0].msg({ type: 'offload', delayed: ['a', 'unknown'] });
    assert.equal(feed.hospitals.get('a').offload, 'delayed');
    assert.equal(feed.hospitals.get('b').offload, 'normal');
    assert.deepEqual([...seen.changes.at(-1).hospitals].sort(), ['a', 'b']);
    assert.equal(lvl(), 3);
    assert.equal(feed.offset, 10); // not an event
    sockets[0].msg({ type: 'offload', delayed: [] });
    assert.equal(feed.hospitals.get('a').offload, 'normal');
    assert.equal(lvl(), before);
    sockets[0].msg({ type: 'offload' }); // malformed: ignored
    feed.stop();
  });

  it('on a gap, reconnects and resumes from the last applied offset', async () => {
    const { feed, sockets } = setup();
    sockets[0].open();
    snapshot(sockets[0]);
    sockets[0].msg({ type: 'events', epoch: 'e1', events: [ev(11, 'a', {}), ev(13, 'a', {})] });
    assert.equal(feed.offset, 11, 'stops before the gap');
    assert.notEqual(sockets[0].closed, null, 'the socket with the gap is closed');
    await socketOpened(sockets, 2);
    assert.equal(sockets.length, 2);
    sockets[1].open();
    assert.deepEqual(sockets[1].sent, [{ type: 'hello', resume: { epoch: 'e1', offset: 11 } }]);
    sockets[1].msg({ type: 'welcome', mode: 'resume', via: 'window', epoch: 'e1', offset: 11 });
    assert.equal(feed.status, 'live');
    sockets[1].msg({ type: 'events', epoch: 'e1', events: [ev(12, 'a', {}), ev(13, 'b', {})] });
    assert.equal(feed.offset, 13);
    feed.stop();
  });

  it('a tick ahead of us is a gap; a tick from another epoch starts over', async () => {
    const { feed, sockets } = setup();
    sockets[0].open();
    snapshot(sockets[0]);
    sockets[0].msg({ type: 'tick', epoch: 'e1', offset: 10, now: new Date().toISOString() });
    assert.equal(sockets[0].closed, null);
    sockets[0].msg({ type: 'tick', epoch: 'e1', offset: 12, now: new Date().toISOString() });
    assert.notEqual(sockets[0].closed, null);
    await socketOpened(sockets, 2);
    sockets[1].open();
    snapshot(sockets[1], 20, 'e2');
    assert.equal(feed.epoch, 'e2');
    sockets[1].msg({ type: 'tick', epoch: 'e3', offset: 20, now: new Date().toISOString() });
    assert.notEqual(sockets[1].closed, null);
    feed.stop();
  });

  it('treats 3 silent tick intervals as a dead connection and reports since when', async () => {
    const { feed, sockets, clock } = setup();
    sockets[0].open();
    snapshot(sockets[0]);
    const heard = clock.now;
    clock.now += 29_000;
    feed.watch();
    assert.equal(feed.status, 'live');
    clock.now += 2_000;
    feed.watch();
    assert.notEqual(sockets[0].closed, null);
    // nothing heard for 31 s: that is already "offline since <last heard>"
    assert.equal(feed.status, 'offline');
    assert.equal(feed.lostSinceMs, heard, 'lost when last heard, not when noticed');
    assert.equal(feed.isStale(), true);
    feed.stop();
  });

  it('takes the tick interval the server announces in welcome', async () => {
    const { feed, sockets, clock } = setup();
    sockets[0].open();
    sockets[0].msg({ type: 'welcome', mode: 'snapshot', reason: 'new', epoch: 'e1', offset: 10, tick_interval_s: 2 });
    snapshot(sockets[0]);
    clock.now += 5_000; // 2.5 intervals of 2 s: still alive
    feed.watch();
    assert.equal(feed.status, 'live');
    clock.now += 1_500; // 3.25 intervals: dead (with the default 10 s it would be live)
    feed.watch();
    assert.notEqual(sockets[0].closed, null);
    assert.notEqual(feed.status, 'live');
    feed.stop();
  });

  it('waits seconds, not milliseconds, after 1013 (server full) and 4029 (address limit)', async () => {
    for (const code of [1013, 4029]) {
      // two feeds with the same backoff: one dropped with `code`, then one
      // dropped as usual (1006), which retries at once. Timers of the same
      // delay fire in the order they were set, so once the second has
      // retried, the first would have too without its extra wait.
      const crowded = setup();
      const plain = setup();
      crowded.sockets[0].open();
      plain.sockets[0].open();
      try {
        crowded.sockets[0].drop(code);
        plain.sockets[0].drop(1006);
        await socketOpened(plain.sockets, 2);
        assert.equal(crowded.sockets.length, 1, `after ${code} a retry as soon as after 1006`);
        const bounds = [crowded.feed.crowdedDelayMs(0), crowded.feed.crowdedDelayMs(0.999)];
        assert.ok(bounds[0] >= 3000 && bounds[1] <= 10000, `extra wait between ${bounds.join(' and ')} ms`);
      } finally {
        crowded.feed.stop();
        plain.feed.stop();
      }
    }
  });

  it('backs off with full jitter up to the cap, counts attempts, turns offline after 30 s', async () => {
    const { sockets, FakeWS } = fakeSockets();
    const clock = { now: 0 };
    const feed = new LiveFeed({ url: 'ws://x/ws', WebSocket: FakeWS, now: () => clock.now, random: () => 0.999999, watchIntervalMs: 3_600_000 });
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 12].map((n) => feed.backoff(n));
    assert.deepEqual(ceilings, [499, 999, 1999, 3999, 7999, 14999, 14999, 14999]);
    feed.random = () => 0;
    assert.equal(feed.backoff(5), 0);
    feed.stop();

    const s = setup();
    s.sockets[0].open();
    snapshot(s.sockets[0]);
    s.sockets[0].drop();
    assert.equal(s.feed.status, 'reconnecting');
    assert.equal(s.feed.attempt, 1);
    await socketOpened(s.sockets, 2);
    s.sockets[1].drop();
    assert.equal(s.feed.attempt, 2);
    s.clock.now += 31_000;
    s.feed.watch();
    assert.equal(s.feed.status, 'offline');
    await socketOpened(s.sockets, 3);
    s.sockets[2].open();
    assert.ok(s.sockets[2].sent[0].resume, `resumes after an outage: ${JSON.stringify(s.sockets[2].sent[0])}`);
    s.sockets[2].msg({ type: 'welcome', mode: 'resume', via: 'window', epoch: 'e1', offset: 10 });
    assert.equal(s.feed.status, 'live');
    assert.equal(s.feed.attempt, 0);
    assert.deepEqual(s.seen.connection.filter((x, i, a) => x !== a[i - 1]), ['live', 'reconnecting', 'offline', 'live']);
    s.feed.stop();
    assert.equal(sockets.length, 0);
  });

  it('starts over with a snapshot when a resume is answered for another offset', async () => {
    const { feed, sockets } = setup();
    sockets[0].open();
    snapshot(sockets[0]);
    sockets[0].drop();
    await socketOpened(sockets, 2);
    sockets[1].open();
    sockets[1].msg({ type: 'welcome', mode: 'resume', via: 'window', epoch: 'e1', offset: 7 });
    assert.notEqual(sockets[1].closed, null);
    await socketOpened(sockets, 3);
    sockets[2].open();
    assert.deepEqual(sockets[2].sent, [{ type: 'hello' }], 'no resume this time');
    feed.stop();
  });
  it('keeps the open incidents: the snapshot list, then create, update (null clears) and close events', () => {
    const { feed, sockets, seen } = setup();
    sockets[0].open();
    snapshot(sockets[0]);
    assert.equal(feed.hasIncidents, false, 'a snapshot without the key: this audience gets no incidents');
    const inc = { id: 'I1', version: 1, at: 'x', opened: 'x', priority: 2, category: 'trauma', lat: 21, lon: 105.8, unit: null };
    sockets[0].msg({ type: 'welcome', mode: 'snapshot', reason: 'new', epoch: 'e1', offset: 20 });
    sockets[0].msg({ type: 'snapshot', epoch: 'e1', offset: 20, meta: {}, hospitals: [], ambulances: [], incidents: [inc] });
    assert.equal(feed.hasIncidents, true);
    assert.deepEqual([...feed.incidents.keys()], ['I1']);
    const iev = (offset, id, data) => ({ offset, kind: 'incident', id, data: Object.assign({ version: 1, at: `t${offset}`, updated: 'u', source: 'cad' }, data) });
    sockets[0].msg({ type: 'events', epoch: 'e1', events: [
      iev(21, 'I2', { action: 'create', priority: 1, category: 'stroke', lat: 21.1, lon: 105.9, address: 'a', unit: null }),
      iev(22, 'I2', { action: 'update', unit: '115-HK-03', address: null }),
      iev(23, 'I1', { action: 'close' }),
      { offset: 24, kind: 'newer-kind', id: 'x', data: {} },
    ] });
    assert.equal(feed.offset, 24, 'an unknown kind keeps the offset');
    assert.deepEqual([...feed.incidents.keys()], ['I2']);
    const i2 = feed.incidents.get('I2');
    assert.deepEqual([i2.priority, i2.category, i2.unit, i2.address, i2.opened, i2.at], [1, 'stroke', '115-HK-03', null, 't21', 't22']);
    assert.equal('action' in i2, false);
    assert.deepEqual([...seen.changes[seen.changes.length - 1].incidents].sort(), ['I1', 'I2']);
    feed.stop();
  });

  it('marks the data stale while the server says it lost Redis, until it says live or a new connection starts', async () => {
    const { feed, sockets, clock } = setup();
    const conns = [];
    feed.addEventListener('connection', (e) => conns.push(e.detail));
    sockets[0].open();
    snapshot(sockets[0]); // the server's clock is 5 s ahead
    assert.equal(feed.connection().sourceStaleSinceMs, null);
    const since = new Date(1_000_000 + 5000 - 2000).toISOString();
    sockets[0].msg({ type: 'status', state: 'stale', since, reason: 'redis' });
    assert.equal(feed.status, 'live', 'the connection itself is fine');
    assert.equal(feed.connection().sourceStaleSinceMs, Date.parse(since), 'in server time');
    assert.equal(conns.at(-1).sourceStaleSinceMs, Date.parse(since), 'announced');
    clock.now += 30_000;
    sockets[0].msg({ type: 'tick', epoch: 'e1', offset: 10, now: new Date(clock.now + 5000).toISOString() });
    assert.equal(feed.connection().sourceStaleSinceMs, Date.parse(since), 'ticks do not clear it');
    sockets[0].msg({ type: 'status', state: 'live', since: new Date(clock.now + 5000).toISOString() });
    assert.equal(feed.connection().sourceStaleSinceMs, null);
    sockets[0].msg({ type: 'status', state: 'stale', since });
    sockets[0].msg({ type: 'status', state: 'newer-state' });
    assert.notEqual(feed.connection().sourceStaleSinceMs, null, 'an unknown state changes nothing');
    sockets[0].drop();
    try {
      await socketOpened(sockets, 2);
      sockets[1].open();
      sockets[1].msg({ type: 'welcome', mode: 'resume', via: 'window', epoch: 'e1', offset: 10 });
      assert.equal(feed.connection().sourceStaleSinceMs, null, 'another server says again if it is stale');
    } finally {
      feed.stop();
    }
  });
});
