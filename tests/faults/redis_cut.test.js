'use strict';
// Fault g: a bp-server cut off from Redis (through tests/lib/proxy.js)
// while the collector, which still reaches Redis, keeps accepting changes.
// First the network drops everything silently (only the heartbeat and the
// command timeout, 3 s here, can notice), then it resets every connection.
// Each time the server leaves /readyz (503), tells its dashboards their
// data is going stale ({"type":"status","state":"stale"}, docs/protocol.md
// §2) — also one that connects meanwhile — and, when the link returns,
// reloads, sends what was missed and {"state":"live"}: every dashboard ends
// with what Redis holds, without a gap or a duplicate.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Stack, waitFor } = require('../lib/stack');
const { TcpProxy } = require('../lib/proxy');
const { Sender, Dashboard, checkStream, converge, readStream, summary, startDashboards, endCase } = require('../lib/faults');
const registry = require('../../config/hospitals.json');

const IDS = registry.hospitals.map((h) => h.id);
const WAIT = { timeout: 30000, interval: 20 };

function metric(body, name) {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(body);
  return m ? Number(m[1]) : NaN;
}

describe('fault g: the server cut off from Redis', () => {
  const stack = new Stack({ env: { BP_REDIS_COMMAND_TIMEOUT_MS: '3000' } });
  const proxy = new TcpProxy(0);
  const boards = [];
  let sender;

  before(stack.guard(async () => {
    await stack.startRedis();
    await stack.startCollector();
    proxy.targetPort = stack.redisPort;
    await proxy.start();
    await stack.startServer({ BP_REDIS_PORT: String(proxy.port) });
    await startDashboards(boards, 20, [stack.serverPort]);
    sender = new Sender({ port: () => stack.collectorPort, source: 'cut', hospitals: IDS.slice(0, 20), rate: 100 }).start();
  }));
  after(async () => {
    await proxy.close();
    await endCase(stack, [sender], boards);
  });

  const reloads = async () => metric((await stack.get('/metrics')).body, 'bedpulse_reloads_total');

  for (const how of ['blackhole', 'cut']) {
    test(`${how}: not ready, dashboards told stale, reload and live again`, stack.guard(async () => {
      const before = sender.st.acked;
      await waitFor(() => sender.st.acked >= before + 100, { ...WAIT, what: 'changes flowing' });
      // from a healthy start: following the stream, every dashboard live
      await waitFor(async () => (await stack.get('/readyz')).status === 200 && boards.every((b) => !b.status || b.status.state === 'live'),
        { ...WAIT, what: 'a healthy start' });
      const reloads0 = await reloads();
      const t0 = Date.now();
      proxy[how]();
      await waitFor(async () => (await stack.get('/readyz')).status === 503, { ...WAIT, what: '/readyz 503' });
      const tNotReady = Date.now();
      await waitFor(() => boards.every((b) => b.status && b.status.state === 'stale'), { ...WAIT, what: 'every dashboard told stale' });
      const tStale = Date.now();
      for (const b of boards) {
        assert.equal(b.status.reason, 'redis');
        assert.ok(Date.parse(b.status.since) <= tStale, `since ${b.status.since}`);
      }
      // one that connects now gets the state the server has, and the warning
      const late = new Dashboard([stack.serverPort]);
      boards.push(late);
      await late.start();
      await late.waitFor((c) => c.snapshot && c.status && c.status.state === 'stale', { ...WAIT, what: 'a new dashboard told stale' });
      // the collector still commits: Redis is ahead of every dashboard now
      const ahead = sender.st.acked;
      await waitFor(() => sender.st.acked >= ahead + 100, { ...WAIT, what: 'changes committed meanwhile' });
      const tRestore = Date.now();
      proxy.restore();
      await waitFor(async () => (await stack.get('/readyz')).status === 200, { ...WAIT, what: '/readyz 200' });
      const tReady = Date.now();
      await waitFor(() => boards.every((b) => b.status && b.status.state === 'live'), { ...WAIT, what: 'every dashboard told live' });
      const tLive = Date.now();
      assert.ok(await reloads() > reloads0, 'the server did not reload');
      await sender.pause();
      const conv = await converge(boards, stack.redisPort, IDS);
      sender.resume();
      assert.equal(conv.bad, 0, `dashboards differ from Redis: ${conv.diffs.join('; ')}`);
      assert.equal(boards.reduce((n, b) => n + b.gaps + b.duplicates, 0), 0, 'gaps or duplicates on dashboards');
      assert.equal(boards.reduce((n, b) => n + b.reconnects, 0), 0, 'a dashboard was disconnected');
      summary(`g server cut off from Redis (${how})`, {
        readyz_503_ms: tNotReady - t0, stale_told_ms: tStale - t0, cut_ms: tRestore - t0,
        ready_ms: tReady - tRestore, live_told_ms: tLive - tRestore, converge_ms: conv.ms,
        dashboards: boards.length,
        proxy_connections: proxy.connections,
      });
    }));
  }

  test('every line applied exactly once', stack.guard(async () => {
    assert.equal(await sender.stop(30000), 0);
    assert.deepEqual(sender.errors, []);
    const check = checkStream(readStream(stack.redisPort), [sender]);
    assert.deepEqual(check.problems.slice(0, 10), []);
  }));
});
