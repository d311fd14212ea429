'use strict';
// What a browser on a weak link gets (issue 16), against the real stack:
// static files from memory — brotli and gzip by Accept-Encoding (decoding
// to the very file), a strong ETag per coding and 304 for any of them,
// Vary, Cache-Control (immutable for /assets/, no-cache for the rest), the
// security headers on every answer, pages at /, /wall, /manage and
// /signin, 404 and 405; JSON answers compressed when large; a manager's
// hospital list (?scope=mine) and live snapshot holding her hospitals; and
// a snapshot gzipped once for clients that ask (hello "compress"), the
// same JSON as the text one.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const zlib = require('node:zlib');
const WebSocket = require('ws');
const { Stack, waitFor, bedsMsg, WEB_ROOT } = require('../lib/stack');

const WAIT = { timeout: 15000, interval: 20 };
const LEAFLET = '/usr/share/javascript/leaflet';

// One request; resolves with { status, headers, body: Buffer (as sent) }.
function get(port, p, headers = {}, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method, headers, agent: false }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.setTimeout(30000, () => req.destroy(new Error(`${p}: no answer within 30 s`)));
    req.end(method === 'POST' ? 'x=1' : undefined);
  });
}

const decode = (r) => {
  const e = r.headers['content-encoding'];
  if (e === 'br') return zlib.brotliDecompressSync(r.body);
  if (e === 'gzip') return zlib.gunzipSync(r.body);
  assert.equal(e, undefined);
  return r.body;
};

describe('web delivery', () => {
  const stack = new Stack({ env: { BP_AUTH_ANONYMOUS: 'none' } });
  const t = {};
  let port;
  let built; // the web root is the build's output (hashed assets)

  before(async () => {
    await stack.start();
    port = stack.serverPort;
    t.lan = stack.createToken('manager', { hospitals: 'bach-mai,viet-duc', name: 'Chị Lan' });
    t.dispatcher = stack.createToken('dispatcher');
    t.admin = stack.createToken('admin');
    t.wall = stack.createToken('wall');
    await stack.waitForToken(t.wall.token);
    const feed = await stack.feed();
    let seq = 1;
    for (const id of ['bach-mai', 'viet-duc', 'nhi-trung-uong']) {
      const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: id, beds: { icu_adult: { staffed: 40, occupied: 30 } } }));
      assert.equal(r.ok, true, JSON.stringify(r));
    }
    feed.close();
    built = fs.existsSync(path.join(WEB_ROOT, 'assets'));
  });
  after(async () => {
    await stack.stop({ keep: true });
    const problems = stack.problems();
    if (problems.length) stack.dumpLogs();
    fs.rmSync(stack.dir, { recursive: true, force: true });
    assert.deepEqual(problems, []);
  });

  test('pages and files: brotli, gzip or as they are, each decoding to the file; ETag per coding; Vary; CSP', async () => {
    const page = fs.readFileSync(path.join(WEB_ROOT, 'manage.html'));
    const tags = new Set();
    for (const [ae, enc] of [['gzip, deflate, br', 'br'], ['gzip', 'gzip'], ['br;q=0, gzip', 'gzip'], ['', undefined], ['identity', undefined]]) {
      const r = await get(port, '/manage', ae ? { 'Accept-Encoding': ae } : {});
      assert.equal(r.status, 200, ae);
      assert.equal(r.headers['content-encoding'], enc, ae);
      assert.equal(r.headers.vary, 'Accept-Encoding');
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(r.headers['cache-control'], 'no-cache', 'a page is revalidated on every visit');
      assert.match(r.headers['content-security-policy'], /script-src 'self'/);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(Number(r.headers['content-length']), r.body.length);
      assert.deepEqual(decode(r), page, ae);
      assert.match(r.headers.etag, /^"[0-9a-f]{16}(-br|-gz)?"$/);
      tags.add(r.headers.etag);
    }
    assert.equal(tags.size, 3, 'one tag per coding');
    // the same page at its other addresses (a query is not part of the file)
    for (const p of ['/manage/', '/manage.html', '/manage/?lang=en']) assert.deepEqual((await get(port, p)).body, page, p);
    assert.deepEqual((await get(port, '/')).body, fs.readFileSync(path.join(WEB_ROOT, 'index.html')));
    assert.deepEqual((await get(port, '/wall/?lang=en')).body, fs.readFileSync(path.join(WEB_ROOT, 'wall.html')));
    assert.deepEqual((await get(port, '/signin')).body, fs.readFileSync(path.join(WEB_ROOT, 'signin.html')));
    // HEAD: the headers of the answer, no body
    const head = await get(port, '/manage', { 'Accept-Encoding': 'br' }, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-encoding'], 'br');
    assert.ok(Number(head.headers['content-length']) > 0);
    assert.equal(head.body.length, 0);
  });

  test('If-None-Match with any of a file\'s tags answers 304 with its headers and no body', async () => {
    const first = await get(port, '/signin', { 'Accept-Encoding': 'gzip' });
    const r = await get(port, '/signin', { 'Accept-Encoding': 'br', 'If-None-Match': first.headers.etag });
    assert.equal(r.status, 304);
    assert.equal(r.body.length, 0);
    assert.match(r.headers.etag, /-br"$/);
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal(r.headers.vary, 'Accept-Encoding');
    assert.match(r.headers['content-security-policy'], /default-src 'none'/);
    for (const inm of [`W/${first.headers.etag}`, `"nope", ${first.headers.etag}`, '*']) {
      assert.equal((await get(port, '/signin', { 'If-None-Match': inm })).status, 304, inm);
    }
    for (const inm of ['"nope"', first.headers.etag.replace(/"$/, 'x"'), '']) {
      assert.equal((await get(port, '/signin', { 'If-None-Match': inm })).status, 200, inm);
    }
    // another file's tag is not this one's
    const other = await get(port, '/wall');
    assert.equal((await get(port, '/signin', { 'If-None-Match': other.headers.etag })).status, 200);
  });

  test('assets named by their hash are kept a year; every asset a page names is there', { skip: false }, async (ctx) => {
    if (!built) {
      ctx.skip('the web root is the unbuilt source');
      return;
    }
    for (const page of ['index.html', 'manage.html', 'wall.html', 'signin.html']) {
      const html = fs.readFileSync(path.join(WEB_ROOT, page), 'utf8');
      const refs = [...html.matchAll(/\s(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
      assert.ok(refs.length >= 3, `${page} names its assets`);
      // modulepreload hints: the page's chunks come with its module
      if (page !== 'signin.html') assert.match(html, /<link rel="modulepreload" href="\/assets\/chunk-/, page);
      for (const ref of refs) {
        const r = await get(port, ref, { 'Accept-Encoding': 'br, gzip' });
        assert.equal(r.status, 200, ref);
        assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable', ref);
        assert.deepEqual(decode(r), fs.readFileSync(path.join(WEB_ROOT, ref)), ref);
      }
    }
    // only one dictionary per language, each a file of its own
    const dicts = fs.readdirSync(path.join(WEB_ROOT, 'assets')).filter((f) => /^(vi|en)-\w+\.js$/.test(f));
    assert.equal(dicts.length, 2);
  });

  test('Leaflet from Debian: its own precompressed files, revalidated', async (ctx) => {
    if (!fs.existsSync(path.join(LEAFLET, 'leaflet.min.js'))) {
      ctx.skip('libjs-leaflet is not installed');
      return;
    }
    const r = await get(port, '/vendor/leaflet/leaflet.min.js', { 'Accept-Encoding': 'br' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], 'br');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.deepEqual(decode(r), fs.readFileSync(path.join(LEAFLET, 'leaflet.min.js')));
    assert.ok(r.body.length < 40000, `${r.body.length} bytes`);
    const png = await get(port, '/vendor/leaflet/images/marker-icon.png', { 'Accept-Encoding': 'br' });
    assert.equal(png.status, 200);
    assert.equal(png.headers['content-type'], 'image/png');
    assert.equal(png.headers['content-encoding'], undefined, 'images are not compressed again');
    assert.equal(png.headers.vary, undefined);
  });

  test('404 for what is not there (nothing outside the table), 405 for other methods', async () => {
    for (const p of ['/nope', '/nope/', '/assets/nope.js', '/manage/x', '/vendor/leaflet/', '/.git/config', '/manage.html.br', '/index.html.gz', '/ws']) {
      const r = await get(port, p);
      assert.equal(r.status, 404, p);
      assert.match(r.headers['content-security-policy'], /default-src 'none'/, p);
    }
    const r = await get(port, '/manage', {}, 'POST');
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'GET, HEAD');
  });

  test('JSON answers of 1 KiB and more are compressed when the client takes it; small ones are not', async () => {
    const auth = { Authorization: `Bearer ${t.dispatcher.token}` };
    const plain = await get(port, '/api/v1/hospitals', auth);
    assert.equal(plain.headers['content-encoding'], undefined);
    const all = JSON.parse(plain.body);
    assert.equal(all.length, 88);
    for (const [ae, enc] of [['br, gzip', 'br'], ['gzip', 'gzip']]) {
      const r = await get(port, '/api/v1/hospitals', Object.assign({ 'Accept-Encoding': ae }, auth));
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-encoding'], enc);
      assert.equal(r.headers.vary, 'Accept-Encoding');
      assert.equal(r.headers['cache-control'], 'no-store');
      assert.ok(r.body.length * 8 < plain.body.length, `${enc}: ${r.body.length} of ${plain.body.length} bytes`);
      assert.deepEqual(JSON.parse(decode(r)), all);
    }
    const small = await get(port, '/healthz', { 'Accept-Encoding': 'br' });
    assert.equal(small.headers['content-encoding'], undefined);
    assert.equal(JSON.parse(small.body).status, 'ok');
  });

  test('?scope=mine: the hospitals the token may change', async () => {
    const ids = async (tok) => {
      const r = await stack.call('GET', '/api/v1/hospitals?scope=mine', { token: tok.token });
      assert.equal(r.status, 200, r.body);
      return r.json.map((h) => h.id);
    };
    assert.deepEqual(await ids(t.lan), ['bach-mai', 'viet-duc']);
    assert.deepEqual(await ids(t.dispatcher), []);
    assert.equal((await ids(t.admin)).length, 88);
    const one = (await stack.call('GET', '/api/v1/hospitals?scope=mine', { token: t.lan.token })).json[0];
    assert.deepEqual(one, (await stack.call('GET', '/api/v1/hospitals/bach-mai', { token: t.lan.token })).json);
    const bad = await stack.call('GET', '/api/v1/hospitals?scope=all', { token: t.lan.token });
    assert.equal(bad.status, 400);
    assert.equal((await stack.call('GET', '/api/v1/hospitals?scope=mine')).status, 401);
  });

  // Opens /ws as `token` with a hello; resolves with the snapshot message
  // (parsed) and how it came.
  function snapshotOf(token, hello = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, 'bedpulse.v1', { headers: { Authorization: `Bearer ${token}` } });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('no snapshot within 15 s'));
      }, 15000);
      ws.on('open', () => ws.send(JSON.stringify(Object.assign({ type: 'hello' }, hello))));
      ws.on('message', (data, isBinary) => {
        const text = isBinary ? zlib.gunzipSync(data).toString('utf8') : data.toString('utf8');
        const m = JSON.parse(text);
        if (m.type !== 'snapshot') return;
        clearTimeout(timer);
        ws.close();
        resolve({ m, isBinary, bytes: data.length, text });
      });
      ws.on('error', reject);
    });
  }

  test('a manager\'s live snapshot holds her hospitals; others\' the city', async () => {
    const lan = await snapshotOf(t.lan.token);
    assert.deepEqual(lan.m.hospitals.map((h) => h.id), ['bach-mai', 'viet-duc']);
    assert.deepEqual(lan.m.ambulances, []);
    const wall = await snapshotOf(t.wall.token);
    assert.equal(wall.m.hospitals.length, 88);
    assert.ok(lan.bytes * 10 < wall.bytes, `${lan.bytes} vs ${wall.bytes} bytes`);
  });

  test('hello "compress": the snapshot as one binary gzip message holding the same JSON', async () => {
    await waitFor(async () => Number((await stack.get('/readyz')).json.offset) >= 3, WAIT);
    const text = await snapshotOf(t.dispatcher.token);
    const gz = await snapshotOf(t.dispatcher.token, { compress: 'gzip' });
    assert.equal(text.isBinary, false);
    assert.equal(gz.isBinary, true);
    assert.ok(gz.bytes * 5 < text.bytes, `${gz.bytes} of ${text.bytes} bytes`);
    assert.equal(gz.m.offset, text.m.offset);
    assert.deepEqual(gz.m.hospitals, text.m.hospitals);
    assert.deepEqual(gz.m.ambulances, text.m.ambulances);
    // a manager's own snapshot gzipped too
    const lan = await snapshotOf(t.lan.token, { compress: 'gzip' });
    assert.equal(lan.isBinary, true);
    assert.deepEqual(lan.m.hospitals.map((h) => h.id), ['bach-mai', 'viet-duc']);
    const m = (await stack.get('/metrics')).body;
    assert.match(m, /^bedpulse_snapshots_gzipped_total [1-9]/m);
    // an unknown coding is a bad hello
    await new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, 'bedpulse.v1', { headers: { Authorization: `Bearer ${t.dispatcher.token}` } });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', compress: 'br' })));
      ws.on('close', (code) => {
        try {
          assert.equal(code, 4002);
          resolve();
        } catch (e) {
          reject(e);
        }
      });
      ws.on('error', reject);
    });
  });
});
