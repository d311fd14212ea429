'use strict';
// Fault e: Redis up but refusing writes — `min-replicas-to-write 1` with no
// replica (NOREPLICAS), then `maxmemory` reached with noeviction (OOM) —
// while two feeds send and resend in large pipelined windows. Every line
// is answered `unavailable` with a message naming Redis's reason (so an
// operator sees why), nothing is acknowledged while it lasts, the servers
// keep serving what Redis holds (one started meanwhile too: reading needs
// no write), and when the setting is put back lines are accepted again,
// each exactly once: a refused line is never overtaken by a later one
// (which would make its resend a false duplicate).

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Stack, waitFor } = require('../lib/stack');
const { Sender, Dashboard, checkStream, converge, readStream, summary, total, startDashboards, endCase } = require('../lib/faults');
const registry = require('../../config/hospitals.json');

const IDS = registry.hospitals.map((h) => h.id);
const WAIT = { timeout: 30000, interval: 20 };

const CAUSES = [
  { code: 'NOREPLICAS', set: ['min-replicas-to-write', '1'], clear: ['min-replicas-to-write', '0'] },
  { code: 'OOM', set: ['maxmemory', '1'], clear: ['maxmemory', '0'] },
];

describe('fault e: Redis refusing writes', () => {
  const stack = new Stack();
  const senders = [];
  const boards = [];

  before(stack.guard(async () => {
    await stack.start();
    await startDashboards(boards, 10, [stack.serverPort]);
    // big windows resent at once: a refused window is in Redis's hands
    // while the setting changes back
    for (let i = 0; i < 2; i++) {
      senders.push(new Sender({ port: () => stack.collectorPort, source: `refuse-${i}`, hospitals: IDS.slice(i * 10, i * 10 + 10), rate: 150, window: 256, retryMs: 1 }).start());
    }
  }));
  after(async () => {
    await endCase(stack, senders, boards);
  });

  for (const cause of CAUSES) {
    test(`${cause.code}: answered with the reason, nothing acknowledged, servers keep serving, accepted again`, stack.guard(async () => {
      const acked = () => total(senders, 'acked');
      const refused = () => total(senders, 'unavailable');
      const a0 = acked();
      await waitFor(() => acked() >= a0 + 200, { ...WAIT, what: 'changes flowing' });
      const messages0 = senders.map((s) => new Map(s.messages));
      const tSet = Date.now();
      stack.redis('CONFIG', 'SET', ...cause.set);
      const tSetDone = Date.now();
      const named = (s, i) => [...s.messages.keys()].some((m) => m.includes(cause.code) && !messages0[i].has(m));
      await waitFor(() => senders.every(named), { ...WAIT, what: `answers naming ${cause.code}` });
      const r0 = refused();
      await waitFor(() => refused() >= r0 + 1000 && Date.now() - tSetDone >= 1500, { ...WAIT, what: 'refused lines' });
      // reading needs no write: the server follows, and one started now loads
      assert.equal((await stack.get('/readyz')).status, 200);
      const name = `during-${cause.code}`;
      const tStart = Date.now();
      const port = await stack.startServer({}, name);
      const startMs = Date.now() - tStart;
      const late = new Dashboard([port], { index: 0 });
      boards.push(late);
      await late.start();
      await late.waitFor((c) => c.snapshot, { ...WAIT, what: 'a snapshot from the server started meanwhile' });
      const tClear = Date.now();
      stack.redis('CONFIG', 'SET', ...cause.clear);
      await waitFor(() => senders.every((s) => s.firstAckAfter(tClear) !== null), { ...WAIT, what: 'every sender accepted again' });
      const recover = Math.max(...senders.map((s) => s.firstAckAfter(tClear) - tClear));
      await waitFor(() => senders.every((s) => s.ackedSince(tClear) >= 300), { ...WAIT, what: '300 more lines per sender' });

      const early = senders.flatMap((s) => s.ackedWhileRefused(tSet, tClear));
      assert.deepEqual(early.map((b) => `${b.line.source}#${b.seq}`), [], `acknowledged while Redis refused writes (${cause.code})`);
      const sample = [...senders[0].messages.keys()].find((m) => m.includes(cause.code));
      assert.match(sample, /resend/, 'the answer says what to do');
      for (const s of senders) {
        assert.deepEqual(s.errors, [], `${s.source}: answers other than ok/unavailable`);
        assert.equal(s.st.okAfterRefusal, 0, `${s.source}: a line was applied behind a refused one`);
      }
      await Promise.all(senders.map((s) => s.pause()));
      const conv = await converge(boards, stack.redisPort, IDS);
      senders.forEach((s) => s.resume());
      assert.equal(conv.bad, 0, `dashboards differ from Redis: ${conv.diffs.join('; ')}`);
      summary(`e redis refuses writes (${cause.code})`, {
        refused_lines: refused() - r0, refused_for_ms: tClear - tSet, recover_ms: recover, server_start_ms: startMs,
        message: JSON.stringify(sample),
      });
    }));
  }

  test('every line applied exactly once; no gap or duplicate on a dashboard', stack.guard(async () => {
    for (const s of senders) assert.equal(await s.stop(30000), 0, `${s.source}: lines left unacknowledged`);
    const check = checkStream(readStream(stack.redisPort), senders);
    assert.deepEqual(check.problems.slice(0, 10), [], `${check.problems.length} problems in the stream`);
    assert.equal(check.acked, check.lines);
    assert.equal(boards.reduce((n, b) => n + b.gaps + b.duplicates, 0), 0);
    const sum = (k) => total(senders, k);
    summary('e totals', { lines: check.lines, sent: sum('sent'), acked: sum('acked'), dup_acks: sum('duplicates'), unavailable: sum('unavailable') });
  }));
});
