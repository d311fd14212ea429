'use strict';
// REST API and probes (docs/protocol.md §3): representations, derived
// figures, summary totals, errors, methods, path traversal and web/.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const os = require('node:os');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { Stack, LiveClient, waitFor, isoNow, bedsMsg, ambulanceMsg, ROOT, WEB_ROOT } = require('../lib/stack');
const registry = require('../../config/hospitals.json');
const fleet = require('../../config/fleet.json');

const HOSPITAL_KEYS = ['at', 'beds', 'check', 'district', 'ed', 'facility', 'freshness', 'id', 'lat', 'level', 'lon', 'name', 'occupancy_pct', 'offload',
  'phone', 'report_interval_s', 'services', 'sister', 'source', 'specialties', 'tier', 'updated', 'version'];
const AMBULANCE_KEYS = ['at', 'destination', 'fms', 'heading', 'id', 'incident', 'lat', 'lon', 'source', 'speed', 'station',
  'status', 'updated', 'version'];
const EXCLUDED = new Set(['emergency', 'operating_room']); // not in occupancy
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const WAIT = { timeout: 10000 };

const known = (b) => b.staffed !== null && b.occupied !== null;

// Occupancy % and pressure level by the rules of protocol.md §2.
function derived(h) {
  let staffed = 0;
  let occupied = 0;
  let types = 0;
  for (const [t, b] of Object.entries(h.beds)) {
    if (EXCLUDED.has(t) || !known(b)) continue;
    staffed += b.staffed;
    occupied += b.occupied;
    types++;
  }
  const pct = types === 0 ? null : staffed === 0 ? (occupied > 0 ? 999 : 0) : (100 * occupied) / staffed;
  let level = pct === null ? 1 : pct >= 110 ? 4 : pct >= 95 ? 3 : pct >= 85 ? 2 : 1;
  const eff = h.ed.effective;
  if (eff === 'closed') level = 4;
  else if (eff === 'diversion') level = Math.max(level, 3);
  else if (eff === 'advisory') level = Math.max(level, 2);
  const icu = h.beds.icu_adult;
  if (icu && icu.staffed > 0 && known(icu) && icu.available === 0) level = Math.max(level, 3);
  return { pct, level };
}

function sumInto(acc, h) {
  acc.hospitals++;
  if (h.at === null) return;
  const parts = Object.entries(h.beds).filter(([t, b]) => !EXCLUDED.has(t) && known(b));
  if (!parts.length) return;
  acc.reporting++;
  for (const [, b] of parts) {
    acc.staffed += b.staffed;
    acc.occupied += b.occupied;
    acc.available += b.available;
    acc.overflow += b.overflow;
    acc.surge24 += b.surge24 > 0 ? b.surge24 : 0;
  }
}
const emptyAgg = () => ({ hospitals: 0, reporting: 0, staffed: 0, occupied: 0, available: 0, overflow: 0, surge24: 0 });

// Sends a request with a body of `size` bytes by hand, the way a client
// that does not wait for an answer does (headers, then the whole body as
// fast as the socket takes it), and collects the raw answer. The server may
// close while the body is still going out: a reset or broken pipe after the
// answer arrived is expected; before it, it is a failure.
function sendBody(port, method, p, size, headers = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    let written = 0;
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text && err) reject(new Error(`${method} ${p} (${size} bytes): no answer (${err.message}) after ${written} bytes sent`));
      else resolve({ text, written, status: Number(text.split(' ')[1]), head: text.split('\r\n\r\n')[0], body: text.split('\r\n\r\n').slice(1).join('') });
      sock.destroy();
    };
    const timer = setTimeout(() => finish(new Error('timeout (30 s)')), 30000);
    sock.on('error', (e) => finish(e));
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => finish(null));
    sock.on('close', () => finish(new Error('closed')));
    sock.on('connect', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      sock.write(`${method} ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${size}\r\n${extra}\r\n`);
      const piece = Buffer.alloc(64 * 1024, 'x'.charCodeAt(0));
      const pump = () => {
        while (written < size && !done) {
          const n = Math.min(piece.length, size - written);
          written += n;
          if (!sock.write(n === piece.length ? piece : piece.subarray(0, n))) return sock.once('drain', pump);
        }
      };
      pump();
    });
  });
}

describe('REST API', () => {
  const stack = new Stack();
  let feed;
  let seq = 0;
  const send = async (msg) => {
    const r = await feed.send(Object.assign({}, msg, { seq: ++seq }));
    assert.equal(r.ok, true, `${JSON.stringify(msg)} -> ${JSON.stringify(r)}`);
    return r;
  };
  const byId = Object.fromEntries(registry.hospitals.map((h) => [h.id, h]));
  const [fresh, late, stale] = registry.hospitals.filter((h) => h.id !== 'bach-mai' && Object.keys(h.beds).length).slice(0, 3);

  before(stack.guard(async () => {
    await stack.start();
    feed = await stack.feed();
    const now = Date.now();
    // bach-mai: 70+1100+60 of 75+1170+60 => 94.3 %, level 2
    await send(bedsMsg({ source: 'his-bm', beds: { icu_adult: { occupied: 70 }, medical_surgical: { occupied: 1100 }, pediatrics: { occupied: 60 }, emergency: { occupied: 200 }, operating_room: { occupied: 70 } } }));
    const pick = (h) => Object.keys(h.beds).find((t) => !EXCLUDED.has(t)) || Object.keys(h.beds)[0];
    await send(bedsMsg({ source: 'his-f', hospital: fresh.id, at: new Date(now - 1000).toISOString(), beds: { [pick(fresh)]: { occupied: 1 } } }));
    await send(bedsMsg({ source: 'his-l', hospital: late.id, at: new Date(now - 1.5 * late.report_interval_s * 1000).toISOString(), beds: { [pick(late)]: { occupied: 2 } } }));
    await send(bedsMsg({ source: 'his-s', hospital: stale.id, at: new Date(now - 3 * stale.report_interval_s * 1000).toISOString(), beds: { [pick(stale)]: { occupied: 3 } } }));
    await send(ambulanceMsg({ source: 'avl', id: fleet.ambulances[0].id, status: 'transporting', lat: 21.01, lon: 105.82, heading: 90, speed: 40, destination: 'bach-mai', incident: 'INC-9' }));
    await send(ambulanceMsg({ source: 'avl', id: fleet.ambulances[1].id, status: 'out_of_service' }));
    await waitFor(async () => (await stack.get('/readyz')).json.offset === 6, { ...WAIT, what: 'the server to follow' });
  }));
  after(async () => {
    if (feed) feed.destroy();
    await stack.stop();
  });

  test('GET /api/v1/hospitals: 88 hospitals with the documented fields and headers', stack.guard(async () => {
    const r = await stack.get('/api/v1/hospitals');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.headers['x-bedpulse-offset'], stack.redis('GET', 'bp:offset'));
    assert.equal(r.headers['x-bedpulse-epoch'], stack.redis('GET', 'bp:epoch'));
    assert.equal(r.json.length, 88);
    assert.deepEqual(r.json.map((h) => h.id), registry.hospitals.map((h) => h.id), 'registry order');
    for (const h of r.json) {
      assert.deepEqual(Object.keys(h).sort(), HOSPITAL_KEYS, h.id);
      const reg = byId[h.id];
      assert.deepEqual(h.name, reg.name);
      assert.equal(h.tier, reg.tier);
      assert.equal(h.district, reg.district);
      assert.equal(h.lat, reg.lat);
      assert.equal(h.lon, reg.lon);
      assert.deepEqual([...h.specialties].sort(), [...reg.specialties].sort());
      assert.equal(h.sister, reg.sister);
      assert.equal(h.phone, reg.phone);
      assert.equal(h.report_interval_s, reg.report_interval_s);
      assert.deepEqual(Object.keys(h.ed).sort(), ['effective', 'reason', 'status', 'until', 'waiting']);
      // the registry's services, each with its status (never reported: available)
      assert.deepEqual(Object.keys(h.services).sort(), [...(reg.services || [])].sort(), h.id);
      for (const s of Object.values(h.services)) assert.deepEqual(Object.keys(s).sort(), ['effective', 'reason', 'status', 'until'], h.id);
      assert.deepEqual(Object.keys(h.facility).sort(), ['oxygen', 'power', 'reason', 'status', 'water'], h.id);
      assert.equal(h.check, null, `${h.id}: no plausibility check on these reports`);
      for (const [t, b] of Object.entries(h.beds)) {
        assert.deepEqual(Object.keys(b), ['staffed', 'occupied', 'surge24', 'available', 'overflow'], `${h.id} ${t}`);
        if (known(b)) {
          assert.equal(b.available, Math.max(b.staffed - b.occupied, 0));
          assert.equal(b.overflow, Math.max(b.occupied - b.staffed, 0));
        } else {
          assert.equal(b.available, null);
          assert.equal(b.overflow, null);
        }
      }
      for (const [t, b] of Object.entries(reg.beds)) {
        assert.equal(h.beds[t].staffed, b.staffed, `${h.id} ${t} staffed baseline`);
        assert.equal(h.beds[t].surge24, b.surge24, `${h.id} ${t} surge24 baseline`);
      }
      const { pct, level } = derived(h);
      if (pct === null) assert.equal(h.occupancy_pct, null, h.id);
      else assert.ok(Math.abs(h.occupancy_pct - pct) < 0.1, `${h.id}: occupancy ${h.occupancy_pct}, expected ${pct}`);
      assert.equal(h.level, level, `${h.id} level`);
      if (h.at === null) {
        assert.equal(h.version, 0);
        assert.equal(h.updated, null);
        assert.equal(h.source, '');
        assert.equal(h.freshness, 'never');
        assert.ok(Object.values(h.beds).every((b) => b.occupied === null), `${h.id}: never reported`);
        assert.deepEqual(h.ed, { status: 'normal', reason: '', until: null, waiting: null, effective: 'normal' });
      } else {
        assert.match(h.at, ISO_MS);
        assert.match(h.updated, ISO_MS);
      }
    }
    const one = (id) => r.json.find((h) => h.id === id);
    const bm = one('bach-mai');
    assert.equal(bm.version, 1);
    assert.equal(bm.source, 'his-bm');
    assert.ok(Math.abs(bm.occupancy_pct - 94.25) < 0.1, `bach-mai occupancy ${bm.occupancy_pct}`); // 1230 / 1305, to 0.1
    assert.equal(bm.level, 2);
    assert.equal(bm.freshness, 'fresh');
    assert.deepEqual(bm.beds.emergency, { staffed: 90, occupied: 200, surge24: 18, available: 0, overflow: 110 });
    assert.equal(one(fresh.id).freshness, 'fresh');
    assert.equal(one(late.id).freshness, 'late');
    assert.equal(one(stale.id).freshness, 'stale');
    assert.equal(r.json.filter((h) => h.at !== null).length, 4);
  }));

  test('ED status and adult ICU raise the pressure level; a passed until reads normal', stack.guard(async () => {
    const level = async () => (await stack.get('/api/v1/hospitals/bach-mai')).json;
    const until = isoNow(3600e3);
    const steps = [
      [{ ed: { status: 'advisory', until } }, 'advisory', 2],
      [{ ed: { status: 'diversion', reason: 'CT down', until, waiting: 7 } }, 'diversion', 3],
      [{ ed: { status: 'closed' } }, 'closed', 4],
      [{ ed: { status: 'normal' } }, 'normal', 2],
      [{ beds: { icu_adult: { occupied: 75 } } }, 'normal', 3], // adult ICU full
      [{ beds: { icu_adult: { occupied: 10 }, medical_surgical: { occupied: 1500 } } }, 'normal', 4], // (10+1500+60)/1305
      [{ beds: { medical_surgical: { occupied: 100 } } }, 'normal', 1],
      [{ ed: { status: 'diversion', until } }, 'diversion', 3],
    ];
    let offset;
    for (const [fields, effective, expected] of steps) {
      offset = (await send(bedsMsg(Object.assign({ source: 'his-bm', at: isoNow() }, fields)))).offset;
      await waitFor(async () => (await stack.get('/readyz')).json.offset === offset, { ...WAIT, what: 'the server to follow' });
      const h = await level();
      assert.equal(h.ed.effective, effective, JSON.stringify(fields));
      assert.equal(h.level, expected, `${JSON.stringify(fields)}: ${JSON.stringify(h.beds)} ${JSON.stringify(h.ed)}`);
      assert.equal(h.level, derived(h).level);
    }
    // a diversion whose until has passed reads normal (a report from a
    // minute ago, for a hospital without newer ones)
    const other = registry.hospitals.find((x) => ![fresh.id, late.id, stale.id, 'bach-mai'].includes(x.id));
    offset = (await send(bedsMsg({ source: 'his-o', hospital: other.id, at: isoNow(-60e3), ed: { status: 'diversion', reason: 'x', until: isoNow(-30e3) } }))).offset;
    await waitFor(async () => (await stack.get('/readyz')).json.offset === offset, { ...WAIT, what: 'the server to follow' });
    const h = (await stack.get(`/api/v1/hospitals/${other.id}`)).json;
    assert.equal(h.ed.status, 'diversion');
    assert.match(h.ed.until, ISO_MS);
    assert.equal(h.ed.effective, 'normal');
    assert.equal(h.level, 1);
    const s = (await stack.get('/api/v1/summary')).json;
    assert.equal(s.ed.diversion, 1, 'bach-mai only: the passed diversion counts as normal');
  }));

  test('GET /api/v1/hospitals/{id}: 200, and 404 unknown_hospital', stack.guard(async () => {
    const list = (await stack.get('/api/v1/hospitals')).json;
    const one = await stack.get('/api/v1/hospitals/bach-mai');
    assert.equal(one.status, 200);
    assert.deepEqual(one.json, list.find((h) => h.id === 'bach-mai'));
    assert.equal(one.headers['cache-control'], 'no-store');
    assert.ok(one.headers['x-bedpulse-offset'], JSON.stringify(one.headers));
    for (const id of ['no-such-hospital', 'BACH-MAI', 'bach_mai', '%20', 'bach-mai/', '', 'bach-mai%2f']) {
      const r = await stack.get(`/api/v1/hospitals/${id}`);
      assert.equal(r.status, 404, id);
      assert.deepEqual(Object.keys(r.json).sort(), ['error', 'message']);
      assert.equal(r.json.error, 'unknown_hospital', id);
      assert.equal(r.headers['cache-control'], 'no-store');
      assert.ok(r.headers['x-bedpulse-offset'] !== undefined, JSON.stringify(r.headers));
    }
    // lws refuses a NUL in the path outright; it never reaches a hospital
    const nul = await stack.get('/api/v1/hospitals/bach-mai%00').catch((e) => ({ status: e.message }));
    assert.notEqual(nul.status, 200);
    const long = await stack.get(`/api/v1/hospitals/${'a'.repeat(600)}`);
    assert.equal(long.status, 414);
    assert.equal(typeof long.json.error, 'string');
  }));

  test('GET /api/v1/ambulances: 62 units with the documented fields', stack.guard(async () => {
    const r = await stack.get('/api/v1/ambulances');
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.json.length, 62);
    const stations = Object.fromEntries(fleet.ambulances.map((a) => [a.id, a.station]));
    for (const a of r.json) {
      assert.deepEqual(Object.keys(a).sort(), AMBULANCE_KEYS, a.id);
      assert.equal(a.station, stations[a.id]);
    }
    const [u0, u1, u2] = fleet.ambulances.map((a) => r.json.find((x) => x.id === a.id));
    assert.equal(u0.version, 1);
    assert.equal(u0.status, 'transporting');
    assert.equal(u0.fms, 7);
    assert.equal(u0.lat, 21.01);
    assert.equal(u0.lon, 105.82);
    assert.equal(u0.heading, 90);
    assert.equal(u0.speed, 40);
    assert.equal(u0.destination, 'bach-mai');
    assert.equal(u0.incident, 'INC-9');
    assert.equal(u0.source, 'avl');
    assert.match(u0.at, ISO_MS);
    assert.equal(u1.status, 'out_of_service');
    assert.equal(u1.lat, null);
    assert.deepEqual(
      { version: u2.version, at: u2.at, status: u2.status, lat: u2.lat, heading: u2.heading, destination: u2.destination, incident: u2.incident },
      { version: 0, at: null, status: 'available_station', lat: null, heading: null, destination: null, incident: null });
  }));

  test('GET /api/v1/summary: totals agree with the hospital and ambulance lists', stack.guard(async () => {
    const [hs, as, r] = [(await stack.get('/api/v1/hospitals')).json, (await stack.get('/api/v1/ambulances')).json, await stack.get('/api/v1/summary')];
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    const s = r.json;
    for (const k of ['city', 'bed_types', 'tiers', 'districts', 'levels', 'ed', 'freshness', 'ambulances']) assert.ok(k in s, k);
    const city = emptyAgg();
    const tiers = {};
    const districts = {};
    for (const h of hs) {
      sumInto(city, h);
      sumInto((tiers[h.tier] ||= emptyAgg()), h);
      sumInto((districts[h.district] ||= emptyAgg()), h);
    }
    const strip = (a) => ({ hospitals: a.hospitals, reporting: a.reporting, staffed: a.staffed, occupied: a.occupied, available: a.available, overflow: a.overflow, surge24: a.surge24 });
    assert.deepEqual(strip(s.city), city);
    assert.equal(city.hospitals, 88);
    assert.equal(city.reporting, 4);
    assert.ok(Math.abs(s.city.occupancy_pct - (100 * city.occupied) / city.staffed) < 0.1, `${s.city.occupancy_pct} vs ${(100 * city.occupied) / city.staffed}`);
    for (const [t, a] of Object.entries(tiers)) assert.deepEqual(strip(s.tiers[t]), a, `tier ${t}`);
    assert.equal(Object.values(s.tiers).reduce((n, a) => n + a.hospitals, 0), 88);
    for (const [d, a] of Object.entries(districts)) assert.deepEqual(strip(s.districts[d]), a, `district ${d}`);
    assert.deepEqual(Object.keys(s.districts).sort(), Object.keys(registry.districts).sort());
    // per bed type, over reporting hospitals that know both numbers
    for (const t of Object.keys(s.bed_types)) {
      const e = { hospitals: 0, staffed: 0, occupied: 0, available: 0, overflow: 0, surge24: 0 };
      for (const h of hs) {
        const b = h.beds[t];
        if (h.at === null || !b || !known(b)) continue;
        e.hospitals++;
        e.staffed += b.staffed;
        e.occupied += b.occupied;
        e.available += b.available;
        e.overflow += b.overflow;
        e.surge24 += b.surge24 > 0 ? b.surge24 : 0;
      }
      // the ICU types' pairs, over the reporting hospitals that report each
      for (const pair of ['icu_adult', 'icu_pediatric'].includes(t) ? ['ventilated', 'ecmo'] : []) {
        e[pair] = { hospitals: 0, total: 0, free: 0 };
        for (const h of hs) {
          const x = h.at !== null && h.beds[t] && h.beds[t][pair];
          if (!x) continue;
          e[pair].hospitals++;
          e[pair].total += x.total;
          e[pair].free += x.free;
        }
      }
      assert.deepEqual(s.bed_types[t], e, `bed type ${t}`);
    }
    const count = (xs, f) => xs.reduce((m, x) => ((m[f(x)] = (m[f(x)] || 0) + 1), m), {});
    const nonzero = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v));
    assert.deepEqual(nonzero(s.levels), count(hs, (h) => String(h.level)));
    assert.deepEqual(nonzero(s.ed), count(hs, (h) => h.ed.effective));
    assert.deepEqual(nonzero(s.freshness), count(hs, (h) => h.freshness));
    assert.deepEqual(nonzero(s.ambulances), count(as, (a) => a.status));
    assert.equal(Object.values(s.ambulances).reduce((a, b) => a + b, 0), 62);
  }));

  test('/healthz, /readyz and /metrics', stack.guard(async () => {
    const h = await stack.get('/healthz');
    assert.equal(h.status, 200);
    assert.equal(h.json.status, 'ok');
    assert.ok(Number.isInteger(h.json.uptime_s), h.body);
    const c = new LiveClient(`ws://127.0.0.1:${stack.serverPort}/ws`);
    await c.connect();
    try {
      await c.waitFor((x) => x.snapshot, WAIT);
      const r = await waitFor(async () => {
        const x = await stack.get('/readyz');
        return x.json.clients === 1 && x;
      }, { ...WAIT, what: 'one client in /readyz' });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { ready: true, epoch: stack.redis('GET', 'bp:epoch'), offset: Number(stack.redis('GET', 'bp:offset')), clients: 1, server: os.hostname() });
      assert.equal(r.headers['x-bedpulse-epoch'], r.json.epoch);
      const m = await stack.get('/metrics');
      assert.equal(m.status, 200);
      assert.match(m.headers['content-type'], /^text\/plain/);
      assert.match(m.body, /^bedpulse_ws_clients 1$/m);
      assert.match(m.body, /^# TYPE bedpulse_ws_clients gauge$/m);
      assert.match(m.body, /^bedpulse_ready 1$/m);
      const events = Number(/^bedpulse_events_in_total (\d+)$/m.exec(m.body)[1]);
      assert.equal(events, Number(stack.redis('GET', 'bp:offset')));
      for (const line of m.body.trimEnd().split('\n')) {
        assert.match(line, /^(# (HELP|TYPE) (bedpulse|process)_[a-z_]+ .+|(bedpulse|process)_[a-z_]+(\{[a-z_]+="[^"\\\n]*"(,[a-z_]+="[^"\\\n]*")*\})? \d+(\.\d+)?)$/, line);
      }
      // and Prometheus' own checker agrees (tests/integration/ops.test.js checks more)
      const check = require('node:child_process').spawnSync('promtool', ['check', 'metrics'], { input: m.body, encoding: 'utf8' });
      assert.deepEqual({ status: check.status, out: `${check.stdout}${check.stderr}`.trim() }, { status: 0, out: '' });
    } finally {
      c.close();
    }
    await waitFor(async () => /^bedpulse_ws_clients 0$/m.test((await stack.get('/metrics')).body), { ...WAIT, what: '0 clients' });
  }));

  test('methods other than GET and HEAD get 405', stack.guard(async () => {
    for (const p of ['/api/v1/hospitals', '/api/v1/hospitals/bach-mai', '/api/v1/ambulances', '/api/v1/summary', '/healthz', '/readyz', '/metrics']) {
      for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        if (m === 'PATCH' && p === '/api/v1/hospitals/bach-mai') continue; // a manager's write (auth.test.js)
        const r = await stack.request(m, p, m === 'DELETE' ? undefined : '{"beds":{}}');
        assert.equal(r.status, 405, `${m} ${p}`);
        assert.equal(r.json.error, 'method_not_allowed', `${m} ${p}`);
        assert.equal(r.headers['cache-control'], 'no-store');
      }
      const head = await stack.request('HEAD', p);
      assert.equal(head.status, 200, `HEAD ${p}`);
      assert.equal(head.body, '');
    }
    // a POST changes nothing
    assert.equal((await stack.get('/api/v1/hospitals/bach-mai')).json.source, 'his-bm');
  }));

  test('unknown paths get 404', stack.guard(async () => {
    for (const p of ['/api/v1/nope', '/api/v2/hospitals', '/api', '/api/', '/api/v1', '/api/v1/hospitals/bach-mai/beds', '/metrics/x', '/healthz/x', '/nope.html', '/ws/x', '/api/v1/hospitals/..%2fbach-mai']) {
      const r = await stack.get(p);
      assert.equal(r.status, 404, p);
      if (p.startsWith('/api')) assert.equal(typeof r.json.error, 'string', p);
    }
  }));

  test('path traversal never returns a file outside web/', stack.guard(async () => {
    const settings = fs.readFileSync(path.join(ROOT, 'config', 'settings.json'), 'utf8');
    const cmake = fs.readFileSync(path.join(ROOT, 'CMakeLists.txt'), 'utf8');
    const attempts = [
      '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/%252e%252e/%252e%252e/etc/passwd', '/..%5c..%5cetc%5cpasswd', '/....//....//etc/passwd', '//etc/passwd',
      '/web/../../etc/passwd', '/index.html/../../etc/passwd', '/api/../../../../etc/passwd', '/./../../../etc/passwd',
      '/../config/settings.json', '/%2e%2e/config/settings.json', '/../CMakeLists.txt', '/%2E%2E/CMakeLists.txt',
      '/..', '/../', '/%2e%2e', '/.%2e/.%2e/etc/passwd',
    ];
    for (const p of attempts) {
      const text = await stack.rawHttp(`GET ${p} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      const status = Number(text.split(' ')[1]);
      assert.ok(!/root:.*:0:0:/.test(text), `${p} returned /etc/passwd`);
      assert.ok(!text.includes(settings.slice(0, 200)), `${p} returned config/settings.json`);
      assert.ok(!text.includes(cmake.slice(0, 200)), `${p} returned CMakeLists.txt`);
      assert.ok(status >= 400 || text.includes('<title>BedPulse'), `${p}: ${text.split('\r\n')[0]}`);
    }
    // the server is fine afterwards
    assert.equal((await stack.get('/healthz')).status, 200);
  }));

  test('GET / serves the web root\'s index.html', stack.guard(async () => {
    const index = fs.readFileSync(path.join(WEB_ROOT, 'index.html'), 'utf8');
    for (const p of ['/', '/index.html']) {
      const r = await stack.get(p);
      assert.equal(r.status, 200, p);
      assert.match(r.headers['content-type'], /^text\/html/);
      assert.equal(r.body, index, p);
    }
  }));

  test('query arguments are percent-decoded once (%25, %2B, +, %26, Vietnamese)', stack.guard(async () => {
    const admin = stack.createToken('admin');
    await stack.waitForToken(admin.token);
    const cases = [
      ['a%25b', 'a%b'], ['a%2525b', 'a%25b'], ['%2B1', '+1'], ['a+b', 'a b'], ['x%26y%3Dz', 'x&y=z'],
      ['Tr%E1%BB%B1c+ban+115', 'Trực ban 115'], ['%C4%90%E1%BB%91ng%20%C4%90a', 'Đống Đa'],
    ];
    for (const [enc, want] of cases) {
      const r = await stack.call('GET', `/api/v1/audit?actor=${enc}&limit=1`, { token: admin.token });
      assert.equal(r.status, 200, `actor=${enc}: ${r.body}`);
      assert.equal(r.json.filter.actor, want, `actor=${enc}`);
    }
    // a decoded '&' stays inside its argument: hospital is still read as given
    const r = await stack.call('GET', '/api/v1/audit?actor=x%26hospital%3Dnope&hospital=bach-mai', { token: admin.token });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.filter, { hospital: 'bach-mai', actor: 'x&hospital=nope' });
    // and the filter finds what it names: a feed source with ':' sent as %3A
    await send(bedsMsg({ source: 'his:q', beds: { icu_adult: { occupied: 71 } } }));
    await waitFor(async () => (await stack.call('GET', '/api/v1/audit?actor=his%3Aq', { token: admin.token })).json.entries.length === 1,
      { ...WAIT, what: 'the audit row of source his:q' });
  }));

  test('every body over its limit is answered 413 with Connection: close (64 KiB + 1 and 2 MiB)', stack.guard(async () => {
    const admin = stack.createToken('admin');
    await stack.waitForToken(admin.token);
    const auth = { Authorization: `Bearer ${admin.token}` };
    const routes = [
      ['PATCH', '/api/v1/hospitals/bach-mai', { ...auth, 'Content-Type': 'application/json', 'If-Match': '1' }],
      ['POST', '/api/v1/hospitals/bach-mai/import', { ...auth, 'Content-Type': 'text/csv' }],
      ['POST', '/api/v1/session', { 'Content-Type': 'application/json' }],
      ['POST', '/api/v1/alerts/level4:bach-mai/ack', { ...auth, 'Content-Type': 'application/json' }],
      ['POST', '/api/v1/mci', { ...auth, 'Content-Type': 'application/json' }],
      ['GET', '/api/v1/summary', auth],
    ];
    const before = (await stack.get('/api/v1/hospitals/bach-mai')).json.version;
    for (const [method, p, headers] of routes) {
      for (const size of [64 * 1024 + 1, 2 * 1024 * 1024]) {
        const r = await sendBody(stack.serverPort, method, p, size, headers);
        const what = `${method} ${p} with ${size} bytes (${r.written} sent): ${r.head.split('\r\n')[0]}`;
        assert.equal(r.status, 413, what);
        assert.match(r.head, /\r\nconnection: close(\r\n|$)/i, what);
        assert.match(r.head, /\r\ncontent-type: application\/json/i, what);
        assert.deepEqual(JSON.parse(r.body), { error: 'too_large', message: 'the request body is larger than 65536 bytes' }, what);
      }
    }
    // nothing changed, and the server is fine
    assert.equal((await stack.get('/api/v1/hospitals/bach-mai')).json.version, before);
    assert.equal((await stack.get('/healthz')).status, 200);
    const m = (await stack.get('/metrics')).body;
    assert.match(m, /^bedpulse_ws_clients \d+$/m);
  }));

  test('the server exits 0 on SIGTERM', stack.guard(async () => {
    feed.destroy();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
  }));
});
