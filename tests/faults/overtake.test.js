'use strict';
// No overtaking (issue 10, docs/redis.md "No overtaking"): when Redis
// refuses one line of a pipelined window and takes the next line of the
// same source, the later line must not be applied, or the refused line's
// resend would be answered as a duplicate without ever being applied.
//
// First the apply script alone (io/apply.lua through redis-cli): `prev`
// above what the source has decided is refused `behind` and writes
// nothing; a line decided without being applied (out_of_order) lets the
// next one through; the duplicate path and changes without seq are as
// before; while Redis refuses writes, a decision that must be recorded is
// refused whole. Then end to end, deterministically: Redis is made to refuse the
// write of one hospital's hash only (an ACL without write access to that
// one key), and two lines of one source — L1 for that hospital, L2 for
// another — go in one pipelined window, through the collector's port (on
// one connection, then resent on a new one) and through POST
// /api/v1/feed. L1 is refused with Redis's reason, L2 `unavailable`
// naming L1's seq; nothing of either is written; once Redis takes writes
// again the resent window applies, each line exactly once and never as a
// duplicate.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Stack, isoNow, bedsMsg } = require('../lib/stack');
const { cli, readStream, refuseWritesTo: refuseKey, allowAllKeys } = require('../lib/faults');

const SCRIPT = fs.readFileSync(path.join(__dirname, '..', '..', 'io', 'apply.lua'), 'utf8');
const KEYS = ['epoch', 'offset', 'stream', null, 'sources', 'audit', 'incidents', 'decided'].map((k) => k && `bp:${k}`);

describe('no line overtakes one Redis refused', () => {
  const stack = new Stack();
  let feedToken;

  before(stack.guard(async () => {
    await stack.start();
    feedToken = stack.createToken('feed', { hospitals: '*' });
    await stack.waitForToken(feedToken.token);
  }));
  after(async () => {
    stack.redis('ACL', 'SETUSER', 'default', 'allkeys');
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });

  // One run of the apply script for a hospital line with one bed type:
  // its answer as a list of strings.
  const apply = ({ source, seq, prev = '', at = Date.now(), hospital = 'bach-mai', occupied = 5 }) => {
    const keys = KEYS.map((k) => k || `bp:h:${hospital}`);
    const argv = ['hospital', hospital, source, String(seq), String(at), String(Date.now()), 'f'.repeat(32), '1000', '',
      source, 'anonymous', '127.0.0.1', '', String(prev), '', '1', 'icu_adult', '10', String(occupied), '', '', ''];
    return cli(stack.redisPort, 'EVAL', SCRIPT, String(keys.length), ...keys, ...argv).trim().split('\n');
  };
  const written = (source) => ({
    sources: stack.redis('HGET', 'bp:sources', source),
    decided: stack.redis('HGET', 'bp:decided', source),
    offset: stack.redis('GET', 'bp:offset'),
    stream: stack.redis('XLEN', 'bp:stream'),
  });

  test('the apply script: prev not decided is refused and writes nothing; decided lets the next through', stack.guard(async () => {
    const s = 'direct';
    const before0 = written(s);
    assert.deepEqual(apply({ source: s, seq: 5, prev: 4 }), ['behind', '4']);
    assert.deepEqual(written(s), before0, 'nothing written for a line behind an undecided one');

    assert.equal(apply({ source: s, seq: 1 })[0], 'ok', 'no prev: the first line of a connection');
    assert.deepEqual(apply({ source: s, seq: 3, prev: 2 }), ['behind', '2']);
    assert.equal(apply({ source: s, seq: 2, prev: 1 })[0], 'ok');
    const t = Date.now();
    assert.equal(apply({ source: s, seq: 3, prev: 2, at: t })[0], 'ok');
    assert.equal(written(s).decided, '', 'applied lines are not recorded twice');

    // decided without being applied: recorded, and the next line may go
    assert.equal(apply({ source: s, seq: 4, prev: 3, at: t - 60000 })[0], 'out_of_order');
    assert.equal(written(s).decided, '4');
    const mid = written(s);
    assert.deepEqual(apply({ source: s, seq: 6, prev: 5 }), ['behind', '5']);
    assert.deepEqual(written(s), mid);
    const ok5 = apply({ source: s, seq: 5, prev: 4, at: t + 1 });
    assert.equal(ok5[0], 'ok', 'out_of_order counts as decided');
    assert.equal(written(s).sources, `5 ${ok5[1]}`);

    // while Redis refuses writes (maxmemory reached): `behind` and `dup`
    // need no write and answer as ever; a decision that must be recorded is
    // refused whole (the line is answered unavailable and resent)
    stack.redis('CONFIG', 'SET', 'maxmemory', '1');
    let oom;
    try {
      assert.deepEqual(apply({ source: s, seq: 8, prev: 7 }), ['behind', '7']);
      assert.equal(apply({ source: s, seq: 2, prev: 1 })[0], 'dup');
      oom = apply({ source: s, seq: 6, prev: 5, at: t - 60000 });
    } finally {
      stack.redis('CONFIG', 'SET', 'maxmemory', '0');
    }
    assert.match(oom[0], /^OOM /);
    assert.equal(written(s).decided, '4', 'nothing recorded');
    assert.equal(apply({ source: s, seq: 6, prev: 5, at: t - 60000 })[0], 'out_of_order');
    assert.equal(written(s).decided, '6');

    // a duplicate is a duplicate whatever prev says, and writes nothing
    const dupBefore = written(s);
    assert.equal(apply({ source: s, seq: 2, prev: 1 })[0], 'dup');
    assert.equal(apply({ source: s, seq: 5, prev: 4 })[0], 'dup');
    assert.deepEqual(written(s), dupBefore);
    // a change without seq (a manager's write) knows no order
    assert.equal(apply({ source: s, seq: -1, at: t + 2 })[0], 'ok');
    assert.equal(written(s).sources, dupBefore.sources);
  }));

  const refuseWritesTo = (key) => refuseKey((...a) => stack.redis(...a), key);
  const acceptWrites = () => allowAllKeys((...a) => stack.redis(...a));

  // Two lines of one source, L1 for the refused hospital, L2 for another.
  const window = (source, seq) => [
    bedsMsg({ source, seq, hospital: 'viet-duc', at: isoNow(), ed: { status: 'advisory', reason: `${source}#${seq}` } }),
    bedsMsg({ source, seq: seq + 1, hospital: 'bach-mai', at: isoNow(), ed: { status: 'advisory', reason: `${source}#${seq + 1}` } }),
  ];
  const assertRefusedWindow = (replies, seq) => {
    assert.equal(replies[0].ok, false);
    assert.equal(replies[0].error, 'unavailable');
    assert.match(replies[0].message, /NOPERM/, 'L1: Redis\'s reason');
    assert.equal(replies[1].ok, false);
    assert.equal(replies[1].error, 'unavailable');
    assert.equal(replies[1].message, `an earlier line of this source (seq ${seq}) was not applied: resend every line not acknowledged, in order, starting with that one`);
  };
  // Each line of the source in the stream exactly once, at the offset it
  // was acknowledged with.
  const assertOnce = (source, acks) => {
    const mine = [...readStream(stack.redisPort)].filter(([, e]) => e.data.source === source);
    assert.deepEqual(mine.map(([o, e]) => [o, e.data.ed.reason]).sort((a, b) => a[0] - b[0]),
      acks.map((a) => [a.offset, `${source}#${a.seq}`]));
  };

  test('the collector: L2 is not applied behind the refused L1, on one connection and resent on a new one', stack.guard(async () => {
    const source = 'ovt-tcp';
    refuseWritesTo('bp:h:viet-duc');
    const a = await stack.feed();
    let replies;
    try {
      const w0 = written(source);
      replies = await a.sendBatch(window(source, 1));
      assertRefusedWindow(replies, 1);
      assert.deepEqual(written(source), w0, 'nothing of L1 or L2 written');
    } finally {
      a.destroy();
    }
    // the window resent on a new connection, still refused: the collector
    // cannot tell it from new lines, the prev rule holds it
    const b = await stack.feed();
    try {
      assertRefusedWindow(await b.sendBatch(window(source, 1)), 1);
      assert.equal(stack.redis('HGET', 'bp:sources', source), '');
      acceptWrites();
      replies = await b.sendBatch(window(source, 1));
    } finally {
      b.destroy();
    }
    for (const r of replies) assert.deepEqual([r.ok, r.duplicate], [true, undefined], JSON.stringify(r));
    assertOnce(source, replies);
  }));

  test('POST /api/v1/feed: the same within a request and across requests', stack.guard(async () => {
    const source = 'ovt-http';
    const post = async (lines) => {
      const r = await stack.call('POST', '/api/v1/feed', { token: feedToken.token, type: 'application/x-ndjson', body: lines.map((l) => JSON.stringify(l)).join('\n') + '\n' });
      assert.equal(r.status, 200);
      return r.body.trim().split('\n').map((l) => JSON.parse(l));
    };
    refuseWritesTo('bp:h:viet-duc');
    const w0 = written(source);
    assertRefusedWindow(await post(window(source, 10)), 10);
    assert.deepEqual(written(source), w0, 'nothing of L1 or L2 written');
    acceptWrites();
    const replies = await post(window(source, 10));
    for (const r of replies) assert.deepEqual([r.ok, r.duplicate], [true, undefined], JSON.stringify(r));
    assertOnce(source, replies);
  }));
});
