'use strict';
// The fan-out engine under pressure (issue 3): a client that stops reading
// is cut off while everyone else keeps every event and the server's memory
// stays bounded; two servers on one Redis deliver the same sequence and a
// client can move between them; connection limits per process and per
// address are answered with close codes; a client that stops answering
// pings is dropped.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const { Stack, LiveClient, waitFor, bedsMsg } = require('../lib/stack');

const WAIT = { timeout: 20000 };
const IDS = ['bach-mai', 'viet-duc', 'benh-vien-e', 'thanh-nhan', 'xanh-pon', 'duc-giang', 'ha-dong'];

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

function metric(body, name) {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(body);
  return m ? Number(m[1]) : NaN;
}

// A WebSocket client by hand that says hello and then never reads again:
// the kernel buffers fill up and the server can no longer write to it.
function stalledClient(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    let head = '';
    sock.on('error', () => {});
    sock.on('connect', () => {
      sock.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: bedpulse.v1\r\n\r\n`);
    });
    const onData = (d) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      sock.off('data', onData);
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(head.split('\r\n')[0]));
      const payload = Buffer.from('{"type":"hello"}');
      const mask = crypto.randomBytes(4);
      const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask,
        Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))]);
      sock.write(frame);
      sock.pause(); // and never read again
      sock.whenGone = new Promise((r) => sock.on('close', r));
      resolve(sock);
    };
    sock.on('data', onData);
  });
}

describe('fan-out under pressure', () => {
  // Small ring and frames, and a short no-progress timeout, so a stalled
  // client falls behind fast.
  // Under AddressSanitizer freed memory sits in a quarantine (256 MB by
  // default) and shows as RSS; a small one keeps the memory bound meaningful.
  const asan = [process.env.ASAN_OPTIONS, 'quarantine_size_mb=4:thread_local_quarantine_size_kb=64']
    .filter(Boolean).join(':');
  const stack = new Stack({ env: {
    BP_SERVER_RING_EVENTS: '256', BP_SERVER_RING_BYTES: '131072', BP_SERVER_MAX_FRAME_BYTES: '8192',
    BP_SERVER_SLOW_CLIENT_TIMEOUT_S: '2', ASAN_OPTIONS: asan,
  } });
  let feed;
  let seq = 0;
  const clients = [];
  const live = (port, opts) => {
    const c = new LiveClient(`ws://127.0.0.1:${port || stack.serverPort}/ws`, opts);
    clients.push(c);
    return c;
  };
  // n changes with 200-byte reasons (large events fill buffers quickly)
  const pump = async (n, tag) => {
    const lines = [];
    for (let i = 0; i < n; i++) {
      lines.push(bedsMsg({ source: `pump-${tag}`, seq: ++seq, hospital: IDS[i % IDS.length],
        beds: { medical_surgical: { occupied: i % 1000 } },
        ed: { status: 'advisory', reason: `${tag}-${i} `.padEnd(200, 'x') } }));
    }
    const replies = [];
    for (let i = 0; i < lines.length; i += 1000) replies.push(...await feed.sendBatch(lines.slice(i, i + 1000)));
    const refused = replies.map((r, i) => ({ line: i, reply: r })).filter((x) => !x.reply.ok);
    if (refused.length) {
      const byCode = {};
      for (const x of refused) byCode[x.reply.error || 'no error code'] = (byCode[x.reply.error || 'no error code'] || 0) + 1;
      assert.fail(`every pumped line accepted: ${refused.length} of ${replies.length} refused (${tag}), by error: `
        + `${JSON.stringify(byCode)}; first: ${refused.slice(0, 5).map((x) => `line ${x.line}: ${JSON.stringify(x.reply)}`).join('; ')}`);
    }
    return replies.map((r) => r.offset);
  };

  before(stack.guard(async () => {
    await stack.start();
    feed = await stack.feed();
  }));
  after(async () => {
    for (const c of clients) c.close();
    if (feed) feed.destroy();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });

  test('a client that stops reading is cut off; the others get every event; memory stays bounded', stack.guard(async () => {
    const readers = [live(), live()];
    await Promise.all(readers.map((c) => c.connect()));
    await Promise.all(readers.map((c) => c.waitFor((x) => x.snapshot, WAIT)));
    const stalled = await stalledClient(stack.serverPort);
    await waitFor(async () => metric((await stack.get('/metrics')).body, 'bedpulse_ws_clients') === 3, { ...WAIT, what: '3 clients' });
    const pid = stack.procs.server.child.pid;
    const rssBefore = rssKiB(pid);

    // ~20 MB of events: far more than the stalled socket's kernel buffers
    const offsets = [];
    for (let round = 0; round < 5; round++) offsets.push(...await pump(8000, `r${round}`));
    const last = offsets.at(-1);
    for (const c of readers) {
      await c.waitFor((x) => x.offset === last, { ...WAIT, what: 'a reading client to get every event' });
      assert.equal(c.gaps, 0, 'no gap');
      assert.equal(c.duplicates, 0, 'no duplicate');
    }
    // the stalled one is let go for making no progress (or closed 4008); a
    // paused socket cannot see the server's FIN, so watch the server's side
    await waitFor(async () => metric((await stack.get('/metrics')).body, 'bedpulse_ws_clients') === 2,
      { ...WAIT, what: 'the stalled client to be dropped' });
    const m = (await stack.get('/metrics')).body;
    assert.ok(metric(m, 'bedpulse_ws_closed_slow_total') >= 1, `counted as a slow-client close: ${metric(m, 'bedpulse_ws_closed_slow_total')}`);
    stalled.resume(); // reading again, it sees the end of the connection
    await stalled.whenGone;
    const growth = rssKiB(pid) - rssBefore;
    // ring (128 KiB) + one frame per client + allocator slack; 20 MB went through
    assert.ok(growth < 16 * 1024, `server RSS grew by ${growth} KiB while 20 MB of events went through`);
    // and the server is still fine
    const r = await feed.send(bedsMsg({ source: 'after', seq: 1, beds: { icu_adult: { occupied: 7 } } }));
    for (const c of readers) await c.waitFor((x) => x.offset === r.offset, WAIT);
    for (const c of readers) c.close();
  }));

});

describe('heartbeats', () => {
  const stack = new Stack({ env: { BP_SERVER_PING_INTERVAL_S: '1', BP_SERVER_IDLE_TIMEOUT_S: '3' } });
  const clients = [];
  before(stack.guard(() => stack.start()));
  after(async () => {
    for (const c of clients) c.close();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });

  test('a client that stops answering pings is dropped; one that answers stays', stack.guard(async (t) => {
    const url = `ws://127.0.0.1:${stack.serverPort}/ws`;
    const normal = new LiveClient(url);
    const silent = new LiveClient(url, { autoPong: false });
    clients.push(normal, silent);
    await Promise.all([normal.connect(), silent.connect()]);
    let pinged = 0;
    silent.ws.on('ping', () => pinged++);
    const t0 = Date.now();
    let timer;
    const closed = await Promise.race([silent.whenClosed, new Promise((r) => (timer = setTimeout(() => r(null), 30000)))]);
    clearTimeout(timer);
    assert.ok(closed, 'the silent client dropped (idle timeout 3 s; deadline 30 s)');
    // how long it took is reported, not asserted: a loaded machine is slow, not wrong
    t.diagnostic(`silent client dropped after ${Date.now() - t0} ms (idle timeout 3 s)`);
    assert.ok(pinged >= 1, `the server pinged: ${pinged} pings`);
    await normal.waitFor((x) => x.snapshot, WAIT);
    assert.equal(normal.closeCode, undefined, 'the one answering pings stays');
  }));
});

describe('connection limits', () => {
  const stack = new Stack({ env: { BP_SERVER_MAX_CLIENTS: '5', BP_SERVER_MAX_CLIENTS_PER_IP: '3' } });
  const clients = [];
  const live = (opts) => {
    const c = new LiveClient(`ws://127.0.0.1:${stack.serverPort}/ws`, opts);
    clients.push(c);
    return c;
  };
  before(stack.guard(() => stack.start()));
  after(async () => {
    for (const c of clients) c.close();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });

  test('per address: the 4th from one address is closed with 4029, another address still gets in', stack.guard(async () => {
    const three = [live(), live(), live()];
    for (const c of three) await c.connect();
    await Promise.all(three.map((c) => c.waitFor((x) => x.snapshot, WAIT)));
    const fourth = live();
    await fourth.connect();
    const closed = await fourth.whenClosed;
    assert.equal(closed.code, 4029);
    assert.equal(closed.reason, 'address limit');
    const other = live({ localAddress: '127.0.0.2' });
    await other.connect();
    await other.waitFor((x) => x.snapshot, WAIT);
    // a place freed is a place again
    three[0].close();
    await three[0].whenClosed;
    await waitFor(async () => metric((await stack.get('/metrics')).body, 'bedpulse_ws_clients') === 3, WAIT);
    const again = live();
    await again.connect();
    await again.waitFor((x) => x.snapshot, WAIT);
  }));

  test('per process: past max_clients a client is closed with 1013 (try again later)', stack.guard(async () => {
    // 4 connected now (2 from 127.0.0.1, 1 from .2, 1 again from .1)
    const fifth = live({ localAddress: '127.0.0.3' });
    await fifth.connect();
    await fifth.waitFor((x) => x.snapshot, WAIT);
    const sixth = live({ localAddress: '127.0.0.4' });
    await sixth.connect();
    const closed = await sixth.whenClosed;
    assert.equal(closed.code, 1013);
    const m = (await stack.get('/metrics')).body;
    assert.equal(metric(m, 'bedpulse_ws_rejected_full_total'), 1);
    assert.equal(metric(m, 'bedpulse_ws_rejected_address_total'), 1);
  }));
});

describe('several servers on one Redis', () => {
  const stack = new Stack();
  const clients = [];
  let feed;
  let secondPort;
  before(stack.guard(async () => {
    await stack.start();
    secondPort = await stack.startServer({}, 'second');
    feed = await stack.feed();
  }));
  after(async () => {
    for (const c of clients) c.close();
    if (feed) feed.destroy();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });
  const live = (port) => {
    const c = new LiveClient(`ws://127.0.0.1:${port}/ws`);
    clients.push(c);
    return c;
  };

  test('two servers deliver the identical event sequence; a client moves between them without gap or duplicate', stack.guard(async () => {
    const a = live(stack.serverPort);
    const b = live(secondPort);
    await Promise.all([a.connect(), b.connect()]);
    await Promise.all([a, b].map((c) => c.waitFor((x) => x.snapshot, WAIT)));
    assert.equal(a.epoch, b.epoch);
    const frames = (c) => c.ofType('events').flatMap((f) => f.events);
    let seq = 0;
    const send = async (n) => {
      const lines = [];
      for (let i = 0; i < n; i++) lines.push(bedsMsg({ source: 'two', seq: ++seq, hospital: IDS[i % IDS.length], beds: { icu_adult: { occupied: seq % 50 } } }));
      return (await feed.sendBatch(lines)).map((r) => r.offset);
    };
    const first = await send(300);
    for (const c of [a, b]) await c.waitFor((x) => x.offset === first.at(-1), WAIT);
    // the same events, byte for byte (as parsed), in the same order
    assert.deepEqual(frames(a), frames(b));
    assert.equal(frames(a).length, 300);
    // move: leave the first server, send more, resume on the second
    const { epoch, offset } = a;
    a.close();
    await a.whenClosed;
    const more = await send(120);
    const moved = live(secondPort);
    await moved.connect({ type: 'hello', resume: { epoch, offset } });
    await moved.waitFor((x) => x.received.length >= 120, WAIT);
    assert.equal(moved.welcome.mode, 'resume');
    assert.deepEqual(moved.received, more, 'exactly the missed events, in order');
    assert.deepEqual(moved.events.map((e) => e.data), frames(b).slice(-120).map((e) => e.data));
  }));
});

describe('permessage-deflate (server.deflate = 1)', () => {
  const stack = new Stack({ env: { BP_SERVER_DEFLATE: '1' } });
  const clients = [];
  before(stack.guard(() => stack.start()));
  after(async () => {
    for (const c of clients) c.close();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });

  test('a client that offers deflate gets it and the same events; one that does not still works', stack.guard(async () => {
    const url = `ws://127.0.0.1:${stack.serverPort}/ws`;
    const zipped = new LiveClient(url, { perMessageDeflate: true });
    const plain = new LiveClient(url, { perMessageDeflate: false });
    clients.push(zipped, plain);
    await Promise.all([zipped.connect(), plain.connect()]);
    assert.match(zipped.ws.extensions, /permessage-deflate/);
    assert.equal(plain.ws.extensions, '');
    await Promise.all([zipped, plain].map((c) => c.waitFor((x) => x.snapshot, WAIT)));
    const feed = await stack.feed();
    const r = await feed.send(bedsMsg({ source: 'zip', seq: 1, beds: { icu_adult: { occupied: 33 } } }));
    for (const c of [zipped, plain]) await c.waitFor((x) => x.offset === r.offset, WAIT);
    assert.deepEqual(zipped.events, plain.events);
    assert.equal(zipped.hospitals.get('bach-mai').beds.icu_adult.occupied, 33);
    feed.destroy();
  }));
});
