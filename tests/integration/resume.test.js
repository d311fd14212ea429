'use strict';
// Resume and restart (docs/protocol.md §2): a client that comes back with
// {epoch, offset} gets exactly what it missed, across a server restart too;
// otherwise a snapshot that says why (epoch, too_old, ahead).

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const os = require('node:os');
const { Stack, LiveClient, waitFor, bedsMsg, ambulanceMsg } = require('../lib/stack');
const registry = require('../../config/hospitals.json');

const IDS = registry.hospitals.map((h) => h.id);
const WAIT = { timeout: 15000 };

describe('resume and restart', () => {
  const stack = new Stack({ env: { BP_SERVER_TICK_INTERVAL_S: '1' } });
  let feed;
  let seq = 0;
  let smallPort;
  const clients = [];

  const send = async (msg) => {
    const r = await feed.send(Object.assign({}, msg, { seq: ++seq }));
    assert.equal(r.ok, true, `${JSON.stringify(msg)} -> ${JSON.stringify(r)}`);
    assert.equal(r.duplicate, undefined);
    return r;
  };
  // n changes over several hospitals and an ambulance; returns their offsets
  const sendChanges = async (n, tag) => {
    const offsets = [];
    for (let i = 0; i < n; i++) {
      const msg = i % 5 === 4
        ? ambulanceMsg({ source: `amb-${tag}`, status: i % 2 ? 'on_scene' : 'dispatched', speed: i })
        : bedsMsg({ source: `his-${tag}`, hospital: IDS[i % 7], beds: { medical_surgical: { occupied: 1000 + i } } });
      offsets.push((await send(msg)).offset);
    }
    return offsets;
  };
  const connect = async (hello, port = stack.serverPort) => {
    const c = new LiveClient(`ws://127.0.0.1:${port}/ws`);
    clients.push(c);
    await c.connect(hello);
    return c;
  };
  const synced = async (port = stack.serverPort) => {
    const c = await connect(undefined, port);
    await c.waitFor((x) => x.snapshot, { ...WAIT, what: 'snapshot' });
    return c;
  };
  const readyOffset = async (port = stack.serverPort) => (await stack.get('/readyz', port)).json.offset;

  before(stack.guard(async () => {
    await stack.start();
    feed = await stack.feed();
  }));
  after(async () => {
    for (const c of clients) c.close();
    if (feed) feed.destroy();
    await stack.stop();
  });

  test('resume gets welcome mode resume, then exactly the 20 missed events in order', stack.guard(async () => {
    const a = await synced();
    const first = await send(bedsMsg({ source: 'his-a', beds: { icu_adult: { occupied: 1 } } }));
    await a.waitFor((c) => c.offset === first.offset, { ...WAIT, what: 'the first event' });
    const { epoch, offset } = a;
    a.close();
    await a.whenClosed;
    const missed = await sendChanges(20, 'resume');
    assert.deepEqual(missed, Array.from({ length: 20 }, (_, i) => offset + 1 + i));
    await waitFor(async () => (await readyOffset()) === missed.at(-1), { ...WAIT, what: 'the server to follow' });

    const b = await connect({ type: 'hello', resume: { epoch, offset } });
    await b.waitFor((c) => c.received.length >= 20, { ...WAIT, what: '20 events' });
    assert.deepEqual(b.messages[0], { type: 'welcome', mode: 'resume', via: 'window', epoch, offset, tick_interval_s: 1, server: os.hostname() });
    assert.equal(b.ofType('snapshot').length, 0, 'no snapshot on a resume');
    assert.deepEqual(b.received, missed, 'exactly the missed events, in order, once');
    // the events carry the values that were sent
    const events = b.ofType('events').flatMap((m) => m.events);
    assert.equal(events[0].data.beds.medical_surgical.occupied, 1000);
    assert.equal(events[4].kind, 'ambulance');
    assert.equal(events[4].data.speed, 4);
    // then live events follow on the same connection
    const next = await send(bedsMsg({ source: 'his-a', beds: { icu_adult: { occupied: 2 } } }));
    await b.waitFor((c) => c.offset === next.offset, { ...WAIT, what: 'a live event after the resume' });
    assert.deepEqual(b.received, [...missed, next.offset]);
    // a resume at the latest offset: welcome, then only what comes next
    const c = await connect({ type: 'hello', resume: { epoch, offset: next.offset } });
    await c.waitFor((x) => x.welcome, WAIT);
    assert.deepEqual(c.welcome, { type: 'welcome', mode: 'resume', via: 'window', epoch, offset: next.offset, tick_interval_s: 1, server: os.hostname() });
    const after = await send(bedsMsg({ source: 'his-a', beds: { icu_adult: { occupied: 3 } } }));
    await c.waitFor((x) => x.received.length === 1, WAIT);
    assert.deepEqual(c.received, [after.offset]);
    for (const x of [b, c]) x.close();
  }));

  test('server restart: the client resumes and sees every event exactly once, in order', stack.guard(async () => {
    const a = await synced();
    const { epoch, offset } = a;
    assert.equal(offset, await readyOffset());
    const stopped = await stack.stopProc('server');
    assert.deepEqual(stopped, { code: 0, signal: null }, 'server exit on SIGTERM');
    await a.whenClosed;
    // the feed goes on while the server is down
    const missed = await sendChanges(30, 'restart');
    assert.deepEqual(missed, Array.from({ length: 30 }, (_, i) => offset + 1 + i));
    await stack.startServer();
    const b = await connect({ type: 'hello', resume: { epoch, offset } });
    await b.waitFor((c) => c.received.length >= 30, { ...WAIT, what: '30 events after the restart' });
    assert.deepEqual(b.messages[0], { type: 'welcome', mode: 'resume', via: 'window', epoch, offset, tick_interval_s: 1, server: os.hostname() });
    assert.equal(b.ofType('snapshot').length, 0);
    assert.deepEqual(b.received, missed);
    // and its view is the server's
    const rest = (await stack.get('/api/v1/hospitals')).json;
    for (const h of rest.filter((x) => IDS.slice(0, 7).includes(x.id))) {
      const mine = b.hospitals.get(h.id);
      assert.equal(mine.version, h.version, h.id);
      assert.deepEqual(mine.beds.medical_surgical, h.beds.medical_surgical, h.id);
    }
    b.close();
  }));

  test('resume with a wrong epoch gets a snapshot with reason epoch', stack.guard(async () => {
    const c = await connect({ type: 'hello', resume: { epoch: 'deadbeef', offset: 3 } });
    await c.waitFor((x) => x.snapshot, WAIT);
    const epoch = stack.redis('GET', 'bp:epoch');
    assert.equal(c.messages[0].type, 'welcome');
    assert.equal(c.messages[0].mode, 'snapshot');
    assert.equal(c.messages[0].reason, 'epoch');
    assert.equal(c.messages[0].epoch, epoch);
    assert.equal(c.snapshot.epoch, epoch);
    assert.equal(c.snapshot.offset, await readyOffset());
    c.close();
  }));

  test('resume ahead of the server gets a snapshot with reason ahead', stack.guard(async () => {
    const epoch = stack.redis('GET', 'bp:epoch');
    const offset = await readyOffset();
    const c = await connect({ type: 'hello', resume: { epoch, offset: offset + 1000 } });
    await c.waitFor((x) => x.snapshot, WAIT);
    assert.equal(c.messages[0].reason, 'ahead');
    assert.equal(c.snapshot.offset, offset);
    c.close();
  }));

  test('resume older than the ring is served from the stream, beyond its bound by a snapshot', stack.guard(async () => {
    smallPort = await stack.startServer({ BP_SERVER_RING_EVENTS: '16' }, 'small');
    const tinyPort = await stack.startServer({ BP_SERVER_RING_EVENTS: '16', BP_SERVER_RESUME_MAX_EVENTS: '40' }, 'tiny');
    const a = await synced(smallPort);
    const { epoch, offset } = a;
    a.close();
    const missed = await sendChanges(50, 'old');
    for (const port of [smallPort, tinyPort]) {
      await waitFor(async () => (await readyOffset(port)) === missed.at(-1), { ...WAIT, what: 'the small servers to follow' });
    }
    // 50 missed, 16 in the ring: the other 34 come from the stream (XRANGE)
    const s = await connect({ type: 'hello', resume: { epoch, offset } }, smallPort);
    await s.waitFor((x) => x.received.length >= 50, WAIT);
    assert.deepEqual(s.messages[0], { type: 'welcome', mode: 'resume', via: 'stream', epoch, offset, tick_interval_s: 1, server: os.hostname() });
    assert.deepEqual(s.received, missed);
    assert.equal(s.duplicates, 0);
    s.close();
    // more missed than server.resume_max_events (40): a snapshot says too_old
    const b = await connect({ type: 'hello', resume: { epoch, offset } }, tinyPort);
    await b.waitFor((x) => x.snapshot, WAIT);
    assert.deepEqual(b.messages[0], { type: 'welcome', mode: 'snapshot', reason: 'too_old', epoch, offset: missed.at(-1), tick_interval_s: 1, server: os.hostname() });
    assert.equal(b.snapshot.offset, missed.at(-1));
    assert.equal(b.received.length, 0);
    const m = (await stack.get('/metrics', smallPort)).body;
    assert.match(m, /bedpulse_resume_total\{outcome="stream"\} 1\n/);
    // the same resume on the server with the default ring is served from it
    const c = await connect({ type: 'hello', resume: { epoch, offset } });
    await c.waitFor((x) => x.received.length >= 50, WAIT);
    assert.equal(c.welcome.mode, 'resume');
    assert.deepEqual(c.received, missed);
    // within the small ring's reach, the small server resumes too
    const d = await connect({ type: 'hello', resume: { epoch, offset: missed.at(-10) } }, smallPort);
    await d.waitFor((x) => x.received.length >= 9, WAIT);
    assert.equal(d.welcome.mode, 'resume');
    assert.deepEqual(d.received, missed.slice(-9));
    for (const x of [b, c, d]) x.close();
  }));

  test('epoch change: after FLUSHALL clients get a snapshot with reason epoch', stack.guard(async () => {
    const a = await synced();
    const s = await synced(smallPort);
    const oldEpoch = a.epoch;
    assert.equal(s.epoch, oldEpoch);
    stack.redis('FLUSHALL');
    // the feed goes on: the first line of the new stream
    const r = await send(bedsMsg({ source: 'his-new', beds: { icu_adult: { occupied: 42 } } }));
    assert.equal(r.offset, 1, 'offsets start again in the new stream');
    for (const c of [a, s]) {
      await c.waitFor((x) => x.ofType('snapshot').length === 2, { ...WAIT, what: 'a second snapshot' });
      const welcome = c.ofType('welcome').at(-1);
      assert.equal(welcome.mode, 'snapshot');
      assert.equal(welcome.reason, 'epoch');
      assert.notEqual(c.epoch, oldEpoch, 'a new epoch');
    }
    const epoch = stack.redis('GET', 'bp:epoch');
    assert.notEqual(epoch, oldEpoch);
    // the clients converge on the fresh state (the new line may come in the
    // snapshot or as an event right after it)
    for (const c of [a, s]) {
      await c.waitFor((x) => x.epoch === epoch && x.offset === 1, { ...WAIT, what: 'the new line' });
      const bm = c.hospitals.get('bach-mai');
      assert.equal(bm.version, 1);
      assert.equal(bm.beds.icu_adult.occupied, 42);
      assert.equal(c.hospitals.get(IDS[1]).version, 0, 'no figures from before the flush');
    }
    const rest = await stack.get('/api/v1/hospitals/bach-mai');
    assert.equal(rest.headers['x-bedpulse-epoch'], epoch);
    assert.equal(rest.headers['x-bedpulse-offset'], '1');
    assert.equal(rest.json.version, 1);
    assert.equal(rest.json.beds.icu_adult.occupied, 42);
    assert.equal(rest.json.beds.medical_surgical.occupied, null);
    const all = (await stack.get('/api/v1/hospitals')).json;
    assert.deepEqual(all.filter((h) => h.version > 0).map((h) => h.id), ['bach-mai']);
    // events of the new epoch follow
    const r2 = await send(bedsMsg({ source: 'his-new', beds: { icu_adult: { occupied: 43 } } }));
    assert.equal(r2.offset, 2);
    for (const c of [a, s]) {
      await c.waitFor((x) => x.offset === 2, { ...WAIT, what: 'the next event' });
      assert.equal(c.hospitals.get('bach-mai').beds.icu_adult.occupied, 43);
      assert.equal(c.gaps, 0);
      assert.equal(c.ofType('events').at(-1).epoch, epoch);
    }
    // an old resume is now void
    const old = await connect({ type: 'hello', resume: { epoch: oldEpoch, offset: 1 } });
    await old.waitFor((x) => x.snapshot, WAIT);
    assert.equal(old.welcome.reason, 'epoch');
  }));

  test('all processes exit 0 on SIGTERM', stack.guard(async () => {
    for (const c of clients) c.close();
    feed.destroy();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
  }));
});

// A new stream must get a new epoch whoever recreates it: the server's
// reader (SET NX at load) or the collector's apply script. Each case starts
// from a fresh Redis so that the process under test made the first epoch.
describe('epoch change after the stream is lost', () => {
  const stacks = [];
  after(async () => {
    for (const s of stacks) await s.stop();
  });

  async function flushAndCheck(stack, feed, { waitForReader }) {
    const a = new LiveClient(`ws://127.0.0.1:${stack.serverPort}/ws`);
    await a.connect();
    try {
      await a.waitFor((x) => x.snapshot && x.offset === Number(stack.redis('GET', 'bp:offset')), { ...WAIT, what: 'a synced client' });
      const oldEpoch = a.epoch;
      assert.equal(stack.redis('GET', 'bp:epoch'), oldEpoch);
      const oldOffset = a.offset;
      stack.redis('FLUSHALL');
      if (waitForReader) {
        // the server notices the lost epoch (it checks every second) and
        // sets one for the new stream before any line comes
        await waitFor(() => stack.redis('GET', 'bp:epoch') !== '', { ...WAIT, what: 'the server to set a new epoch' });
      }
      const r = await feed.send(bedsMsg({ source: 'his-after-flush', seq: 1, beds: { icu_adult: { occupied: 42 } } }));
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.offset, 1);
      const epoch = stack.redis('GET', 'bp:epoch');
      assert.notEqual(epoch, oldEpoch, 'the recreated stream reuses the old epoch: clients cannot tell offsets apart');
      await a.waitFor((x) => x.epoch === epoch && x.offset === 1, { ...WAIT, what: 'the client to follow the new stream' });
      const welcome = a.ofType('welcome').at(-1);
      assert.equal(welcome.mode, 'snapshot');
      assert.equal(welcome.reason, 'epoch');
      assert.equal(a.hospitals.get('bach-mai').beds.icu_adult.occupied, 42);
      assert.equal(a.hospitals.get('bach-mai').version, 1);
      const rest = await stack.get('/api/v1/hospitals/bach-mai');
      assert.equal(rest.headers['x-bedpulse-epoch'], epoch);
      assert.equal(rest.json.version, 1);
      // lines beyond the old offset are events of the new stream, not
      // continuations of the old one
      let last;
      for (let i = 0; i < oldOffset + 2; i++) {
        last = await feed.send(bedsMsg({ source: 'his-after-flush', seq: 2 + i, beds: { icu_adult: { occupied: 100 + i } } }));
      }
      await a.waitFor((x) => x.offset === last.offset, { ...WAIT, what: 'events of the new stream' });
      assert.equal(a.gaps, 0);
      assert.equal(a.hospitals.get('bach-mai').beds.icu_adult.occupied, 100 + oldOffset + 1);
      await waitFor(async () => (await stack.get('/api/v1/hospitals/bach-mai')).json.version === last.offset, { ...WAIT, what: 'REST to follow' });
    } finally {
      a.close();
    }
  }

  test('server-made epoch, the server notices the flush first', async (t) => {
    const stack = new Stack();
    stacks.push(stack);
    await stack.guard(async () => {
      await stack.start();
      const feed = await stack.feed();
      for (let i = 1; i <= 3; i++) assert.equal((await feed.send(bedsMsg({ source: 'his-before', seq: i }))).ok, true);
      await flushAndCheck(stack, feed, { waitForReader: true });
      feed.destroy();
      await stack.stop({ keep: true });
      assert.deepEqual(stack.problems(), []);
    })(t);
  });

  test('collector-made epoch, a line comes first', async (t) => {
    const stack = new Stack();
    stacks.push(stack);
    await stack.guard(async () => {
      await stack.startRedis();
      await stack.startCollector();
      const feed = await stack.feed();
      // the collector creates the epoch: the server is not there yet
      for (let i = 1; i <= 3; i++) assert.equal((await feed.send(bedsMsg({ source: 'his-before', seq: i }))).ok, true);
      await stack.startServer();
      await flushAndCheck(stack, feed, { waitForReader: false });
      feed.destroy();
      await stack.stop({ keep: true });
      assert.deepEqual(stack.problems(), []);
    })(t);
  });
});
