'use strict';
// Redis outages: redis-server is SIGKILLed while lines flow and started again
// on the same port and directory (AOF, appendfsync always). The collector
// must answer `unavailable`, recover by itself and never acknowledge what was
// not committed; a sender that resends what was not acknowledged ends with
// every line applied exactly once; the server must report not ready and
// resume serving.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Stack, LiveClient, waitFor, freePort, sleep, bedsMsg } = require('../lib/stack');
const registry = require('../../config/hospitals.json');

const IDS = registry.hospitals.slice(0, 10).map((h) => h.id);
const WAIT = { timeout: 20000, interval: 50 };

// Every stream entry by offset.
function streamByOffset(stack) {
  const raw = stack.redis('XRANGE', 'bp:stream', '-', '+').split('\n');
  const m = new Map();
  for (let i = 0; i + 6 < raw.length; i += 7) {
    m.set(Number(raw[i].split('-')[0]), { kind: raw[i + 2], id: raw[i + 4], data: JSON.parse(raw[i + 6]) });
  }
  return m;
}

describe('Redis outage while lines flow', () => {
  const stack = new Stack();
  let feed;
  let live;

  before(stack.guard(async () => {
    await stack.start();
    feed = await stack.feed();
    live = new LiveClient(`ws://127.0.0.1:${stack.serverPort}/ws`);
    await live.connect();
    await live.waitFor((c) => c.snapshot, WAIT);
  }));
  after(async () => {
    if (live) live.close();
    if (feed) feed.destroy();
    await stack.stop();
  });

  test('unavailable while down, recovery without restart, every line applied exactly once', stack.guard(async () => {
    // A sender as the protocol asks: lines not acknowledged are resent, in
    // order and with their seq, before anything new. sent: every reply.
    const sent = []; // {line, reply}
    const unacked = []; // lines waiting for an acknowledgement, oldest first
    let seq = 0;
    let stop = false;
    let pumpError;
    // Sends small pipelined batches until told to stop (then until every
    // line is acknowledged); each line has its own value, so the stream
    // shows which line an entry is.
    const pump = (async () => {
      try {
        while (!stop || unacked.length) {
          const lines = unacked.splice(0, 4);
          while (!stop && lines.length < 4) {
            seq++;
            lines.push(bedsMsg({ source: 'outage', seq, hospital: IDS[seq % IDS.length], beds: { medical_surgical: { occupied: seq } } }));
          }
          const replies = await feed.sendMany(lines);
          lines.forEach((line, i) => sent.push({ line, reply: replies[i] }));
          const first = replies.findIndex((r) => !r.ok);
          if (first >= 0) unacked.unshift(...lines.slice(first)); // resent next round
          if (first >= 0) await sleep(20); // pace the retries while Redis is away
        }
      } catch (e) {
        pumpError = e;
      }
    })();
    const acks = () => sent.filter((s) => s.reply.ok).length;
    const collectorPid = stack.procs.collector.child.pid;
    try {
      await waitFor(() => acks() >= 200 || pumpError, { ...WAIT, what: '200 acknowledged lines' });
      const killedAt = sent.length;
      await stack.killRedis();

      await waitFor(() => sent.slice(killedAt).some((s) => s.reply.error === 'unavailable') || pumpError,
        { ...WAIT, what: 'unavailable replies' });
      await waitFor(async () => (await stack.get('/readyz')).status === 503, { ...WAIT, what: '/readyz 503' });
      const notReady = await stack.get('/readyz');
      assert.equal(notReady.json.error, 'not_ready');
      assert.equal((await stack.get('/healthz')).status, 200);
      // let the collector be refused for a while
      const before = sent.length;
      await waitFor(() => sent.length >= before + 40 || pumpError, { ...WAIT, what: 'lines during the outage' });
      const ackedDown = sent.slice(before).filter((x) => x.reply.ok);
      assert.deepEqual(ackedDown.slice(0, 3), [], `${ackedDown.length} lines acknowledged while Redis was down`);

      await stack.startRedis();
      const restartedAt = sent.length;
      await waitFor(() => sent.slice(restartedAt).some((s) => s.reply.ok) || pumpError,
        { ...WAIT, what: 'the collector to accept lines again' });
      await waitFor(() => sent.slice(restartedAt).filter((s) => s.reply.ok).length >= 100 || pumpError,
        { ...WAIT, what: '100 lines after the outage' });
    } finally {
      stop = true;
      await pump;
    }
    assert.equal(pumpError, undefined, `the feed connection failed: ${pumpError && pumpError.message}`);
    assert.ok(stack.procs.collector.running, `the collector exited (code ${stack.procs.collector.code}, signal ${stack.procs.collector.signal})`);
    assert.equal(stack.procs.collector.child.pid, collectorPid, 'the collector was restarted');
    await waitFor(async () => (await stack.get('/readyz')).status === 200, { ...WAIT, what: '/readyz 200 again' });

    // Every reply is an acknowledgement or "unavailable", and there were both.
    for (const { line, reply } of sent) {
      assert.equal(reply.seq, line.seq);
      if (!reply.ok) assert.equal(reply.error, 'unavailable', JSON.stringify(reply));
    }
    const unavailable = sent.filter((s) => !s.reply.ok);
    assert.ok(unavailable.length > 0, `no unavailable reply among ${sent.length}`);
    // Nothing acknowledged is lost: each line acknowledged as new is in the
    // stream at its offset with its own value, offsets increasing.
    const stream = streamByOffset(stack);
    let last = 0;
    for (const { line, reply } of sent.filter((s) => s.reply.ok && !s.reply.duplicate)) {
      assert.ok(reply.offset > last, `offsets must increase: ${reply.offset} after ${last}`);
      last = reply.offset;
      const e = stream.get(reply.offset);
      assert.ok(e, `acknowledged line seq ${line.seq} (offset ${reply.offset}) is not in Redis`);
      assert.equal(e.id, line.hospital);
      assert.equal(e.data.beds.medical_surgical.occupied, line.seq, `offset ${reply.offset}`);
    }
    // Every line was applied exactly once: the stream holds each seq once
    // (a line acknowledged as a duplicate had been applied before its
    // reply was lost with the connection to Redis).
    const values = [...stream.values()].filter((e) => e.data.source === 'outage').map((e) => e.data.beds.medical_surgical.occupied);
    assert.equal(values.length, seq, `${values.length} entries for ${seq} lines`);
    assert.deepEqual([...new Set(values)].sort((a, b) => a - b), Array.from({ length: seq }, (_, i) => i + 1));
    last = Math.max(...[...stream.keys()]);
    // Resending any line again is acknowledged as a duplicate and changes nothing.
    const xlen = stack.redis('XLEN', 'bp:stream');
    for (const { line } of sent.filter((s) => !s.reply.ok).slice(0, 20)) {
      const r = await feed.send(line);
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.duplicate, true);
      assert.equal(r.offset, last);
    }
    assert.equal(stack.redis('XLEN', 'bp:stream'), xlen);
    // Each hospital holds its last line's value.
    const lastValue = new Map();
    for (let i = 1; i <= seq; i++) lastValue.set(IDS[i % IDS.length], i);
    for (const [h, v] of lastValue) {
      assert.equal(stack.stored('hospital', h).beds.medical_surgical.occupied, v, h);
    }
    // The live client stayed connected and ends with the latest values.
    await live.waitFor((c) => c.offset === last, { ...WAIT, what: 'the live client to catch up' });
    assert.equal(live.closeCode, undefined, 'the live client was disconnected');
    assert.equal(live.gaps, 0);
    for (const [h, v] of lastValue) assert.equal(live.hospitals.get(h).beds.medical_surgical.occupied, v, h);
    const rest = (await stack.get('/api/v1/hospitals')).json;
    for (const h of rest) {
      const mine = live.hospitals.get(h.id);
      assert.equal(mine.version, h.version, h.id);
      assert.deepEqual(mine.beds, h.beds, h.id);
    }
  }));

  test('a second outage with no traffic: readiness and live events come back', stack.guard(async () => {
    await stack.killRedis();
    await waitFor(async () => (await stack.get('/readyz')).status === 503, { ...WAIT, what: '/readyz 503' });
    // the data endpoints keep serving the last state they had
    assert.equal((await stack.get('/api/v1/summary')).status, 200);
    const r = await feed.send(bedsMsg({ source: 'outage-2', seq: 1 }));
    assert.equal(r.ok, false);
    assert.equal(r.error, 'unavailable');
    await stack.startRedis();
    const ok = await waitFor(async () => {
      const x = await feed.send(bedsMsg({ source: 'outage-2', seq: 1, beds: { burn: { occupied: 9 } } }));
      return x.ok && x;
    }, { ...WAIT, what: 'an acknowledgement' });
    await waitFor(async () => (await stack.get('/readyz')).status === 200, { ...WAIT, what: '/readyz 200' });
    await live.waitFor((c) => c.offset === ok.offset, { ...WAIT, what: 'the event after the outage' });
    assert.equal(live.hospitals.get('bach-mai').beds.burn.occupied, 9);
    assert.equal(live.closeCode, undefined);
  }));

  test('collector and server exit 0 on SIGTERM', stack.guard(async () => {
    live.close();
    feed.destroy();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
  }));
});

describe('start before Redis', () => {
  const stack = new Stack();
  let feed;

  after(async () => {
    if (feed) feed.destroy();
    await stack.stop();
  });

  test('collector and server wait for Redis, then serve', stack.guard(async () => {
    stack.redisPort = await freePort(); // nobody listens there yet
    await stack.startCollector({}, { ready: false });
    await stack.startServer({}, 'server', { ready: false });
    assert.equal((await stack.get('/healthz')).status, 200);
    const ready = await stack.get('/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.json.error, 'not_ready');
    const data = await stack.get('/api/v1/hospitals');
    assert.equal(data.status, 503);
    assert.equal(data.json.error, 'not_ready');
    feed = await stack.feed();
    const r = await feed.send(bedsMsg({ seq: 1 }));
    assert.equal(r.error, 'unavailable');
    assert.equal(r.seq, 1);
    // a client that comes now waits for the state
    const c = new LiveClient(`ws://127.0.0.1:${stack.serverPort}/ws`);
    await c.connect();
    await stack.startRedis();
    await waitFor(async () => (await stack.get('/readyz')).status === 200, { ...WAIT, what: 'ready' });
    const ok = await waitFor(async () => {
      const x = await feed.send(bedsMsg({ seq: 1, beds: { icu_adult: { occupied: 5 } } }));
      return x.ok && x;
    }, { ...WAIT, what: 'an acknowledgement' });
    assert.equal(ok.offset, 1);
    await c.waitFor((x) => x.snapshot && x.offset === 1, { ...WAIT, what: 'the client to get the state' });
    assert.equal(c.hospitals.get('bach-mai').beds.icu_adult.occupied, 5);
    assert.equal((await stack.get('/api/v1/hospitals')).status, 200);
    c.close();
  }));

  test('collector and server exit 0 on SIGTERM', stack.guard(async () => {
    feed.destroy();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
  }));
});
