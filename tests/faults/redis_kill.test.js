'use strict';
// Fault a: redis-server killed -9 while three feeds send 360 changes a
// second, then started again on its AOF (appendfsync always). Nothing
// acknowledged may be lost (every acknowledged line is in the stream, at
// its offset, with its source and seq, exactly once), every line sent
// during the outage is answered (never a hang), lines are accepted again
// soon after Redis is back, and every dashboard ends with what Redis holds.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Stack, waitFor } = require('../lib/stack');
const { Sender, summary, total, startDashboards, checkEnd, endCase } = require('../lib/faults');
const registry = require('../../config/hospitals.json');

const IDS = registry.hospitals.map((h) => h.id);
const WAIT = { timeout: 30000, interval: 20 };

describe('fault a: Redis killed -9 mid-feed and restarted on its AOF', () => {
  const stack = new Stack();
  const senders = [];
  const boards = [];

  before(stack.guard(async () => {
    await stack.start();
    await startDashboards(boards, 20, [stack.serverPort]);
  }));
  after(async () => {
    await endCase(stack, senders, boards);
  });

  test('no acknowledged change lost, every line answered, accepted again, dashboards converge', stack.guard(async () => {
    for (let i = 0; i < 3; i++) {
      senders.push(new Sender({ port: () => stack.collectorPort, source: `kill-${i}`, hospitals: IDS.slice(i * 10, i * 10 + 10), rate: 120 }).start());
    }
    const acked = () => total(senders, 'acked');
    await waitFor(() => acked() >= 300, { ...WAIT, what: '300 acknowledged lines' });
    const r0 = acked();
    const t0 = Date.now();
    await waitFor(() => Date.now() - t0 >= 1000, { ...WAIT, what: 'a second of traffic' });
    const rate = ((acked() - r0) * 1000) / (Date.now() - t0);

    const tKill = Date.now();
    await stack.killRedis();
    const tDead = Date.now();
    // every sender is refused, and the server stops following the stream
    await waitFor(() => senders.every((s) => s.firstRefusalAfter(tKill) !== null), { ...WAIT, what: 'every sender refused' });
    await waitFor(async () => (await stack.get('/readyz')).status === 503, { ...WAIT, what: '/readyz 503' });
    const unavailableBefore = total(senders, 'unavailable');
    // the outage lasts until the senders have been refused for a while
    await waitFor(() => Date.now() - tDead >= 2000 && total(senders, 'unavailable') >= unavailableBefore + 100,
      { ...WAIT, what: 'refused lines during the outage' });

    const tStart = Date.now();
    await stack.startRedis({ timeout: 30000 });
    const tBack = Date.now();
    await waitFor(() => senders.every((s) => s.firstAckAfter(tBack) !== null), { ...WAIT, what: 'every sender accepted again' });
    const recover = senders.map((s) => s.firstAckAfter(tBack) - tBack);
    await waitFor(() => senders.every((s) => s.ackedSince(tBack) >= 200), { ...WAIT, what: '200 more lines per sender' });
    const ready = await waitFor(async () => (await stack.get('/readyz')).status === 200 && Date.now(), { ...WAIT, what: '/readyz 200' });
    for (const s of senders) assert.equal(await s.stop(30000), 0, `${s.source}: lines left unacknowledged`);

    // once refused, nothing was acknowledged before Redis was back
    const early = senders.flatMap((s) => s.ackedWhileRefused(tKill, tStart));
    assert.deepEqual(early.map((b) => b.seq), [], 'acknowledged while Redis was down');
    for (const s of senders) {
      assert.equal(s.error, null, `${s.source}: ${s.error}`);
      assert.deepEqual(s.errors, [], `${s.source}: answers other than ok/unavailable`);
      assert.equal(s.st.okAfterRefusal, 0, `${s.source}: a line applied behind a refused one`);
      assert.ok(s.st.maxReplyMs < 30000, `${s.source}: an answer took ${s.st.maxReplyMs} ms`);
    }
    const worst = Math.max(...recover);
    assert.ok(worst <= 30000, `accepted again only ${worst} ms after Redis was back`);

    const { check, conv } = await checkEnd(stack, senders, boards, IDS);

    const sum = (k) => total(senders, k);
    summary('a redis kill -9', {
      rate_per_s: Math.round(rate), lines: check.lines, sent: sum('sent'), acked: sum('acked'), dup_acks: sum('duplicates'),
      unavailable: sum('unavailable'), outage_ms: tBack - tKill, recover_ms: `${Math.min(...recover)}..${worst}`,
      ready_ms: ready - tBack, max_reply_ms: Math.max(...senders.map((s) => s.st.maxReplyMs)),
      stream_entries: check.entries, dashboards: boards.length, converge_ms: conv.ms, dashboard_reconnects: boards.reduce((n, b) => n + b.reconnects, 0),
    });
  }));
});
