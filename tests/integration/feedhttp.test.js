'use strict';
// POST /api/v1/feed with NDJSON (issue 13, docs/protocol.md §1b): the feed
// over HTTP answers exactly as the collector's port does — one reply line
// per line, in order, the same replies for the same lines, the same
// (source, seq) idempotency across both transports, hello lines, the token's
// scope, the line and body limits — and after an `unavailable` the request
// (HTTP's connection: nothing is kept between requests) takes nothing new
// until that line is resent.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { Stack, waitFor, bedsMsg, isoNow } = require('../lib/stack');

const WAIT = { timeout: 20000 };

describe('POST /api/v1/feed (NDJSON)', () => {
  const stack = new Stack({ env: {
    BP_COLLECTOR_ANONYMOUS: '0', // both transports with a token
    BP_COLLECTOR_MAX_LINE_BYTES: '2048',
    BP_SERVER_FEED_MAX_BODY_BYTES: '200000',
  } });
  let t;
  before(stack.guard(async () => {
    await stack.start();
    // revoked first: a server that knows the wall token (created last) has
    // read the token table after the revocation
    const revoked = stack.createToken('feed', { hospitals: '*' });
    stack.revokeToken(revoked.id);
    t = {
      revoked,
      feed: stack.createToken('feed', { hospitals: 'bach-mai,viet-duc', name: 'his' }),
      other: stack.createToken('feed', { hospitals: 'xanh-pon', name: 'xanh pon his' }),
      fleet: stack.createToken('feed', { fleet: true, name: 'avl' }),
      wall: stack.createToken('wall'),
    };
    await stack.waitForToken(t.wall.token);
  }));
  after(async () => {
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });

  const post = (lines, token = t.feed.token, { type = 'application/x-ndjson', agent } = {}) => new Promise((resolve, reject) => {
    const body = Array.isArray(lines) ? lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n' : lines;
    const headers = { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) };
    if (token) headers.Authorization = `Bearer ${token}`;
    const req = http.request({ host: '127.0.0.1', port: stack.serverPort, path: '/api/v1/feed', method: 'POST', headers, agent: agent || false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let replies = null;
        if (/ndjson/.test(res.headers['content-type'] || '')) replies = text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
        let json;
        try { json = JSON.parse(text); } catch (e) { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, replies, json });
      });
    });
    req.on('error', reject);
    req.setTimeout(30000, () => req.destroy(new Error('no answer within 30 s')));
    req.end(body);
  });

  // replies without what differs between transports: offsets, and the
  // seconds a line is ahead of the clock (each port reads the clock when
  // the line comes: a second may turn between the two)
  const shape = (r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'offset')
    .map(([k, v]) => [k, k === 'message' ? v.replace(/^at is \d+ s in the future/, 'at is N s in the future') : v]));

  test('the same lines get the same replies as on the collector\'s port, one per line, in order', stack.guard(async () => {
    const at = isoNow(-5000);
    const future = isoNow(3600e3); // one time for both transports
    const lines = (src) => [
      bedsMsg({ source: src, seq: 1, at, hospital: 'bach-mai', beds: { icu_adult: { staffed: 60, occupied: 41 } } }),
      bedsMsg({ source: src, seq: 1, at, hospital: 'bach-mai', beds: { icu_adult: { occupied: 42 } } }), // duplicate
      `{"type":"beds","source":"${src}","seq":2`, // broken JSON
      '',
      bedsMsg({ source: src, seq: 3, at, hospital: 'viet-duc', beds: { icu_adult: { occupied: -3 } } }),
      bedsMsg({ source: src, seq: 4, at, hospital: 'xanh-pon', beds: { burn: { occupied: 1 } } }), // not in scope
      bedsMsg({ source: src, seq: 5, at, hospital: 'nowhere' }),
      bedsMsg({ source: src, seq: 6, at, hospital: 'bach-mai', extra: 1 }),
      bedsMsg({ source: src, seq: 7, at: future, hospital: 'bach-mai' }),
      'x'.repeat(3000), // longer than collector.max_line_bytes
      bedsMsg({ source: src, seq: 8, at, hospital: 'viet-duc', ed: { status: 'diversion', reason: 'CT down' } }),
    ];
    const tcp = await stack.feed();
    const hello = await tcp.send({ type: 'hello', token: t.feed.token });
    assert.equal(hello.ok, true);
    const viaTcp = await tcp.sendBatch(lines('tcp-his')); // same length as http's: same byte offsets
    tcp.destroy();
    const r = await post(lines('htp-his'));
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^application\/x-ndjson/);
    assert.equal(r.replies.length, lines('x').length, 'one reply per line');
    assert.deepEqual(r.replies.map(shape), viaTcp.map(shape), 'the same replies');
    assert.deepEqual(r.replies.map((x) => x.ok), [true, true, false, false, false, false, false, false, false, false, true]);
    assert.equal(r.replies[1].duplicate, true);
    assert.deepEqual(r.replies.slice(2, 10).map((x) => x.error),
      ['bad_json', 'bad_json', 'out_of_range', 'forbidden', 'unknown_hospital', 'unknown_field', 'out_of_range', 'line_too_long']);
    assert.equal(r.replies[5].field, 'hospital');
    assert.match(r.replies[8].message, /^at is 3[56]\d\d s in the future; the sender's clock is wrong \(allowed skew 300 s\)$/);
    const vd = await waitFor(async () => {
      const h = await stack.get('/api/v1/hospitals/viet-duc');
      return h.json.ed.status === 'diversion' && h.json;
    }, { ...WAIT, what: 'the posted change to show' });
    assert.equal(vd.ed.reason, 'CT down');
    // /metrics: the lines by outcome (this test posts first), the route
    const m = (await stack.get('/metrics')).body;
    assert.match(m, /^bedpulse_http_feed_lines_total\{outcome="applied"\} 2$/m);
    assert.match(m, /^bedpulse_http_feed_lines_total\{outcome="duplicate"\} 1$/m);
    assert.match(m, /^bedpulse_http_feed_lines_total\{outcome="invalid"\} 8$/m);
    assert.match(m, /^bedpulse_http_request_duration_seconds_count\{route="\/api\/v1\/feed",status="200"\} 1$/m);
  }));

  test('idempotency is the same across transports: a seq applied over TCP is a duplicate over HTTP', stack.guard(async () => {
    const line = bedsMsg({ source: 'both-ways', seq: 10, hospital: 'bach-mai', beds: { burn: { occupied: 2 } } });
    const tcp = await stack.feed();
    await tcp.send({ type: 'hello', token: t.feed.token });
    const first = await tcp.send(line);
    tcp.destroy();
    assert.equal(first.ok, true);
    assert.ok(!first.duplicate);
    const again = await post([line]);
    assert.deepEqual(again.replies, [Object.assign({}, first, { duplicate: true })]);
    const newer = await post([Object.assign({}, line, { seq: 11 })]);
    assert.equal(newer.replies[0].ok, true);
    assert.ok(!newer.replies[0].duplicate);
  }));

  test('a hello in the body speaks for the lines after it', stack.guard(async () => {
    const r = await post([
      bedsMsg({ source: 'h1', seq: 1, hospital: 'xanh-pon', beds: { burn: { occupied: 1 } } }),
      { type: 'hello', token: t.other.token },
      bedsMsg({ source: 'h1', seq: 2, hospital: 'xanh-pon', beds: { burn: { occupied: 1 } } }),
      bedsMsg({ source: 'h1', seq: 3, hospital: 'bach-mai', beds: { burn: { occupied: 1 } } }),
      { type: 'hello', token: 'bp_' + 'x'.repeat(43) },
    ]);
    assert.deepEqual(r.replies.map((x) => x.ok), [false, true, true, false, false]);
    assert.equal(r.replies[0].error, 'forbidden');
    assert.equal(r.replies[1].hello, true);
    assert.equal(r.replies[1].token, t.other.id);
    assert.equal(r.replies[3].error, 'forbidden');
    assert.equal(r.replies[4].error, 'unauthorized');
  }));

  test('who may post: a feed token; the rest is refused before any line is read', stack.guard(async () => {
    const line = [bedsMsg({ source: 'auth', seq: 1 })];
    assert.equal((await post(line, null)).status, 401);
    assert.equal((await post(line, t.wall.token)).status, 403);
    assert.equal((await post(line, t.revoked.token)).status, 401);
    assert.equal((await post(line, 'bp_' + 'y'.repeat(43))).status, 401);
    assert.equal((await post(line, t.feed.token, { type: 'text/plain' })).status, 415);
    // ambulances need fleet rights, as on the port
    const amb = { type: 'ambulance', source: 'avl', seq: 1, at: isoNow(), id: '115-HK-03', status: 'dispatched' };
    assert.equal((await post([amb])).replies[0].error, 'forbidden');
    assert.equal((await post([amb], t.fleet.token)).replies[0].ok, true);
    // an empty body: no lines, no replies
    const empty = await post('', t.feed.token);
    assert.equal(empty.status, 200);
    assert.equal(empty.text, '');
  }));

  test('a body over server.feed_max_body_bytes is refused with 413 and changes nothing', stack.guard(async () => {
    const before = (await stack.get('/api/v1/hospitals/viet-duc')).json.version;
    const lines = [];
    for (let i = 0; i < 2000; i++) lines.push(bedsMsg({ source: 'big', seq: i + 1, hospital: 'viet-duc', beds: { burn: { occupied: i % 5 } } }));
    const r = await post(lines);
    assert.equal(r.status, 413);
    assert.equal(r.json.error, 'too_large');
    assert.equal((await stack.get('/api/v1/hospitals/viet-duc')).json.version, before);
    // the same in batches that fit: all applied, in order
    const replies = [];
    for (let i = 0; i < lines.length; i += 500) replies.push(...(await post(lines.slice(i, i + 500))).replies);
    assert.equal(replies.length, 2000);
    assert.deepEqual(replies.map((x) => x.seq), lines.map((l) => l.seq));
    assert.ok(replies.every((x) => x.ok));
    const offsets = replies.map((x) => x.offset);
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), 'applied in line order');
  }));

  test('after an unavailable, the request takes nothing new until that line is resent', stack.guard(async () => {
    const line = (seq) => bedsMsg({ source: 'resender', seq, hospital: 'bach-mai', beds: { pediatrics: { occupied: seq } } });
    try {
      await stack.killRedis();
      await waitFor(async () => (await stack.get('/readyz')).status === 503, { ...WAIT, what: '/readyz 503' });
      const down = await post([line(1), line(2)]);
      assert.equal(down.status, 200);
      assert.deepEqual(down.replies.map((x) => x.error), ['unavailable', 'unavailable']);
      assert.match(down.replies[1].message, /seq 1\) was not applied/);
    } finally {
      await stack.startRedis();
    }
    await waitFor(async () => (await stack.get('/readyz')).status === 200, { ...WAIT, what: '/readyz 200' });
    // the sender resends what was not acknowledged, in order: each applied once
    const resent = await waitFor(async () => {
      const r = await post([line(1), line(2), line(3)]);
      return r.replies.every((x) => x.ok) && r;
    }, { ...WAIT, what: 'the resend to be applied (the feed link reconnects)' });
    assert.ok(resent.replies.every((x) => !x.duplicate), 'each applied once');
    const h = await waitFor(async () => {
      const x = (await stack.get('/api/v1/hospitals/bach-mai')).json;
      return x.beds.pediatrics.occupied === 3 && x;
    }, { ...WAIT, what: 'the last resent line to show' });
    assert.equal(h.source, 'resender');
  }));
});
