'use strict';
// Clean shutdown: SIGTERM (or SIGINT) to the collector and the server while
// clients are connected and work is in flight; both must exit 0 within the
// harness' 15 s grace (after which it SIGKILLs, which the checks see).

const { describe, test, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { Stack, LiveClient, waitFor, bedsMsg } = require('../lib/stack');

const WAIT = { timeout: 10000 };

describe('clean shutdown', () => {
  const stacks = [];
  after(async () => {
    for (const s of stacks) await s.stop();
  });

  test('SIGTERM with live clients, feed connections and lines in flight: exit 0', async (t) => {
    const stack = new Stack();
    stacks.push(stack);
    await stack.guard(async () => {
      await stack.start();
      const live = [];
      for (let i = 0; i < 3; i++) {
        const c = new LiveClient(`ws://127.0.0.1:${stack.serverPort}/ws`);
        await c.connect();
        live.push(c);
      }
      await Promise.all(live.map((c) => c.waitFor((x) => x.snapshot, WAIT)));
      const silent = new LiveClient(`ws://127.0.0.1:${stack.serverPort}/ws`); // no hello yet
      await silent.connect(null);
      live.push(silent);
      const resumer = new LiveClient(`ws://127.0.0.1:${stack.serverPort}/ws`); // mid-resume
      await resumer.connect({ type: 'hello', resume: { epoch: live[0].epoch, offset: 0 } });
      live.push(resumer);

      const idle = await stack.feed();
      const partial = await stack.feed();
      partial.sock.write('{"type":"beds","source":"half","seq":1,');
      const busy = await stack.feed();
      const lines = Array.from({ length: 3000 }, (_, i) => bedsMsg({ source: 'busy', seq: i + 1, beds: { burn: { occupied: i } } }));
      const replies = busy.sendBatch(lines).catch((e) => e);
      // a raw connection that never reads its replies
      const deaf = net.connect(stack.collectorPort, '127.0.0.1');
      deaf.on('error', () => {});
      await new Promise((r) => deaf.on('connect', r));
      deaf.pause();
      deaf.write(lines.map((l) => JSON.stringify(Object.assign({}, l, { source: 'deaf' })) + '\n').join(''));
      await waitFor(() => busy.replies.length > 0, { ...WAIT, what: 'the first replies' });

      const [collector, server] = await Promise.all([stack.stopProc('collector'), stack.stopProc('server')]);
      assert.deepEqual(collector, { code: 0, signal: null }, 'collector exit');
      assert.deepEqual(server, { code: 0, signal: null }, 'server exit');
      // everyone was let go
      await Promise.all([idle.whenClosed, partial.whenClosed, busy.whenClosed, ...live.map((c) => c.whenClosed)]);
      await replies;
      // what was acknowledged is in Redis (lines in flight may be committed
      // without an answer: a sender resends them with the same seq)
      const acked = busy.replies.filter((r) => r.ok);
      acked.forEach((r, i) => assert.equal(r.seq, i + 1));
      const other = busy.replies.filter((r) => !r.ok && r.error !== 'unavailable');
      assert.deepEqual(other.slice(0, 5), [], `only acks or unavailable (${other.length} others)`);
      const applied = Number((stack.redis('HGET', 'bp:sources', 'busy') || '0').split(' ')[0]);
      assert.ok(applied >= acked.length, `${acked.length} acknowledged, ${applied} applied`);
      deaf.destroy();
      await stack.stop({ keep: true });
      assert.deepEqual(stack.problems(), []);
    })(t);
  });

  test('SIGTERM and SIGINT while Redis is down: exit 0', async (t) => {
    const stack = new Stack();
    stacks.push(stack);
    await stack.guard(async () => {
      await stack.start();
      const c = new LiveClient(`ws://127.0.0.1:${stack.serverPort}/ws`);
      await c.connect();
      await c.waitFor((x) => x.snapshot, WAIT);
      const feed = await stack.feed();
      await stack.killRedis();
      await waitFor(async () => (await stack.get('/readyz')).status === 503, { ...WAIT, what: 'not ready' });
      const r = await feed.send(bedsMsg({ seq: 1 }));
      assert.equal(r.error, 'unavailable');
      assert.deepEqual(await stack.stopProc('collector', 'SIGINT'), { code: 0, signal: null });
      assert.deepEqual(await stack.stopProc('server', 'SIGTERM'), { code: 0, signal: null });
      await Promise.all([feed.whenClosed, c.whenClosed]);
      await stack.stop({ keep: true });
      assert.deepEqual(stack.problems(), []);
    })(t);
  });

  test('SIGTERM right after start, before anything connected: exit 0', async (t) => {
    const stack = new Stack();
    stacks.push(stack);
    await stack.guard(async () => {
      await stack.start();
      await stack.stop({ keep: true });
      assert.deepEqual(stack.problems(), []);
    })(t);
  });
});
