'use strict';
// Fault: a failover to a replica that lacks the last entries the server
// already read and showed (docs/redis.md, "Reading"). With
// redis.min_replicas_ack = 0 that is the last acknowledged changes; with
// >= 1 it can still be changes a server read before a replica had them.
//
// Deterministic, without waiting for Sentinel: the programs reach Redis
// through a TCP proxy (in this file); a replica is detached (REPLICAOF NO
// ONE) so that it stops at a known offset, more changes go to the master,
// then the proxy moves every connection to the detached replica and the
// master is killed. The server must notice that the history it served is
// gone, start a new epoch, and every dashboard must end with the new
// master's state, resumed with no gap. Two ways the history differs:
//   1. the stream ends before the offset the server had read;
//   2. other changes took the same offsets (another collector wrote to the
//      replica first), so only the entry's content tells.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const path = require('node:path');
const { Stack, Proc, waitFor, freePort, sleep } = require('../lib/stack');
const { cli } = require('../lib/sentinel');
const registry = require('../../config/hospitals.json');

const IDS = registry.hospitals.slice(0, 6).map((h) => h.id);
const WAIT = { timeout: 20000, interval: 50 };

// Forwards every connection to `target`; switchTo() cuts them all and
// sends new ones elsewhere (what a failover looks like to a client).
class Proxy {
  constructor() {
    this.pairs = new Set();
  }

  async start(target) {
    this.target = target;
    this.port = await freePort();
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target, '127.0.0.1');
      const pair = { client, upstream };
      this.pairs.add(pair);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      for (const s of [client, upstream]) {
        s.on('error', end);
        s.on('close', end);
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  switchTo(port) {
    this.target = port;
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
  }

  close() {
    this.switchTo(this.target);
    return new Promise((resolve) => this.server.close(resolve));
  }
}

async function stored(port, id) {
  const v = await cli(port, 'HGET', `bp:h:${id}`, 'medical_surgical.o');
  return v === '' ? null : Number(v);
}

describe('a failover that rewrites the history the server read', () => {
  const stack = new Stack();
  const proxy = new Proxy();
  const redis = new Map(); // port -> Proc
  let feed;
  const clients = [];
  let seq = 0;

  const startRedis = async (replicaOf) => {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', stack.dir, '--dbfilename', `dump-${port}.rdb`,
      '--appendonly', 'yes', '--appendfilename', `aof-${port}`, '--appenddirname', `aof-${port}`, '--appendfsync', 'always',
      '--save', '', '--repl-diskless-sync-delay', '0'];
    if (replicaOf) args.push('--replicaof', '127.0.0.1', String(replicaOf));
    redis.set(port, new Proc(`redis-${port}`, 'redis-server', args, { env: process.env, log: path.join(stack.dir, `redis-${port}.log`) }));
    await waitFor(async () => (await cli(port, 'PING').catch(() => '')) === 'PONG', { what: `redis on ${port}` });
    return port;
  };

  // A replica of master, in sync, then detached: it keeps what it has.
  const detachedReplica = async (master) => {
    const port = await startRedis(master);
    await waitFor(async () => /master_link_status:up/.test(await cli(port, 'INFO', 'replication')), { ...WAIT, what: 'the replica to sync' });
    assert.equal(await cli(master, 'WAIT', '1', '5000'), '1');
    await cli(port, 'REPLICAOF', 'NO', 'ONE');
    return port;
  };

  // Sends n new lines as a sender does: what is answered `unavailable`
  // (Redis moving) is resent, in order, until acknowledged. Resolves with
  // the last line's offset.
  const send = async (f, n, source = 'rewrite') => {
    let lines = [];
    for (let i = 0; i < n; i++) {
      seq++;
      lines.push({ type: 'beds', source, seq, at: new Date().toISOString(), hospital: IDS[seq % IDS.length], beds: { medical_surgical: { occupied: seq } } });
    }
    const end = Date.now() + WAIT.timeout;
    for (;;) {
      const replies = await f.sendBatch(lines);
      const first = replies.findIndex((r) => !r.ok);
      if (first < 0) return replies.at(-1).offset;
      assert.equal(replies[first].error, 'unavailable', JSON.stringify(replies[first]));
      assert.ok(Date.now() < end, 'lines still unavailable after 20 s');
      lines = lines.slice(first);
      await sleep(50);
    }
  };

  const metric = async (name) => Number((new RegExp(`^${name} (\\d+)`, 'm').exec((await stack.get('/metrics')).body) || [])[1]);

  // Every dashboard: on the server's epoch, at its offset, with the
  // stored values of the master at `port`, and no gap seen.
  const dashboardsMatch = async (port) => {
    const want = new Map();
    for (const id of IDS) want.set(id, await stored(port, id));
    const last = Number(await cli(port, 'GET', 'bp:offset'));
    const ready = await waitFor(async () => {
      const r = await stack.get('/readyz');
      return r.status === 200 && r.json.offset === last && r.json;
    }, { ...WAIT, what: `the server to follow the new master to offset ${last}` });
    for (const [i, c] of clients.entries()) {
      await c.waitFor((x) => x.epoch === ready.epoch && x.offset === ready.offset &&
        [...want].every(([id, v]) => {
          const h = x.hospitals.get(id);
          const got = h && h.beds && h.beds.medical_surgical ? h.beds.medical_surgical.occupied : null;
          return v === null ? got === null || got === undefined || got === 0 : got === v;
        }), { ...WAIT, what: `dashboard ${i} to show the new master's state` });
      assert.equal(c.gaps, 0, `dashboard ${i} saw a gap`);
      assert.equal(c.closeCode, undefined, `dashboard ${i} was disconnected`);
    }
  };

  before(stack.guard(async () => {
    const master = await startRedis();
    await proxy.start(master);
    stack.master = master;
    stack.opts.env = { BP_REDIS_PORT: String(proxy.port) };
    await stack.startCollector();
    await stack.startServer();
    feed = await stack.feed();
    for (let i = 0; i < 2; i++) {
      const c = await stack.live();
      await c.waitFor((x) => x.snapshot, WAIT);
      clients.push(c);
    }
  }));

  after(async () => {
    for (const c of clients) c.close();
    if (feed) feed.destroy();
    await proxy.close();
    await stack.stop({ keep: true });
    for (const p of redis.values()) await p.stop();
    const problems = stack.problems();
    await stack.stop();
    assert.deepEqual(problems, []);
  });

  test('the new master ends before the offset read: new epoch, fresh snapshots', { timeout: 60000 }, stack.guard(async () => {
    const master = stack.master;
    await send(feed, 30);
    const replica = await detachedReplica(master);
    const kept = Number(await cli(replica, 'GET', 'bp:offset'));
    const shown = await send(feed, 10); // acknowledged on the master only
    assert.ok(shown > kept);
    for (const c of clients) await c.waitFor((x) => x.offset === shown, { ...WAIT, what: 'dashboards to show the last change' });
    const epoch = clients[0].epoch;

    proxy.switchTo(replica);
    await redis.get(master).stop('SIGKILL');
    redis.delete(master);
    stack.master = replica;

    // what matters: after new changes, every dashboard shows the new
    // master's state (resuming at offset 40 would skip the new 31..40)
    const next = await send(feed, 10);
    assert.equal(next, kept + 10);
    await dashboardsMatch(replica);
    // how: the server saw the rewritten history and started a new epoch,
    // so the dashboards took fresh snapshots
    assert.equal(await metric('bedpulse_history_rewrites_total'), 1);
    assert.notEqual((await stack.get('/readyz')).json.epoch, epoch);
    for (const c of clients) assert.ok(c.ofType('snapshot').length >= 2, 'a dashboard kept its old snapshot');
    // the acknowledged changes the replica never had are gone (min_replicas_ack 0)
    const values = (await cli(replica, 'XRANGE', 'bp:stream', '-', '+')).split('\n').filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l).beds.medical_surgical.occupied);
    assert.ok(!values.some((v) => v > seq - 20 && v <= seq - 10), 'a change the replica never had is in its stream');
  }));

  test('other changes at the same offsets: seen by content, new epoch', { timeout: 60000 }, stack.guard(async () => {
    const master = stack.master;
    await send(feed, 10);
    const replica = await detachedReplica(master);
    const shown = await send(feed, 5);
    for (const c of clients) await c.waitFor((x) => x.offset === shown, { ...WAIT, what: 'dashboards to show the last change' });
    const epoch = clients[0].epoch;
    // another collector writes five other changes to the replica: the same
    // offsets, other content
    const other = new Stack({ env: { BP_REDIS_PORT: String(replica) } });
    let otherLast;
    try {
      await other.startCollector();
      const f2 = await other.feed();
      otherLast = await send(f2, 5, 'rewrite-other');
      f2.destroy();
    } finally {
      await other.stop({ keep: true });
      const problems = other.problems();
      await other.stop();
      assert.deepEqual(problems, []);
    }
    assert.equal(otherLast, shown, 'the replica reached the same offset');

    proxy.switchTo(replica);
    await redis.get(master).stop('SIGKILL');
    redis.delete(master);
    stack.master = replica;

    // the dashboards showed the old master's changes at these offsets: they
    // must end with the new master's, although the offsets did not move
    await dashboardsMatch(replica);
    assert.equal(await metric('bedpulse_history_rewrites_total'), 2);
    assert.notEqual((await stack.get('/readyz')).json.epoch, epoch);
  }));
});
