'use strict';
// Fault f: bp-collector killed -9 with lines in flight (three feeds, 360
// changes a second, up to 64 lines each unanswered at any time), then
// started again. A sender that resends its unacknowledged lines, in order,
// on a new connection ends with every line applied exactly once: the
// stream holds each (source, seq) once, the lines whose answers died with
// the collector are acknowledged as duplicates, and every dashboard ends
// with what Redis holds.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Stack, waitFor } = require('../lib/stack');
const { Sender, summary, total, startDashboards, checkEnd, endCase } = require('../lib/faults');
const registry = require('../../config/hospitals.json');

const IDS = registry.hospitals.map((h) => h.id);
const WAIT = { timeout: 30000, interval: 20 };

describe('fault f: collector killed -9 with lines in flight', () => {
  const stack = new Stack();
  const senders = [];
  const boards = [];

  before(stack.guard(async () => {
    await stack.start();
    await startDashboards(boards, 10, [stack.serverPort]);
  }));
  after(async () => {
    await endCase(stack, senders, boards);
  });

  test('a resending sender ends with every line applied exactly once', stack.guard(async () => {
    for (let i = 0; i < 3; i++) {
      senders.push(new Sender({ port: () => stack.collectorPort, source: `ckill-${i}`, hospitals: IDS.slice(i * 10, i * 10 + 10), rate: 120 }).start());
    }
    const acked = () => total(senders, 'acked');
    const inFlight = () => senders.reduce((n, s) => n + s.lines.filter((b) => b.attempts > 0 && b.offset === null).length, 0);
    const kills = [];
    // two kills, each while lines wait for their answers
    for (let round = 0; round < 2; round++) {
      const before = acked();
      await waitFor(() => acked() >= before + 300 && inFlight() > 0, { ...WAIT, what: 'lines in flight' });
      const flying = inFlight();
      const tKill = Date.now();
      await stack.stopProc('collector', 'SIGKILL');
      await waitFor(() => senders.every((s) => s.st.lostConnections > round), { ...WAIT, what: 'every sender lost its connection' });
      await stack.startCollector();
      const tBack = Date.now();
      await waitFor(() => senders.every((s) => s.firstAckAfter(tBack) !== null), { ...WAIT, what: 'every sender accepted again' });
      kills.push({ flying, down_ms: tBack - tKill, recover_ms: Math.max(...senders.map((s) => s.firstAckAfter(tBack) - tBack)) });
    }
    const before = acked();
    await waitFor(() => acked() >= before + 300, { ...WAIT, what: 'more lines after the last restart' });
    for (const s of senders) assert.equal(await s.stop(30000), 0, `${s.source}: lines left unacknowledged`);
    for (const s of senders) {
      assert.equal(s.error, null, `${s.source}: ${s.error}`);
      assert.deepEqual(s.errors, [], `${s.source}: answers other than ok/unavailable`);
      assert.ok(s.st.connects >= 3, `${s.source}: ${s.st.connects} connections`);
    }

    const { check, conv } = await checkEnd(stack, senders, boards, IDS);

    const sum = (k) => total(senders, k);
    summary('f collector kill -9', {
      kills: kills.length, in_flight_at_kill: kills.map((k) => k.flying).join('/'), down_ms: kills.map((k) => k.down_ms).join('/'),
      recover_ms: kills.map((k) => k.recover_ms).join('/'), lines: check.lines, sent: sum('sent'), acked: sum('acked'),
      dup_acks: sum('duplicates'), resent: sum('sent') - check.lines, connections: sum('connects'), stream_entries: check.entries,
      converge_ms: conv.ms,
    });
  }));
});
