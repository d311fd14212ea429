'use strict';
// The public capacity document and the open data (issue 14) against the
// real stack with anonymous access off: GET /api/v1/public answers anyone,
// with an ETag, Cache-Control: public, max-age=5, 304 for If-None-Match and
// a gzip copy (its own tag) for who asks;
// it holds each hospital's ED state with a reason category but never the
// hospital's free text, never an ambulance or an incident; a change shows
// within the 5 s the document may be old, and the bytes stay the same in
// between (serialised once). /api/v1/public/daily.csv and .json carry the
// licence, and a row per day x hospital x bed type from the history.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const zlib = require('node:zlib');
const { Stack, waitFor, bedsMsg, ambulanceMsg } = require('../lib/stack');

// 30 hours of trend samples every 30 min for three hospitals, in the form
// the server writes (t,occupancy,occupied,staffed,icu free,diversions,
// level4,reporting,level), Bach Mai's with two bed types
// (|type:staffed:occupied:surge24)
const SEEDED = ['bach-mai', 'viet-duc', 'thanh-nhan'];
function seed(stack) {
  const end = Date.now() - (Date.now() % 1800e3);
  for (const [i, id] of SEEDED.entries()) {
    const pts = [];
    for (let t = end - 30 * 3600e3; t <= end; t += 1800e3) {
      const occupied = 700 + i * 50 + ((t / 1800e3) % 7) * 10;
      const types = id === 'bach-mai' ? '|emergency:40:35:-1|icu_adult:60:55:-1' : '';
      pts.push(t, `${t},${((occupied / 1000) * 100).toFixed(1)},${occupied},1000,${5 + i},0,0,1,2${types}`);
    }
    stack.redis('ZADD', `${stack.prefix}hist:h:${id}`, ...pts);
  }
}

describe('the public page\'s document and the open data', () => {
  const stack = new Stack({ env: { BP_AUTH_ANONYMOUS: 'none' } });
  let feed;
  let seq = 1;
  before(async () => {
    await stack.startRedis();
    await stack.startCollector();
    seed(stack);
    await stack.startServer();
    feed = await stack.feed();
  });
  after(async () => {
    if (feed) feed.close();
    await stack.stop();
  });

  // A GET whose body is kept as bytes (a gzip answer is not text).
  const rawGet = (p, headers) => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: stack.serverPort, path: p, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });

  test('open to anyone, cached and revalidated, gzip when asked; nothing private in it', stack.guard(async () => {
    assert.equal((await stack.get('/api/v1/hospitals')).status, 401, 'the rest is closed');
    const r = await stack.get('/api/v1/public');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['cache-control'], 'public, max-age=5');
    assert.match(r.headers.etag, /^"[0-9a-f]{16}"$/);
    assert.match(r.headers['content-type'], /^application\/json/);
    const doc = r.json;
    assert.equal(doc.licence.name, 'CC BY 4.0');
    assert.ok(doc.hospitals.length > 30, `${doc.hospitals.length} hospitals`);
    for (const k of ['ambulances', 'incidents', 'mci', 'units']) assert.equal(doc[k], undefined, k);
    assert.doesNotMatch(r.body, /"(ambulance|incident|source|by|token)"/);
    const again = await stack.call('GET', '/api/v1/public', { headers: { 'If-None-Match': r.headers.etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    assert.equal((await stack.call('GET', '/api/v1/public', { headers: { 'If-None-Match': '"0000000000000000"' } })).status, 200);
    assert.equal((await stack.call('POST', '/api/v1/public', { json: {} })).status, 405);
    assert.equal(r.headers.vary, 'Accept-Encoding');
    // gzip when asked: made once with the document, its own tag
    const z = await rawGet('/api/v1/public', { 'Accept-Encoding': 'gzip, deflate' });
    assert.equal(z.status, 200);
    assert.equal(z.headers['content-encoding'], 'gzip');
    assert.match(z.headers.etag, /^"[0-9a-f]{16}-gz"$/);
    assert.ok(z.body.length < Buffer.byteLength(r.body) / 3, `${z.body.length} bytes compressed of ${Buffer.byteLength(r.body)}`);
    const unzipped = JSON.parse(zlib.gunzipSync(z.body).toString('utf8'));
    assert.equal(unzipped.licence.name, 'CC BY 4.0');
    assert.equal(unzipped.hospitals.length, doc.hospitals.length);
    const z304 = await rawGet('/api/v1/public', { 'Accept-Encoding': 'gzip', 'If-None-Match': z.headers.etag });
    assert.equal(z304.status, 304);
    assert.equal((await rawGet('/api/v1/public', { 'Accept-Encoding': 'gzip;q=0' })).headers['content-encoding'], undefined);
  }));

  test('a diversion shows within 5 s as "diverting" with a category, never the free text', stack.guard(async () => {
    const secret = 'Máy CT hỏng, bác sĩ Tuấn nghỉ';
    const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'bach-mai', ed: { status: 'diversion', reason: secret, until: new Date(Date.now() + 3600e3).toISOString() } }));
    assert.equal(r.ok, true, JSON.stringify(r));
    await feed.send(ambulanceMsg({ seq: seq++, status: 'transporting', lat: 21.0, lon: 105.84 }));
    const sent = Date.now();
    const body = await waitFor(async () => {
      const x = await stack.get('/api/v1/public');
      const h = x.json.hospitals.find((y) => y.id === 'bach-mai');
      return h && h.ed.state === 'diverting' ? x : false;
    }, { what: 'bach-mai diverting', timeout: 15000 });
    const waited = Date.now() - sent;
    const h = body.json.hospitals.find((y) => y.id === 'bach-mai');
    assert.ok(['icu_full', 'beds_full', 'ambulance_delays', 'other'].includes(h.ed.reason), JSON.stringify(h.ed));
    assert.ok(!body.body.includes('Máy CT') && !body.body.includes('Tuấn'), 'no free text');
    assert.ok(!body.body.includes('115-HK-03'), 'no ambulance');
    assert.ok(waited < 5000 + 2000, `seen after ${waited} ms (rebuilt at most every 5 s)`);
    // between rebuilds: the same bytes, the same tag
    const a = await stack.get('/api/v1/public');
    const b = await stack.get('/api/v1/public');
    const same = a.headers.etag === b.headers.etag;
    assert.ok(same ? a.body === b.body : Date.parse(b.json.generated) > Date.parse(a.json.generated), 'a tag names its bytes');
    const m = (await stack.get('/metrics')).body;
    const rebuilds = Number((m.match(/bedpulse_public_rebuilds_total\{doc="public"\} (\d+)/) || [])[1]);
    const answers = Number((m.match(/bedpulse_public_answers_total\{doc="public"\} (\d+)/) || [])[1]);
    assert.ok(answers > rebuilds, `answered ${answers} times from ${rebuilds} serialisations`);
  }));

  test('daily.csv and daily.json: the licence in the header, a row per day x hospital x bed type', stack.guard(async () => {
    const csv = await stack.get('/api/v1/public/daily.csv');
    assert.equal(csv.status, 200);
    assert.match(csv.headers['content-type'], /^text\/csv/);
    assert.equal(csv.headers['cache-control'], 'public, max-age=60');
    const lines = csv.body.split('\r\n').filter(Boolean);
    assert.match(lines[0], /^# BedPulse open data: .*Licence: CC BY 4\.0 \(https:\/\/creativecommons\.org\/licenses\/by\/4\.0\/\)/);
    assert.equal(lines[1], 'date,hospital,name_vi,name_en,district,tier,bed_type,staffed_08,occupied_08,free_08,occupancy_pct_08,staffed_20,occupied_20,free_20,occupancy_pct_20');
    const rows = lines.slice(2).map((l) => l.split(','));
    // 30 hours hold the two fixed hours of today or yesterday: 2 or 3 of them
    const days = new Set(rows.map((x) => x[0]));
    assert.ok(days.size >= 1 && days.size <= 3, `days: ${[...days]}`);
    assert.deepEqual([...new Set(rows.map((x) => x[1]))].sort(), SEEDED.slice().sort(), 'the hospitals with history');
    // inpatient and adult ICU (free beds only) each; Bach Mai's emergency too
    assert.equal(rows.length, days.size * (SEEDED.length * 2 + 1), `rows: ${lines.slice(2).join(' / ')}`);
    const em = rows.filter((x) => x[1] === 'bach-mai' && x[6] === 'emergency' && x[7] !== '');
    assert.ok(em.length, 'Bach Mai emergency rows');
    for (const x of em) assert.deepEqual(x.slice(7, 11), ['40', '35', '5', '87.5'], `emergency: ${x.join(',')}`);
    const icu = rows.find((x) => x[1] === 'bach-mai' && x[6] === 'icu_adult' && x[7] !== '');
    assert.ok(icu && icu[8] === '55' && icu[9] === '5', `Bach Mai adult ICU in full: ${icu}`);
    const bm = rows.find((x) => x[1] === 'bach-mai' && x[6] === 'inpatient' && x[7] === '1000');
    assert.ok(bm, 'Bach Mai inpatient figures at 08:00');
    assert.equal(Number(bm[9]), 1000 - Number(bm[8]), 'free = staffed - occupied');
    const keys = new Set(rows.map((x) => `${x[0]}|${x[1]}|${x[6]}`));
    assert.equal(keys.size, rows.length, 'one row per day x hospital x bed type');
    const json = await stack.get('/api/v1/public/daily.json');
    assert.equal(json.status, 200);
    assert.equal(json.json.licence.name, 'CC BY 4.0');
    assert.equal(json.json.rows.length, rows.length, 'the same rows');
    const tag = json.headers.etag;
    assert.equal((await stack.call('GET', '/api/v1/public/daily.json', { headers: { 'If-None-Match': tag } })).status, 304);
  }));
});
