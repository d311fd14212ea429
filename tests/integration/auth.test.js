'use strict';
// Security model (DESIGN §8, issue 5) against the real stack: tokens made by
// bp-admin, the role × endpoint matrix over REST and WebSocket, sessions,
// manager writes with If-Match, conflicts, the audit trail, CSV import, feed
// scopes, and the limits. Nothing anonymous here: auth.anonymous = none and
// feeds need a token.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { Stack, FeedClient, waitFor, pastMs, bedsMsg, ambulanceMsg, isoNow, httpRequest } = require('../lib/stack');

const WAIT = { timeout: 5000, interval: 20 };

describe('who may do what', () => {
  const stack = new Stack({ env: { BP_AUTH_ANONYMOUS: 'none', BP_COLLECTOR_ANONYMOUS: '0' } });
  const t = {};
  let feed;
  let seq = 1;

  before(async () => {
    await stack.start();
    t.feed = stack.createToken('feed', { hospitals: 'bach-mai,viet-duc', fleet: true, name: 'HIS test' });
    t.wall = stack.createToken('wall');
    t.manager = stack.createToken('manager', { hospitals: 'bach-mai', name: 'Bach Mai ward' });
    t.dispatcher = stack.createToken('dispatcher');
    t.admin = stack.createToken('admin');
    t.public = stack.createToken('public');
    // the servers reload the whole table at once: the last token created
    // known means every one is
    await stack.waitForToken(t.public.token);
    await stack.waitForFeedToken(t.feed.token);
    feed = await new FeedClient(stack.collectorPort).connect();
    const hello = await feed.send({ type: 'hello', token: t.feed.token });
    assert.equal(hello.ok, true, JSON.stringify(hello));
    for (const id of ['bach-mai', 'viet-duc']) {
      const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: id, beds: { icu_adult: { staffed: 40, occupied: 30 } } }));
      assert.equal(r.ok, true, JSON.stringify(r));
    }
    const r = await feed.send(ambulanceMsg({ source: 'his', seq: seq++, status: 'dispatched', lat: 21.03, lon: 105.85 }));
    assert.equal(r.ok, true, JSON.stringify(r));
    await waitFor(async () => (await stack.call('GET', '/api/v1/hospitals/viet-duc', { token: t.admin.token })).json.version >= 1, WAIT);
  });
  after(async () => {
    if (feed) feed.close();
    await stack.stop();
  });

  const as = (who) => (who && t[who] ? { token: t[who].token } : who === 'bad' ? { token: 'bp_' + 'A'.repeat(43) } : {});
  const hospital = async (id) => (await stack.call('GET', `/api/v1/hospitals/${id}`, as('admin'))).json;

  test('REST reads: every role against every endpoint', stack.guard(async () => {
    const Y = 200;
    const endpoints = ['/api/v1/summary', '/api/v1/hospitals', '/api/v1/hospitals/bach-mai', '/api/v1/history?series=city',
      '/api/v1/outlook?hospital=bach-mai', '/api/v1/ambulances', '/api/v1/audit', '/api/v1/config', '/healthz'];
    const expected = {
      anonymous: [401, 401, 401, 401, 401, 401, 401, Y, Y],
      bad: [401, 401, 401, 401, 401, 401, 401, Y, Y],
      public: [Y, 403, 403, 403, 403, 403, 403, Y, Y],
      wall: [Y, Y, Y, Y, Y, 403, 403, Y, Y],
      manager: [Y, Y, Y, Y, Y, 403, 403, Y, Y],
      dispatcher: [Y, Y, Y, Y, Y, Y, 403, Y, Y],
      admin: [Y, Y, Y, Y, Y, Y, Y, Y, Y],
      feed: [403, 403, 403, 403, 403, 403, 403, Y, Y],
    };
    for (const [who, codes] of Object.entries(expected)) {
      for (let i = 0; i < endpoints.length; i++) {
        const r = await stack.call('GET', endpoints[i], as(who));
        assert.equal(r.status, codes[i], `${who} GET ${endpoints[i]}: ${r.body.slice(0, 200)}`);
        if (r.status === 401) {
          assert.equal(r.json.error, 'unauthorized');
          assert.match(r.headers['www-authenticate'], /^Bearer/);
        }
        if (r.status === 403) assert.equal(r.json.error, 'forbidden');
        if (r.status >= 400) assert.ok(r.json.message.length > 10, r.body);
      }
    }
    // the ETag of a hospital is its version
    const one = await stack.call('GET', '/api/v1/hospitals/bach-mai', as('wall'));
    assert.equal(one.headers.etag, `"${one.json.version}"`);
    // an Authorization header that is not a bearer token is refused, not ignored
    const basic = await stack.call('GET', '/api/v1/hospitals', { headers: { Authorization: 'Basic YTpi' } });
    assert.equal(basic.status, 401);
  }));

  test('WebSocket: who gets the live feed, and what each role sees in it', stack.guard(async () => {
    const hdr = (who) => ({ headers: { Authorization: `Bearer ${t[who].token}` } });
    // refused at hello: no credentials, a bad token, roles without the feed
    for (const [opts, hello, code] of [
      [{}, { type: 'hello' }, 4401],
      [{ headers: { Authorization: `Bearer bp_${'B'.repeat(43)}` } }, { type: 'hello' }, 4401],
      [hdr('public'), { type: 'hello' }, 4403],
      [hdr('feed'), { type: 'hello' }, 4403],
      [{}, { type: 'hello', token: t.feed.token }, 4403],
    ]) {
      const c = await stack.live(hello, stack.serverPort, opts);
      const closed = await c.whenClosed;
      assert.equal(closed.code, code, JSON.stringify(closed));
      assert.equal(c.ofType('snapshot').length, 0);
    }
    const dispatcher = await stack.live({ type: 'hello' }, stack.serverPort, hdr('dispatcher'));
    const viaHello = await stack.live({ type: 'hello', token: t.dispatcher.token });
    const wall = await stack.live({ type: 'hello' }, stack.serverPort, hdr('wall'));
    const manager = await stack.live({ type: 'hello' }, stack.serverPort, hdr('manager'));
    const all = [dispatcher, viaHello, wall, manager];
    try {
      for (const c of all) await c.waitFor((x) => x.snapshot, WAIT);
      const amb = (c) => c.snapshot.ambulances.find((a) => a.id === '115-HK-03') || null;
      assert.equal(typeof amb(dispatcher).lat, 'number');
      assert.equal(typeof amb(viaHello).lat, 'number');
      assert.equal(amb(wall).status, 'dispatched');
      assert.equal(amb(wall).lat, undefined, 'a wall display never gets positions');
      assert.equal(manager.snapshot.ambulances.length, 0, 'managers see hospitals only');
      // a manager's snapshot holds the hospitals her token may change, not the city
      assert.deepEqual(manager.snapshot.hospitals.map((h) => h.id), ['bach-mai']);
      assert.ok(dispatcher.snapshot.hospitals.length > 50, `${dispatcher.snapshot.hospitals.length} hospitals`);
      // an ambulance moves: each audience gets its own view of the event
      const r = await feed.send(ambulanceMsg({ source: 'his', seq: seq++, status: 'on_scene', lat: 21.04, lon: 105.86 }));
      assert.equal(r.ok, true);
      for (const c of all) await c.waitFor((x) => x.offset >= r.offset, WAIT);
      const ev = (c) => c.events.find((e) => e.offset === r.offset);
      assert.equal(ev(dispatcher).data.lat, 21.04);
      assert.equal(ev(wall).data.status, 'on_scene');
      assert.equal(ev(wall).data.lat, undefined);
      assert.deepEqual(ev(manager), { offset: r.offset });
      for (const c of all) assert.equal(c.gaps, 0);
    } finally {
      for (const c of all) c.close();
    }
    // a page on another site must not ride on the user's credentials
    await assert.rejects(stack.live({ type: 'hello' }, stack.serverPort, { origin: 'http://evil.example', ...hdr('dispatcher') }));
    const same = await stack.live({ type: 'hello' }, stack.serverPort, { origin: `http://127.0.0.1:${stack.serverPort}`, ...hdr('dispatcher') });
    await same.waitFor((x) => x.snapshot, WAIT);
    same.close();
    // revoking a token closes its live connections
    const temp = stack.createToken('dispatcher', { name: 'to revoke' });
    await stack.waitForToken(temp.token);
    const c = await stack.live({ type: 'hello' }, stack.serverPort, { headers: { Authorization: `Bearer ${temp.token}` } });
    await c.waitFor((x) => x.snapshot, WAIT);
    stack.admin('token', 'revoke', temp.id);
    const closed = await c.whenClosed;
    assert.equal(closed.code, 4401);
    assert.equal(closed.reason, 'revoked');
    assert.equal((await stack.call('GET', '/api/v1/hospitals', { token: temp.token })).status, 401);
  }));

  test('sessions: sign in, use the cookie, sign out, and an expired session', stack.guard(async () => {
    const bad = await stack.call('POST', '/api/v1/session', { json: { token: 'bp_nope' } });
    assert.equal(bad.status, 401);
    assert.equal((await stack.call('POST', '/api/v1/session', { json: { tok: 'x' } })).json.errors[0].field, 'tok');
    assert.equal((await stack.call('POST', '/api/v1/session', { body: `token=${t.manager.token}`, type: 'application/x-www-form-urlencoded' })).status, 415);
    assert.equal((await stack.call('POST', '/api/v1/session', { json: { token: t.feed.token } })).status, 403);
    const r = await stack.call('POST', '/api/v1/session', { json: { token: t.manager.token } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.role, 'manager');
    assert.deepEqual(r.json.hospitals, ['bach-mai']);
    const setCookie = r.headers['set-cookie'][0];
    assert.match(setCookie, /^bp_session=v1\|/);
    for (const attr of ['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=43200']) assert.ok(setCookie.includes(attr), setCookie);
    assert.ok(!setCookie.includes('Secure'), `no Secure without TLS: ${setCookie.replace(/bp_session=[^;]*/, 'bp_session=…')}`);
    assert.ok(!r.body.includes(t.manager.token), 'the token is not echoed');
    const cookie = setCookie.split(';')[0].slice('bp_session='.length);
    const me = await stack.call('GET', '/api/v1/session', { cookie });
    assert.equal(me.json.token_id, t.manager.id);
    assert.equal((await stack.call('GET', '/api/v1/hospitals', { cookie })).status, 200);
    assert.equal((await stack.call('GET', '/api/v1/ambulances', { cookie })).status, 403);
    const live = await stack.live({ type: 'hello' }, stack.serverPort, { headers: { Cookie: `bp_session=${cookie}` } });
    await live.waitFor((x) => x.snapshot, WAIT);
    // a tampered cookie is not a session
    const tampered = cookie.replace('|manager', '|admin').replace(/.$/, (ch) => (ch === '0' ? '1' : '0'));
    assert.equal((await stack.call('GET', '/api/v1/hospitals', { cookie: tampered })).status, 401);
    // sign out: the cookie stops working here at once, the socket within a second or two
    const out = await stack.call('DELETE', '/api/v1/session', { cookie });
    assert.equal(out.status, 200);
    assert.match(out.headers['set-cookie'][0], /Max-Age=0/);
    assert.equal((await stack.call('GET', '/api/v1/hospitals', { cookie })).status, 401);
    assert.equal((await live.whenClosed).code, 4401);

    // a session that runs out: signed with the server's key, valid for 1.5 s
    const key = Buffer.from(stack.redis('GET', `${stack.prefix}auth:secret`), 'hex');
    const now = Date.now();
    const payload = `v1|${t.dispatcher.id}|${now}|${now + 1500}|${'ab'.repeat(16)}`;
    const short = `${payload}.${crypto.createHmac('sha256', key).update(payload).digest('hex')}`;
    assert.equal((await stack.call('GET', '/api/v1/ambulances', { cookie: short })).status, 200);
    const ws = await stack.live({ type: 'hello' }, stack.serverPort, { headers: { Cookie: `bp_session=${short}` } });
    await ws.waitFor((x) => x.snapshot, WAIT);
    const end = await ws.whenClosed;
    assert.deepEqual([end.code, end.reason], [4401, 'expired']);
    const late = await stack.call('GET', '/api/v1/ambulances', { cookie: short });
    assert.equal(late.status, 401);
    assert.match(late.headers['set-cookie'][0], /Max-Age=0/);
  }));

  test('writes: If-Match, validation naming each field, scope, and the live event', stack.guard(async () => {
    const path = '/api/v1/hospitals/bach-mai';
    const h0 = await hospital('bach-mai');
    const m = as('manager');
    assert.equal((await stack.call('PATCH', path, { ...m, json: { confirm: true } })).status, 428);
    assert.equal((await stack.call('PATCH', path, { ...m, json: { confirm: true }, headers: { 'If-Match': 'abc' } })).status, 400);
    assert.equal((await stack.call('PATCH', path, { ...m, body: '{"confirm":true}', type: 'text/plain', headers: { 'If-Match': `${h0.version}` } })).status, 415);
    const bad = await stack.call('PATCH', path, { ...m, headers: { 'If-Match': `${h0.version}` },
      json: { beds: { icu_adult: { occupied: -3 }, nope: { staffed: 1 } }, ed: { status: 'diversion', reason: 'a\u0007b' }, extra: 1 } });
    assert.equal(bad.status, 422, bad.body);
    const fields = bad.json.errors.map((e) => e.field).sort();
    for (const f of ['beds.icu_adult.occupied', 'beds.nope', 'ed.reason', 'extra']) assert.ok(fields.includes(f), `${f} in ${fields}`);
    for (const e of bad.json.errors) assert.ok(e.message.length > 10 && e.code, JSON.stringify(e));
    // nobody else may write bach-mai; the manager may not write viet-duc
    const vd = await hospital('viet-duc');
    for (const [who, p, v, code] of [['wall', path, h0.version, 403], ['dispatcher', path, h0.version, 403], ['public', path, h0.version, 403],
      ['feed', path, h0.version, 403], [null, path, h0.version, 401], ['bad', path, h0.version, 401],
      ['manager', '/api/v1/hospitals/viet-duc', vd.version, 403]]) {
      const r = await stack.call('PATCH', p, { ...as(who), json: { beds: { icu_adult: { occupied: 1 } } }, headers: { 'If-Match': `${v}` } });
      assert.equal(r.status, code, `${who} PATCH ${p}: ${r.body}`);
    }
    assert.equal((await stack.call('PATCH', '/api/v1/hospitals/no-such', { ...m, json: { confirm: true }, headers: { 'If-Match': '1' } })).status, 404);
    assert.equal((await hospital('bach-mai')).version, h0.version, 'refused writes change nothing');
    assert.equal((await hospital('viet-duc')).version, vd.version);

    const live = await stack.live({ type: 'hello' }, stack.serverPort, { headers: { Authorization: `Bearer ${t.dispatcher.token}` } });
    try {
      await live.waitFor((x) => x.snapshot, WAIT);
      const until = new Date(Date.now() + 3600e3).toISOString();
      const ok = await stack.call('PATCH', path, { ...m, headers: { 'If-Match': `"${h0.version}"` },
        json: { beds: { icu_adult: { occupied: 38 } }, ed: { status: 'diversion', reason: 'CT <down> & "busy"', until } } });
      assert.equal(ok.status, 200, ok.body);
      assert.equal(ok.json.version, h0.version + 1);
      assert.equal(ok.headers.etag, `"${h0.version + 1}"`);
      assert.equal(ok.json.beds.icu_adult.occupied, 38);
      assert.equal(ok.json.beds.icu_adult.staffed, 40, 'fields not sent stay');
      assert.equal(ok.json.ed.reason, 'CT <down> & "busy"');
      assert.equal(ok.json.source, `web:${t.manager.id}`);
      await live.waitFor((x) => x.hospitals.get('bach-mai').version === h0.version + 1, WAIT);
      assert.equal(live.hospitals.get('bach-mai').beds.icu_adult.occupied, 38);
      // "figures confirmed": a new report time, the same figures
      await pastMs(Date.parse(ok.json.at));
      const conf = await stack.call('PATCH', path, { ...m, headers: { 'If-Match': `${ok.json.version}` }, json: { confirm: true } });
      assert.equal(conf.status, 200, conf.body);
      assert.equal(conf.json.version, ok.json.version + 1);
      assert.ok(Date.parse(conf.json.at) > Date.parse(ok.json.at), `${ok.json.at} -> ${conf.json.at}`);
      assert.deepEqual(conf.json.beds, ok.json.beds);
      // an admin may write any hospital
      const adm = await stack.call('PATCH', '/api/v1/hospitals/viet-duc', { ...as('admin'), headers: { 'If-Match': `${vd.version}` }, json: { beds: { icu_adult: { occupied: 31 } } } });
      assert.equal(adm.status, 200, adm.body);
    } finally {
      live.close();
    }
    // over the body limit: 413, nothing read into memory beyond it
    const big = await stack.call('PATCH', path, { ...m, headers: { 'If-Match': '1' }, json: { confirm: true, pad: 'x'.repeat(70000) } });
    assert.equal(big.status, 413);
  }));

  test('two managers with the same version: exactly one wins, the other sees the winner', stack.guard(async () => {
    const other = stack.createToken('manager', { hospitals: 'bach-mai', name: 'second nurse' });
    await stack.waitForToken(other.token);
    const h = await hospital('bach-mai');
    const send = (tok, n) => stack.call('PATCH', '/api/v1/hospitals/bach-mai', { token: tok, headers: { 'If-Match': `${h.version}` }, json: { beds: { icu_adult: { occupied: n } } } });
    const [a, b] = await Promise.all([send(t.manager.token, 11), send(other.token, 22)]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [200, 409], `${a.body} / ${b.body}`);
    const [win, lose] = a.status === 200 ? [a, b] : [b, a];
    assert.equal(lose.json.error, 'conflict');
    assert.equal(lose.json.current.version, h.version + 1);
    assert.equal(lose.json.current.beds.icu_adult.occupied, win.json.beds.icu_adult.occupied);
    assert.equal(lose.headers.etag, `"${h.version + 1}"`);
    assert.equal((await hospital('bach-mai')).beds.icu_adult.occupied, win.json.beds.icu_adult.occupied);
  }));

  test('the audit trail records every accepted change, exactly', stack.guard(async () => {
    const r = await stack.call('GET', '/api/v1/audit?hospital=bach-mai&limit=1000', as('admin'));
    assert.equal(r.status, 200, r.body);
    const entries = r.json.entries;
    const h = await hospital('bach-mai');
    // every version of bach-mai, newest first, each once
    assert.deepEqual(entries.map((e) => e.version), Array.from({ length: h.version }, (_, i) => h.version - i));
    for (const e of entries) {
      assert.equal(e.kind, 'hospital');
      assert.equal(e.entity, 'bach-mai');
      assert.ok(e.time && e.address && e.offset > 0 && e.before && e.after, JSON.stringify(e));
    }
    const first = entries[entries.length - 1];
    assert.equal(first.actor, t.feed.id);
    assert.equal(first.role, 'feed');
    const web = entries.filter((e) => e.source.startsWith('web:'));
    assert.ok(web.length >= 3, `${web.length} web changes`);
    for (const e of web) {
      assert.equal(e.source, `web:${e.actor}`);
      assert.equal(e.role, 'manager');
      assert.equal(e.address, '127.0.0.1');
    }
    // before/after: the one with the diversion
    const div = entries.find((e) => e.after.ed && e.after.ed.status === 'diversion');
    assert.equal(div.after.beds.icu_adult.occupied, 38);
    assert.equal(div.before.beds.icu_adult.occupied, 30);
    // filters and paging
    const mine = await stack.call('GET', `/api/v1/audit?actor=${t.manager.id}`, as('admin'));
    assert.ok(mine.json.entries.length >= 3, `${mine.json.entries.length} entries`);
    assert.ok(mine.json.entries.every((e) => e.actor === t.manager.id), `actors ${mine.json.entries.map((e) => e.actor).join()}`);
    const p1 = await stack.call('GET', '/api/v1/audit?hospital=bach-mai&limit=2', as('admin'));
    assert.equal(p1.json.entries.length, 2);
    const p2 = await stack.call('GET', `/api/v1/audit?hospital=bach-mai&limit=2&before=${p1.json.next}`, as('admin'));
    assert.deepEqual(p2.json.entries.map((e) => e.version), [h.version - 2, h.version - 3]);
    const future = await stack.call('GET', `/api/v1/audit?from=${encodeURIComponent(isoNow(3600e3))}`, as('admin'));
    assert.deepEqual(future.json.entries, []);
    for (const q of ['hospital=nope', 'limit=0', 'limit=x', 'from=yesterday', 'before=abc']) {
      const e = await stack.call('GET', `/api/v1/audit?${q}`, as('admin'));
      assert.equal(e.status, 400, q);
      assert.ok(e.json.message.length > 10, e.body);
    }
    // token changes by bp-admin are audited too
    const all = await stack.call('GET', `/api/v1/audit?actor=bp-admin&limit=1000`, as('admin'));
    assert.ok(all.json.entries.some((e) => e.action === 'revoke'), `actions ${[...new Set(all.json.entries.map((e) => e.action))].join()}`);
  }));

  test('CSV import: preview, per-row errors, all or nothing', stack.guard(async () => {
    const path = '/api/v1/hospitals/bach-mai/import';
    const m = as('manager');
    const csv = 'bed_type,staffed,occupied,surge24\r\nicu_adult,44,41,2\r\nmedical_surgical,,900,\r\n';
    const h = await hospital('bach-mai');
    const prev = await stack.call('POST', `${path}?dry_run=1`, { ...m, body: csv, type: 'text/csv' });
    assert.equal(prev.status, 200, prev.body);
    assert.deepEqual(prev.json.rows[0], { row: 2, bed_type: 'icu_adult', staffed: { from: 40, to: 44 }, occupied: { from: h.beds.icu_adult.occupied, to: 41 }, surge24: { from: h.beds.icu_adult.surge24 ?? null, to: 2 } });
    assert.equal(prev.json.rows[1].bed_type, 'medical_surgical');
    assert.equal((await hospital('bach-mai')).version, h.version, 'a preview changes nothing');
    const bad = await stack.call('POST', path, { ...m, body: 'bed_type,occupied\nicu_adult,-1\nnope,3\nicu_adult,2\n', type: 'text/csv', headers: { 'If-Match': `${h.version}` } });
    assert.equal(bad.status, 422);
    const fields = bad.json.errors.map((e) => e.field);
    assert.ok(fields.some((f) => f.startsWith('row 2')) && fields.some((f) => f.startsWith('row 3')), fields.join());
    assert.equal((await hospital('bach-mai')).version, h.version, 'a file with errors changes nothing');
    assert.equal((await stack.call('POST', '/api/v1/hospitals/viet-duc/import', { ...m, body: csv, type: 'text/csv', headers: { 'If-Match': '1' } })).status, 403);
    const ok = await stack.call('POST', path, { ...m, body: csv, type: 'text/csv', headers: { 'If-Match': `${h.version}` } });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.json.version, h.version + 1, 'one change for the whole file');
    assert.equal(ok.json.beds.icu_adult.staffed, 44);
    assert.equal(ok.json.beds.medical_surgical.occupied, 900);
  }));

  test('feeds: a source writes only its own hospitals and fleet', stack.guard(async () => {
    const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'benh-vien-k', beds: { icu_adult: { occupied: 1 } } }));
    assert.equal(r.ok, false);
    assert.equal(r.error, 'forbidden');
    assert.match(r.message, /benh-vien-k/);
    const anon = await new FeedClient(stack.collectorPort).connect();
    try {
      const a = await anon.send(bedsMsg({ source: 'x', seq: 1, hospital: 'bach-mai' }));
      assert.equal(a.ok, false);
      assert.equal(a.error, 'unauthorized');
      const h = await anon.send({ type: 'hello', token: t.manager.token });
      assert.equal(h.ok, false);
    } finally {
      anon.close();
    }
  }));

  test('hostile requests: bad origins, odd headers, floods of bad sign-ins', stack.guard(async () => {
    // a write from a page on another site is refused even with a valid token
    const h = await hospital('bach-mai');
    const x = await stack.call('PATCH', '/api/v1/hospitals/bach-mai', { ...as('manager'), headers: { 'If-Match': `${h.version}`, Origin: 'http://evil.example' }, json: { confirm: true } });
    assert.equal(x.status, 403);
    assert.equal(x.json.error, 'bad_origin');
    // the server answers every request with the security headers
    const page = await stack.call('GET', '/api/v1/config');
    assert.match(page.headers['content-security-policy'], /default-src 'none'/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    // sign-in failures are limited per address (10 a minute by default)
    let n = 0;
    const failUntilLimited = async (most) => {
      for (let i = 0; i < most; i++) {
        const r = await stack.call('POST', '/api/v1/session', { json: { token: `bp_${String(n++).padStart(43, 'x')}` } });
        if (r.status === 429) return r;
        assert.equal(r.status, 401);
      }
      return null;
    };
    const limited = await failUntilLimited(12);
    assert.ok(limited, 'no 429 after 12 failed sign-ins');
    assert.ok(Number(limited.headers['retry-after']) >= 1, `Retry-After: ${limited.headers['retry-after']}`);
    // ...even a good token waits now. The bucket refills continuously (one
    // failure every 6 s): a 429 may come just below one token, and a whole
    // token a moment later lets the good one in; then empty it again.
    const good = [];
    for (let round = 0; round < 5; round++) {
      const r = await stack.call('POST', '/api/v1/session', { json: { token: t.wall.token } });
      good.push(r.status);
      if (r.status === 429) break;
      assert.equal(r.status, 200);
      assert.ok(await failUntilLimited(3), 'no 429 again after the refill');
    }
    assert.equal(good.at(-1), 429, `a good token while failures are limited: ${good.join(', ')}`);
    // the tokens never reach the logs
    const logs = stack.logText();
    for (const k of Object.values(t)) assert.ok(!logs.includes(k.token), `token of ${k.role} in a log`);
  }));
});

describe('limits', () => {
  const stack = new Stack({ env: { BP_AUTH_ANONYMOUS: 'none', BP_AUTH_WRITES_PER_MIN: '3', BP_SERVER_API_REQUESTS_PER_MIN: '40' } });
  before(() => stack.start());
  after(() => stack.stop());

  test('writes per token and requests per address are limited with 429 and Retry-After', stack.guard(async () => {
    const m = stack.createToken('manager', { hospitals: 'bach-mai' });
    await stack.waitForToken(m.token);
    const codes = [];
    for (let i = 0; i < 5; i++) {
      const h = (await stack.call('GET', '/api/v1/hospitals/bach-mai', { token: m.token })).json;
      const r = await stack.call('PATCH', '/api/v1/hospitals/bach-mai', { token: m.token, headers: { 'If-Match': `${h.version}` }, json: { confirm: true } });
      codes.push(r.status);
      if (r.status === 429) assert.ok(Number(r.headers['retry-after']) >= 1, `Retry-After: ${r.headers['retry-after']}`);
    }
    assert.deepEqual(codes, [200, 200, 200, 429, 429]);
    let limited = null;
    for (let i = 0; i < 60 && !limited; i++) {
      const r = await stack.call('GET', '/api/v1/summary', { token: m.token });
      if (r.status === 429) limited = r;
    }
    assert.ok(limited, 'no 429 after 60 requests at 40 a minute');
    assert.equal(limited.json.error, 'rate_limited');
    // probes are never limited
    assert.equal((await stack.get('/healthz')).status, 200);
  }));
});

describe('TLS and a Redis password', () => {
  // a self-signed certificate made for this test; Redis asks for a password
  const stack = new Stack({ tls: true });
  before(async () => {
    const { execFileSync } = require('node:child_process');
    const cert = `${stack.dir}/cert.pem`;
    const key = `${stack.dir}/key.pem`;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
      '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    stack.opts.env = { BP_SERVER_TLS_CERT: cert, BP_SERVER_TLS_KEY: key, BP_REDIS_PASSWORD: 's3cret-pass', BP_AUTH_ANONYMOUS: 'none' };
    stack.opts.redisArgs = ['--requirepass', 's3cret-pass'];
    await stack.start();
  });
  after(() => stack.stop());

  test('HTTPS and WSS on the same port, Secure cookies, HSTS; the Redis password is used and never logged', stack.guard(async () => {
    const admin = stack.createToken('admin');
    await stack.waitForToken(admin.token);
    const s = await stack.call('POST', '/api/v1/session', { json: { token: admin.token } });
    assert.equal(s.status, 200);
    assert.match(s.headers['set-cookie'][0], /; Secure/);
    assert.match(s.headers['strict-transport-security'], /max-age=/);
    const live = await stack.live({ type: 'hello', token: admin.token });
    await live.waitFor((x) => x.snapshot, WAIT);
    live.close();
    // plain HTTP on the TLS port gets nothing useful
    await assert.rejects(httpRequest(stack.serverPort, 'GET', '/healthz'));
    assert.ok(!stack.logText().includes('s3cret-pass'));
  }));
});
