'use strict';
// Fault d: redis-server frozen (SIGSTOP) for 10 s while feeds send, then
// thawed (SIGCONT), with redis.command_timeout_ms at 3 s. The heartbeat
// notices: feeds get `unavailable` while Redis is still frozen (never
// silence), the server leaves /readyz and tells its dashboards their data
// is going stale; the collector's and the server's memory stays bounded;
// after the thaw lines are accepted again, every line is in the stream
// exactly once and every dashboard holds what Redis holds.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Stack, waitFor } = require('../lib/stack');
const { Sender, rssKiB, asanOptions, summary, total, startDashboards, checkEnd, endCase } = require('../lib/faults');
const registry = require('../../config/hospitals.json');

const IDS = registry.hospitals.map((h) => h.id);
const WAIT = { timeout: 30000, interval: 20 };
const TIMEOUT_MS = 3000;
const FREEZE_MS = 10000;
const GROWTH_BOUND_KIB = 64 * 1024; // what "bounded" allows a process to grow by

describe('fault d: Redis frozen for 10 s', () => {
  const stack = new Stack({ env: { BP_REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS), ASAN_OPTIONS: asanOptions() } });
  const senders = [];
  const boards = [];
  let redisPid;

  before(stack.guard(async () => {
    await stack.start();
    redisPid = stack.procs.redis.child.pid;
    await startDashboards(boards, 20, [stack.serverPort]);
  }));
  after(async () => {
    try {
      process.kill(redisPid, 'SIGCONT');
    } catch (e) { /* gone */ }
    await endCase(stack, senders, boards);
  });

  test('unavailable not silence, memory bounded, dashboards told, everything recovers', stack.guard(async () => {
    for (let i = 0; i < 3; i++) {
      senders.push(new Sender({ port: () => stack.collectorPort, source: `freeze-${i}`, hospitals: IDS.slice(i * 10, i * 10 + 10), rate: 80 }).start());
    }
    const acked = () => total(senders, 'acked');
    const unavailable = () => total(senders, 'unavailable');
    await waitFor(() => acked() >= 600, { ...WAIT, what: '600 acknowledged lines' });
    const pids = { collector: stack.procs.collector.child.pid, server: stack.procs.server.child.pid };
    const rss0 = { collector: rssKiB(pids.collector), server: rssKiB(pids.server) };
    const lost = () => (fs.readFileSync(path.join(stack.dir, 'collector.log'), 'utf8').match(/redis apply: connection lost/g) || []).length;

    process.kill(redisPid, 'SIGSTOP');
    const tStop = Date.now();
    let thawed = false;
    let during;
    try {
      await waitFor(() => unavailable() > 0, { ...WAIT, what: 'an unavailable answer while frozen' });
      const tFirstRefusal = Date.now();
      await waitFor(async () => (await stack.get('/readyz')).status === 503, { ...WAIT, what: '/readyz 503' });
      const tNotReady = Date.now();
      await waitFor(() => boards.every((b) => b.status && b.status.state === 'stale'), { ...WAIT, what: 'every dashboard told its data is stale' });
      const tStale = Date.now();
      // the freeze itself is the experiment: 10 s, while watching answers come
      await waitFor(() => Date.now() - tStop >= FREEZE_MS, { timeout: FREEZE_MS + 5000, what: 'the freeze' });
      during = {
        refused_ms: tFirstRefusal - tStop, not_ready_ms: tNotReady - tStop, stale_ms: tStale - tStop,
        unavailable: unavailable(), lost: lost(),
        rss: { collector: rssKiB(pids.collector), server: rssKiB(pids.server) },
      };
      assert.equal(thawed, false);
    } finally {
      thawed = true;
      process.kill(redisPid, 'SIGCONT');
    }
    const tCont = Date.now();
    assert.ok(during.unavailable > 0, 'no line was answered while Redis was frozen');
    assert.ok(during.lost >= 1, 'the collector did not notice the frozen Redis');

    await waitFor(() => senders.every((s) => s.firstAckAfter(tCont) !== null), { ...WAIT, what: 'every sender accepted again' });
    const recover = Math.max(...senders.map((s) => s.firstAckAfter(tCont) - tCont));
    await waitFor(async () => (await stack.get('/readyz')).status === 200, { ...WAIT, what: '/readyz 200' });
    const tReady = Date.now();
    await waitFor(() => boards.every((b) => b.status && b.status.state === 'live'), { ...WAIT, what: 'every dashboard told its data is live again' });
    const tLive = Date.now();
    await waitFor(() => senders.every((s) => s.ackedSince(tCont) >= 200), { ...WAIT, what: '200 more lines per sender' });
    for (const s of senders) assert.equal(await s.stop(60000), 0, `${s.source}: lines left unacknowledged`);
    const rss1 = { collector: rssKiB(pids.collector), server: rssKiB(pids.server) };
    for (const s of senders) {
      assert.equal(s.error, null, `${s.source}: ${s.error}`);
      assert.deepEqual(s.errors, [], `${s.source}: answers other than ok/unavailable`);
      assert.ok(s.st.maxReplyMs < 30000, `${s.source}: an answer took ${s.st.maxReplyMs} ms`);
    }
    for (const p of ['collector', 'server']) {
      for (const r of [during.rss[p], rss1[p]]) {
        assert.ok(r - rss0[p] < GROWTH_BOUND_KIB, `${p} grew from ${rss0[p]} to ${r} KiB`);
      }
    }
    const { check, conv } = await checkEnd(stack, senders, boards, IDS);

    const sum = (k) => total(senders, k);
    summary('d redis frozen 10 s', {
      first_unavailable_ms: during.refused_ms, readyz_503_ms: during.not_ready_ms, stale_told_ms: during.stale_ms,
      unavailable_while_frozen: during.unavailable, max_reply_ms: Math.max(...senders.map((s) => s.st.maxReplyMs)),
      recover_ms: recover, ready_ms: tReady - tCont, live_told_ms: tLive - tCont,
      collector_rss_kib: `${rss0.collector}/${during.rss.collector}/${rss1.collector}`,
      server_rss_kib: `${rss0.server}/${during.rss.server}/${rss1.server}`,
      lines: check.lines, sent: sum('sent'), acked: sum('acked'), dup_acks: sum('duplicates'), unavailable: sum('unavailable'),
      converge_ms: conv.ms,
    });
  }));
});
