'use strict';
// A slow Redis is not a lost one (issue 9): Redis stopped (SIGSTOP) for less
// than redis.command_timeout_ms — as a slow fsync with appendfsync always
// stalls it on a busy disk — delays the answers but every line is still
// acknowledged, with no reconnect. Stopped for longer, the collector gives
// up on the link: lines waiting are answered `unavailable` (never silence)
// while Redis is still frozen, and the same lines are accepted once it
// thaws. And no gap behind an `unavailable`: a connection takes nothing
// new until the refused line is resent, so a later line can never be
// applied ahead of it (which would make the resend a false duplicate).

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Stack, waitFor, bedsMsg, httpRequest } = require('../lib/stack');

const TIMEOUT_MS = 3000;

describe('a slow or frozen Redis', () => {
  const stack = new Stack({ env: { BP_REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS) } });
  let feed;
  let seq = 0;
  const lines = (n, tag) => Array.from({ length: n }, (_, i) => bedsMsg({
    source: `stall-${tag}`, seq: ++seq, hospital: i % 2 ? 'viet-duc' : 'bach-mai', beds: { medical_surgical: { occupied: seq } },
  }));
  const redisPid = () => stack.procs.redis.child.pid;
  const lost = () => (fs.readFileSync(path.join(stack.dir, 'collector.log'), 'utf8').match(/redis apply: connection lost/g) || []).length;

  before(stack.guard(async () => {
    await stack.start();
    feed = await stack.feed();
  }));
  after(async () => {
    try {
      process.kill(redisPid(), 'SIGCONT');
    } catch (e) { /* gone */ }
    if (feed) feed.destroy();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });

  test('stalled for less than the command timeout: every line acknowledged, no reconnect', stack.guard(async () => {
    const lostBefore = lost();
    process.kill(redisPid(), 'SIGSTOP');
    const pending = feed.sendBatch(lines(50, 'short'));
    let answered = 0;
    pending.then(() => (answered = 1));
    // the stall itself is the experiment: a third of the timeout, measured
    // while nothing can be answered
    const t0 = Date.now();
    await waitFor(() => Date.now() - t0 >= TIMEOUT_MS / 3, { timeout: TIMEOUT_MS, what: 'the stall' });
    assert.equal(answered, 0, 'answered while Redis was stopped');
    process.kill(redisPid(), 'SIGCONT');
    const replies = await pending;
    const bad = replies.filter((r) => !r.ok);
    assert.deepEqual(bad, [], `${bad.length} of ${replies.length} lines not acknowledged`);
    assert.equal(lost(), lostBefore, 'the collector dropped its Redis link');
  }));

  test('frozen for longer: unavailable while still frozen, accepted again after', stack.guard(async () => {
    const batch = lines(20, 'long');
    process.kill(redisPid(), 'SIGSTOP');
    let thawed = false;
    try {
      const replies = await feed.sendBatch(batch);
      // answered while Redis is still stopped (not silence), each with the rule
      assert.equal(thawed, false);
      for (const r of replies) {
        assert.equal(r.ok, false, JSON.stringify(r));
        assert.equal(r.error, 'unavailable', JSON.stringify(r));
        assert.match(r.message, /resend/);
      }
      assert.ok(lost() >= 1, 'the collector noticed the link is dead');
    } finally {
      thawed = true;
      process.kill(redisPid(), 'SIGCONT');
    }
    // once it thaws, the same lines (same seqs) are accepted — each exactly
    // once, whether or not Redis ran them after the link was dropped
    const again = await waitFor(async () => {
      const r = await feed.sendBatch(batch);
      return r.every((x) => x.ok) && r;
    }, { timeout: 20000, what: 'the resent lines to be accepted' });
    // every line of the batch is in the stream exactly once (a resend of an
    // applied line is answered as a duplicate with the source's last offset)
    const entries = stack.redis('XRANGE', 'bp:stream', '-', '+').split('\n').filter((l) => l.includes('"stall-long"'));
    const values = entries.map((l) => JSON.parse(l).beds.medical_surgical.occupied).sort((a, b) => a - b);
    assert.deepEqual(values, batch.map((l) => l.seq), 'each line applied exactly once');
  }));

  test('Redis lost: after an unavailable, nothing new is applied until that line is resent (no false duplicate)', stack.guard(async () => {
    const [a, b] = lines(2, 'gap');
    await stack.killRedis(); // a is refused without reaching Redis
    const ra = await feed.send(a);
    await stack.startRedis();
    assert.equal(ra.error, 'unavailable', `${JSON.stringify(ra)} for ${JSON.stringify(a)}`);
    // Redis is back for everyone (a line on another connection is applied)...
    const other = await stack.feed();
    const probe = bedsMsg({ source: 'stall-other', seq: 1, hospital: 'thanh-nhan' }); // resent as is until applied
    await waitFor(async () => {
      const r = await other.send(probe);
      if (!r.ok) throw new Error(JSON.stringify(r));
      return r;
    }, { timeout: 20000, what: 'the collector to reach Redis again' });
    other.destroy();
    // (and every link of the collector is up: it applies lines on several)
    await waitFor(async () => (await httpRequest(stack.collectorHttpPort, 'GET', '/readyz')).status === 200,
      { timeout: 20000, what: 'the collector ready again' });
    // ...but this connection takes nothing new before the refused line
    const rb = await feed.send(b);
    assert.equal(rb.ok, false, JSON.stringify(rb));
    assert.equal(rb.error, 'unavailable');
    assert.match(rb.message, new RegExp(`seq ${a.seq}\\b.*resend every line not acknowledged, in order`));
    // the resend, in order: a is applied (not a duplicate), then b
    const ra2 = await feed.send(a);
    assert.equal(ra2.ok, true, JSON.stringify(ra2));
    assert.equal(ra2.duplicate, undefined, 'a was never applied: it must not be acknowledged as a duplicate');
    const rb2 = await feed.send(b);
    assert.equal(rb2.ok, true, JSON.stringify(rb2));
    assert.equal(rb2.offset, ra2.offset + 1);
    assert.equal(stack.stored('hospital', a.hospital).beds.medical_surgical.occupied, a.seq);
  }));
});
