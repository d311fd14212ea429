'use strict';
// Acknowledged means replicated (redis.min_replicas_ack = 1, docs/redis.md):
// with no replica, a feed line is applied on the master but answered
// `unavailable` (fewer replicas confirmed it than required), later lines of
// that connection too, and its resend as well (a duplicate is acknowledged
// only once a replica confirms it); manager and MCI writes get 503. Once a
// replica follows the master, the resend is acknowledged as a duplicate,
// new lines as new, each line is in the stream once, writes get 200/201;
// and many pipelined lines on several connections are all acknowledged
// (one WAIT covers a batch). POST /api/v1/feed answers as a feed connection
// does (issue 13): lines applied on the master and answered unavailable,
// their resend acknowledged as a duplicate once a replica follows. Alert
// acknowledgements and mutes wait for their WAIT too: 503 while the
// replica is frozen (SIGSTOP) or Redis refuses writes, 200 once it
// confirms.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { Stack, Proc, waitFor, freePort, bedsMsg } = require('../lib/stack');
const registry = require('../../config/hospitals.json');

const IDS = registry.hospitals.slice(0, 8).map((h) => h.id);
const WAIT = { timeout: 20000, interval: 50 };

describe('acknowledged means replicated (redis.min_replicas_ack 1)', () => {
  const stack = new Stack({ env: { BP_REDIS_MIN_REPLICAS_ACK: '1', BP_REDIS_REPLICA_ACK_TIMEOUT_MS: '500' } });
  let replica;
  let feed;
  let manager;
  let feeder;

  before(stack.guard(async () => {
    await stack.start();
    feed = await stack.feed();
    manager = stack.createToken('manager', { hospitals: 'bach-mai' }); // bp-admin warns: no replica yet
    feeder = stack.createToken('feed', { hospitals: '*' });
    await stack.waitForToken(manager.token);
    await waitFor(async () => (await post('')).status === 200, { ...WAIT, what: 'the server to know the feed token' });
  }));

  after(async () => {
    if (feed) feed.destroy();
    await stack.stop({ keep: true });
    if (replica) await replica.stop();
    const problems = stack.problems();
    await stack.stop();
    assert.deepEqual(problems, []);
  });

  const stream = () => {
    const raw = stack.redis('XRANGE', 'bp:stream', '-', '+').split('\n');
    const out = [];
    for (let i = 0; i + 6 < raw.length; i += 7) out.push(JSON.parse(raw[i + 6]));
    return out;
  };
  const line = (seq) => bedsMsg({ source: 'wait-test', seq, hospital: IDS[seq % IDS.length], beds: { medical_surgical: { occupied: seq } } });
  // POST /api/v1/feed: the reply lines
  const post = (lines) => stack.call('POST', '/api/v1/feed', { token: feeder.token, type: 'application/x-ndjson',
    body: typeof lines === 'string' ? lines : lines.map((l) => JSON.stringify(l)).join('\n') + '\n' });
  const replies = (r) => r.body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const httpLine = (seq) => bedsMsg({ source: 'wait-http', seq, hospital: IDS[seq % IDS.length], beds: { pediatrics: { occupied: seq } } });
  const patch = async (occupied) => {
    const h = await stack.hospital('bach-mai', manager.token);
    return stack.call('PATCH', '/api/v1/hospitals/bach-mai', { token: manager.token, headers: { 'If-Match': `${h.version}` }, json: { beds: { icu_adult: { occupied } } } });
  };

  test('no replica: applied on the master, answered unavailable; writes 503', stack.guard(async () => {
    const r1 = await feed.send(line(1));
    assert.equal(r1.ok, false, JSON.stringify(r1));
    assert.equal(r1.error, 'unavailable');
    assert.match(r1.message, /fewer than 1 replicas confirmed this change within 500 ms/);
    // it is on the master (not confirmed, not lost)
    assert.deepEqual(stream().filter((d) => d.source === 'wait-test').map((d) => d.beds.medical_surgical.occupied), [1]);
    // nothing new on this connection until the resend; the resend is a
    // duplicate, and waits for a replica too
    const [r2, again] = await feed.sendBatch([line(2), line(1)]);
    assert.equal(r2.error, 'unavailable');
    assert.match(r2.message, /seq 1\) was not applied/);
    assert.equal(again.error, 'unavailable', JSON.stringify(again));
    assert.match(again.message, /replicas confirmed/);
    assert.equal(stream().filter((d) => d.source === 'wait-test').length, 1, 'the resend was applied again');
    // a manager write is stored but not confirmed: 503
    const w = await patch(11);
    assert.equal(w.status, 503, w.body);
    assert.match(w.json.message, /fewer replicas than required/);
    // an MCI declaration too
    const d = stack.createToken('dispatcher');
    await stack.waitForToken(d.token);
    const mci = await stack.call('POST', '/api/v1/mci', { token: d.token, json: { lat: 21.001, lon: 105.8407, radius_km: 3.5, address: 'Phương Mai', expected: { immediate: 1, delayed: 1, minor: 1 } } });
    assert.equal(mci.status, 503, mci.body);
    // POST /api/v1/feed: as on a feed connection, lines sent before the
    // WAIT answered (one request's, like a pipelined batch) are applied on
    // the master and each answered unavailable
    const r = await post([httpLine(1), httpLine(2)]);
    assert.equal(r.status, 200, r.body);
    for (const h of replies(r)) {
      assert.equal(h.error, 'unavailable', JSON.stringify(h));
      assert.match(h.message, /fewer than 1 replicas confirmed this change within 500 ms/);
    }
    assert.deepEqual(stream().filter((d) => d.source === 'wait-http').map((d) => d.beds.pediatrics.occupied), [1, 2]);
    const m = await stack.get('/metrics');
    assert.match(m.body, /^bedpulse_writes_not_replicated_total [1-9]/m);
    assert.match(m.body, /^bedpulse_http_feed_not_replicated_total [1-9]/m);
  }));

  test('with a replica: the resend is acknowledged as a duplicate, new lines as new', stack.guard(async () => {
    const port = await freePort();
    replica = new Proc('replica', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', stack.dir,
      '--dbfilename', 'replica.rdb', '--appendonly', 'yes', '--appenddirname', 'replica-aof', '--appendfsync', 'always',
      '--save', '', '--replicaof', '127.0.0.1', String(stack.redisPort)], { env: process.env, log: path.join(stack.dir, 'replica.log') });
    await waitFor(() => /slave0:.*state=online/.test(stack.redis('INFO', 'replication')), { ...WAIT, what: 'the replica online' });
    // as a sender does: resend from the first line not acknowledged (a
    // loaded replica may still miss a WAIT right after its first sync)
    let pending = [line(1), line(2), line(3)];
    const final = new Map();
    await waitFor(async () => {
      const replies = await feed.sendBatch(pending);
      replies.forEach((r, i) => final.set(pending[i].seq, r));
      const first = replies.findIndex((r) => !r.ok);
      if (first < 0) return true;
      assert.equal(replies[first].error, 'unavailable', JSON.stringify(replies[first]));
      pending = pending.slice(first);
      return false;
    }, { ...WAIT, what: 'the three lines to be acknowledged once a replica follows' });
    // line 1 was applied before the replica came: acknowledged as a duplicate
    assert.equal(final.get(1).duplicate, true, JSON.stringify(final.get(1)));
    assert.deepEqual(stream().filter((d) => d.source === 'wait-test').map((d) => d.beds.medical_surgical.occupied), [1, 2, 3]);
    // the replica has them (that is what the acknowledgement said)
    assert.equal(Number((await new Promise((resolve) => {
      require('node:child_process').execFile('redis-cli', ['-p', String(port), 'XLEN', 'bp:stream'], (e, out) => resolve(out));
    })).trim()), Number(stack.redis('XLEN', 'bp:stream')));
    // the sender over HTTP resends too: both were applied before, both
    // are acknowledged as duplicates; each line once in the stream
    const resent = await waitFor(async () => {
      const r = replies(await post([httpLine(1), httpLine(2)]));
      return r.every((x) => x.ok) && r;
    }, { ...WAIT, what: 'the posted lines to be acknowledged once a replica follows' });
    for (const h of resent) assert.equal(h.duplicate, true, JSON.stringify(h));
    assert.deepEqual(stream().filter((d) => d.source === 'wait-http').map((d) => d.beds.pediatrics.occupied), [1, 2]);
    const w = await patch(12);
    assert.equal(w.status, 200, w.body);
    assert.equal(w.json.beds.icu_adult.occupied, 12);
  }));

  test('alert acknowledgements and mutes: 200 only once a replica confirms; 503 while it does not or Redis refuses', stack.guard(async () => {
    const disp = stack.createToken('dispatcher');
    await stack.waitForToken(disp.token);
    const until = new Date(Date.now() + 3600e3).toISOString();
    const raised = await waitFor(async () => {
      const r = await feed.send(bedsMsg({ source: 'wait-alert', seq: 1, hospital: 'xanh-pon', ed: { status: 'diversion', reason: 'CT down', until } }));
      return r.ok && r;
    }, { ...WAIT, what: 'the diversion line acknowledged' });
    assert.equal(raised.ok, true);
    await waitFor(async () => (await stack.call('GET', '/api/v1/alerts', { token: disp.token })).json.alerts.some((a) => a.id === 'diversion:xanh-pon'),
      { ...WAIT, what: 'the diversion alert' });
    const ack = () => stack.call('POST', '/api/v1/alerts/diversion:xanh-pon/ack', { token: disp.token });
    const mute = () => stack.call('POST', '/api/v1/alerts/mutes', { token: disp.token, json: { rule: 'diversion', minutes: 30 } });
    const unmute = () => stack.call('DELETE', '/api/v1/alerts/mutes/diversion', { token: disp.token });
    // the replica frozen: stored on the master, not confirmed -> 503
    process.kill(replica.child.pid, 'SIGSTOP');
    let a;
    let m;
    try {
      a = await ack();
      m = await mute();
    } finally {
      process.kill(replica.child.pid, 'SIGCONT');
    }
    assert.equal(a.status, 503, a.body);
    assert.equal(a.json.error, 'unavailable');
    assert.match(a.json.message, /fewer than 1 replicas confirmed it within 500 ms .*retry/);
    assert.ok(a.headers['retry-after']);
    assert.match(stack.redis('HGET', 'bp:alert_acks', 'diversion:xanh-pon'), new RegExp(`^${disp.id}\\|`), 'on the master');
    assert.equal(m.status, 503, m.body);
    assert.match(m.json.message, /fewer than 1 replicas confirmed/);
    // the replica back: the retry is answered (the acknowledgement was made already)
    const again = await waitFor(async () => {
      const r = await ack();
      return r.status === 200 && r;
    }, { ...WAIT, what: 'the acknowledgement confirmed' });
    assert.equal(again.json.already, true, again.body);
    assert.equal(again.json.ack.by, disp.id);
    const m2 = await mute();
    assert.equal(m2.status, 201, m2.body);
    // Redis refusing writes (more replicas required than there are): 503
    // naming Redis's reason, nothing changed
    stack.redis('CONFIG', 'SET', 'min-replicas-to-write', '2');
    let end;
    try {
      end = await unmute();
    } finally {
      stack.redis('CONFIG', 'SET', 'min-replicas-to-write', '0');
    }
    assert.equal(end.status, 503, end.body);
    assert.match(end.json.message, /refused the change \(NOREPLICAS/);
    assert.notEqual(stack.redis('HGET', 'bp:alert_mutes', 'diversion'), '', 'the mute is still there');
    const end2 = await unmute();
    assert.equal(end2.status, 200, end2.body);
    assert.equal(stack.redis('HGET', 'bp:alert_mutes', 'diversion'), '');
  }));

  test('pipelined lines on several connections are all acknowledged', stack.guard(async () => {
    const feeds = await Promise.all([stack.feed(), stack.feed(), stack.feed()]);
    try {
      const t0 = Date.now();
      const replies = await Promise.all(feeds.map((f, k) => {
        const lines = [];
        // a hospital of its own per connection (two senders of one hospital
        // could see its `at` go backwards between them)
        const hospital = registry.hospitals[20 + k].id;
        for (let i = 1; i <= 500; i++) lines.push(bedsMsg({ source: `wait-pipe-${k}`, seq: i, hospital, beds: { icu_adult: { occupied: i } } }));
        return f.sendBatch(lines);
      }));
      const all = replies.flat();
      assert.equal(all.length, 1500);
      for (const r of all) assert.equal(r.ok, true, JSON.stringify(r));
      process.stdout.write(`\n1500 pipelined lines on 3 connections, each confirmed by a replica: ${Date.now() - t0} ms\n`);
    } finally {
      for (const f of feeds) f.destroy();
    }
  }));
});
