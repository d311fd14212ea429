'use strict';
// Fault c: one of two bp-servers on one Redis killed -9 under 300
// WebSocket dashboards while a feed keeps changing the figures. Every
// dashboard reconnects to the other server with {epoch, offset}
// (docs/protocol.md §2) and resumes there: no snapshot, no gap, no
// duplicate, and in the end it holds what Redis holds.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Stack, waitFor } = require('../lib/stack');
const { Sender, Dashboard, summary, checkEnd, endCase } = require('../lib/faults');
const registry = require('../../config/hospitals.json');

const IDS = registry.hospitals.map((h) => h.id);
const WAIT = { timeout: 40000, interval: 50 };
const CLIENTS = 300;

describe('fault c: a server killed -9 under 300 dashboards', () => {
  const stack = new Stack();
  const boards = [];
  let sender;
  let second;
  let ports;

  before(stack.guard(async () => {
    await stack.start();
    second = await stack.startServer({}, 'second');
    ports = [stack.serverPort];
    for (let i = 0; i < CLIENTS; i++) boards.push(new Dashboard(() => ports, { index: i, jitterMs: 1000 }));
    for (let i = 0; i < CLIENTS; i += 50) await Promise.all(boards.slice(i, i + 50).map((b) => b.start()));
    await waitFor(() => boards.every((b) => b.snapshot), { ...WAIT, what: 'every dashboard has a snapshot' });
  }));
  after(async () => {
    await endCase(stack, [sender], boards);
  });

  test('every dashboard resumes on the other server without gap or duplicate', stack.guard(async () => {
    sender = new Sender({ port: () => stack.collectorPort, source: 'skill', hospitals: IDS.slice(0, 20), rate: 40 }).start();
    const atKill = sender.st.acked;
    await waitFor(() => sender.st.acked >= atKill + 80 && boards.every((b) => b.events.length > 0), { ...WAIT, what: 'events reaching every dashboard' });
    // new connections go to the second server from now on
    ports = [second];
    const tKill = Date.now();
    await stack.stopProc('server', 'SIGKILL');
    await waitFor(() => boards.every((b) => b.reconnects >= 1), { ...WAIT, what: 'every dashboard to notice' });
    const resumed = (b) => b.welcomes.length >= 2;
    await waitFor(() => boards.every(resumed), { ...WAIT, what: `every dashboard resumed (${boards.filter(resumed).length} of ${CLIENTS})` });
    const tResumed = Date.now();
    const lateAcks = sender.st.acked;
    await waitFor(() => sender.st.acked >= lateAcks + 80, { ...WAIT, what: 'more changes after the move' });
    assert.equal(await sender.stop(30000), 0, 'lines left unacknowledged');

    const after = boards.flatMap((b) => b.welcomes.slice(1));
    const modes = {};
    for (const w of after) {
      const k = w.mode === 'resume' ? `resume_${w.via}` : `snapshot_${w.reason}`;
      modes[k] = (modes[k] || 0) + 1;
    }
    assert.deepEqual(after.filter((w) => w.mode !== 'resume').map((w) => w.reason), [], 'a dashboard got a snapshot instead of resuming');
    const { check, conv, gaps, dups } = await checkEnd(stack, [sender], boards, IDS);
    assert.ok(boards.every((b) => b.url.endsWith(`:${second}/ws`)), 'every dashboard is on the second server');

    summary('c server kill -9', {
      dashboards: CLIENTS, resumed_ms: tResumed - tKill, ...modes, gaps, duplicates: dups,
      events_per_dashboard: Math.min(...boards.map((b) => b.events.length)), lines: check.lines, converge_ms: conv.ms,
    });
  }));
});
