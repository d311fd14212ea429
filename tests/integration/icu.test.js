'use strict';
// Intensive-care detail (issue 15 part 3, docs/protocol.md "ventilated and
// ecmo"): through the real collector's feed port and a manager's PATCH, the
// ICU places able to ventilate invasively and the ECMO places (total and
// free) reach the live feed, REST, a restarted server (read back from the
// Redis hash) and the exports (CSV, FHIR, GeoJSON); bad figures are refused
// naming the field and the rule and change nothing; a FHIR export posted
// back changes nothing; the HAVE export stays valid against the schema.
// The city summary sums each pair over the hospitals that report it, and
// GET /api/v1/recommend?needs=ventilator ranks a hospital with none free
// below those with one (docs/dispatch.md "ICU places").

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Stack, waitFor, bedsMsg, expectRefused } = require('../lib/stack');
const { validateHave, docTable } = require('../lib/interop');

const BM = 'bach-mai'; // icu_adult and icu_pediatric in the registry

describe('intensive-care detail', () => {
  const stack = new Stack();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-icu-'));
  let feed;
  let seq = 1;
  let manager;
  let docFeed;

  before(stack.guard(async () => {
    await stack.start();
    feed = await stack.feed();
    manager = stack.createToken('manager', { hospitals: BM, name: 'bm manager' });
    docFeed = stack.createToken('feed', { hospitals: BM, name: 'his' });
    await stack.waitForToken(manager.token);
    await stack.waitForToken(docFeed.token);
  }));
  after(async () => {
    if (feed) feed.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });

  test('a beds line with the detail: live event, REST, and a restarted server show it', stack.guard(async () => {
    const ws = await stack.live();
    await ws.waitFor((c) => c.snapshot, { what: 'the snapshot' });
    assert.equal(ws.hospitals.get(BM).beds.icu_adult.ventilated, undefined, 'never reported: absent');
    const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: BM,
      beds: { icu_adult: { staffed: 75, occupied: 70, ventilated: { total: 40, free: 3 }, ecmo: { total: 4, free: 1 } },
        icu_pediatric: { ventilated: { total: 10, free: 0 } } } }));
    assert.equal(r.ok, true, JSON.stringify(r));
    const ev = await ws.waitFor((c) => c.events.find((e) => e.kind === 'hospital' && e.id === BM && e.data.beds),
      { what: 'the event with the detail' });
    assert.deepEqual(ev.data.beds.icu_adult.ventilated, { total: 40, free: 3 });
    assert.deepEqual(ev.data.beds.icu_adult.ecmo, { total: 4, free: 1 });
    assert.deepEqual(ev.data.beds.icu_pediatric.ventilated, { total: 10, free: 0 });
    assert.equal(ev.data.beds.icu_pediatric.ecmo, undefined);
    ws.close();
    const h = await stack.hospital(BM);
    assert.deepEqual(h.beds.icu_adult.ventilated, { total: 40, free: 3 });
    assert.deepEqual(h.beds.icu_adult.ecmo, { total: 4, free: 1 });
    assert.equal(h.beds.icu_adult.occupied, 70);

    // a second line with the occupancy only keeps the detail (per field, as staffed)
    const r2 = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: BM, beds: { icu_adult: { occupied: 71 } } }));
    assert.equal(r2.ok, true, JSON.stringify(r2));
    const h2 = await waitFor(async () => {
      const x = await stack.hospital(BM);
      return x.version > h.version && x;
    }, { what: 'the second line' });
    assert.equal(h2.beds.icu_adult.occupied, 71);
    assert.deepEqual(h2.beds.icu_adult.ventilated, { total: 40, free: 3 });

    // a restarted server reads the detail back from Redis (the hash)
    await stack.stopProc('server');
    await stack.startServer();
    const h3 = await stack.hospital(BM);
    assert.deepEqual(h3.beds, h2.beds);
  }));

  test('bad figures are refused naming the field and the rule, and change nothing', stack.guard(async () => {
    const before = await stack.hospital(BM);
    await expectRefused(feed, [
      [{ medical_surgical: { ventilated: { total: 1, free: 0 } } }, 'beds.medical_surgical.ventilated', /only icu_adult and icu_pediatric/],
      [{ icu_adult: { ventilated: { total: 3, free: 4 } } }, 'beds.icu_adult.ventilated.free', /must not exceed .*total/],
      [{ icu_adult: { staffed: 10, ecmo: { total: 11, free: 0 } } }, 'beds.icu_adult.ecmo.total', /must not exceed the bed type's staffed/],
      [{ icu_adult: { ecmo: { total: 2 } } }, 'beds.icu_adult.ecmo.free', /required/],
      [{ icu_adult: { ventilated: { total: -1, free: 0 } } }, 'beds.icu_adult.ventilated.total', /0/],
      [{ icu_adult: { ventilated: { total: 1.5, free: 0 } } }, 'beds.icu_adult.ventilated.total', /whole number/],
      [{ icu_adult: { ventilated: { total: 2, free: 1, spare: 1 } } }, 'beds.icu_adult.ventilated.spare', /unknown/],
      [{ icu_adult: { ventilated: 5 } }, 'beds.icu_adult.ventilated', /object/],
    ], (beds) => bedsMsg({ source: 'his', seq: seq++, hospital: BM, beds }));
    const after = await stack.hospital(BM);
    assert.equal(after.version, before.version, 'nothing applied');
    assert.deepEqual(after.beds, before.beds);
  }));

  test('PATCH from a manager sets the detail; a bad one is 422 naming it; the audit row has both', stack.guard(async () => {
    const p = `/api/v1/hospitals/${BM}`;
    const h0 = await stack.hospital(BM);
    const m = { token: manager.token, headers: { 'If-Match': `${h0.version}` } };
    const bad = await stack.call('PATCH', p, { ...m, json: { beds: { icu_pediatric: { ecmo: { total: 1, free: 2 } }, burn: { ventilated: { total: 1, free: 1 } } } } });
    assert.equal(bad.status, 422, bad.body);
    const fields = bad.json.errors.map((e) => e.field).sort();
    assert.deepEqual(fields, ['beds.burn.ventilated', 'beds.icu_pediatric.ecmo.free']);
    assert.equal((await stack.hospital(BM)).version, h0.version, 'refused writes change nothing');
    const ok = await stack.call('PATCH', p, { ...m, json: { beds: { icu_pediatric: { ecmo: { total: 2, free: 2 } } } } });
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(ok.json.beds.icu_pediatric.ecmo, { total: 2, free: 2 });
    assert.deepEqual(ok.json.beds.icu_pediatric.ventilated, { total: 10, free: 0 }, 'the other pair stays');
    const h1 = await stack.hospital(BM);
    assert.equal(h1.version, h0.version + 1);
    const admin = stack.createToken('admin');
    await stack.waitForToken(admin.token);
    const a = await stack.call('GET', `/api/v1/audit?hospital=${BM}&actor=${manager.id}&limit=1`, { token: admin.token });
    assert.equal(a.status, 200, a.body);
    const row = a.json.entries[0];
    assert.equal(row.before.beds.icu_pediatric.ecmo, undefined);
    assert.deepEqual(row.before.beds.icu_pediatric.ventilated, { total: 10, free: 0 });
    assert.deepEqual(row.after.beds.icu_pediatric.ecmo, { total: 2, free: 2 });
  }));

  test('exports: CSV columns, FHIR (SANER Ventilators, BedPulse codes), GeoJSON; FHIR posted back changes nothing; HAVE valid', stack.guard(async () => {
    const h = await stack.hospital(BM);
    const csv = (await stack.get(`/api/v1/export/csv?hospital=${BM}`)).body.slice(1).split('\r\n').filter(Boolean);
    const head = csv[0].split(',');
    const icu = csv.find((l) => l.includes(',icu_adult,')).split(',');
    const col = (name) => icu[head.indexOf(name)];
    assert.equal(col('num_vent_beds'), String(h.beds.icu_adult.ventilated.total));
    assert.equal(col('num_vent_beds_avail'), String(h.beds.icu_adult.ventilated.free));
    assert.equal(col('num_ecmo'), String(h.beds.icu_adult.ecmo.total));
    assert.equal(col('num_ecmo_avail'), String(h.beds.icu_adult.ecmo.free));
    // docs/interop.md's table: each figure's CSV column and FHIR code
    const rows = docTable('## Intensive-care detail', 'BedPulse');
    assert.equal(rows.length, 4);
    const bundle0 = (await stack.get(`/api/v1/export/fhir?hospital=${BM}`)).json;
    const adult = bundle0.entry.find((e) => e.resource.resourceType === 'MeasureReport').resource.group
      .find((g) => g.code.coding[0].code === 'icu_adult');
    for (const row of rows) {
      const [pair, which] = row.BedPulse.split('.');
      assert.equal(row['HAVE 1.0'], null, 'HAVE has no element');
      assert.equal(col(row['CSV column']), String(h.beds.icu_adult[pair][which]), row.BedPulse);
      const pop = adult.population.find((x) => x.code.coding[0].code === row.FHIR);
      assert.equal(pop.count, h.beds.icu_adult[pair][which], row.FHIR);
    }
    const med = csv.find((l) => l.includes(',medical_surgical,')).split(',');
    assert.equal(med[head.indexOf('num_vent_beds')], '', 'no detail: empty');

    const bundle = (await stack.get(`/api/v1/export/fhir?hospital=${BM}`)).json;
    const mr = bundle.entry.find((e) => e.resource.resourceType === 'MeasureReport').resource;
    const vent = mr.group.find((g) => g.code.coding[0].code === 'Ventilators');
    const count = (g, code) => g.population.find((x) => x.code.coding[0].code === code).count;
    const ventTotal = h.beds.icu_adult.ventilated.total + h.beds.icu_pediatric.ventilated.total;
    const ventFree = h.beds.icu_adult.ventilated.free + h.beds.icu_pediatric.ventilated.free;
    assert.equal(count(vent, 'numVent'), ventTotal);
    assert.equal(count(vent, 'numVentAvail'), ventFree);
    assert.equal(count(vent, 'numVentUse'), ventTotal - ventFree);
    const ped = mr.group.find((g) => g.code.coding[0].code === 'icu_pediatric');
    assert.equal(count(ped, 'ecmo-total'), 2);
    assert.equal(ped.population.find((x) => x.code.coding[0].code === 'ecmo-free').code.coding[0].system,
      'urn:bedpulse:fhir:CodeSystem:icu-places');

    const geo = (await stack.get(`/api/v1/export/geojson?hospital=${BM}`)).json;
    assert.deepEqual(geo.features[0].properties.beds.icu_adult.ecmo, h.beds.icu_adult.ecmo);

    const post = (type, body) => stack.call('POST', '/api/v1/feed', { token: docFeed.token, type, body });
    const r = await post('application/fhir+json', JSON.stringify(bundle));
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.results[0].unchanged, true, r.body);
    assert.equal((await stack.hospital(BM)).version, h.version);
    // one ECMO place taken: that pair changes
    for (const x of ped.population) if (x.code.coding[0].code === 'ecmo-free') x.count -= 1;
    mr.date = new Date(Date.parse(mr.date) + 1000).toISOString();
    const r2 = await post('application/fhir+json', JSON.stringify(bundle));
    assert.equal(r2.status, 200, r2.body);
    const after = await waitFor(async () => {
      const x = await stack.hospital(BM);
      return x.version > h.version && x;
    }, { what: 'the FHIR change to show' });
    assert.deepEqual(after.beds.icu_pediatric.ecmo, { total: 2, free: 1 });
    assert.deepEqual(after.beds.icu_adult.ventilated, h.beds.icu_adult.ventilated);

    const xml = (await stack.get(`/api/v1/export/have?hospital=${BM}`)).body;
    const file = path.join(dir, 'bm.xml');
    fs.writeFileSync(file, xml);
    validateHave(file);
  }));

  test('the summary sums each pair over the hospitals that report it', stack.guard(async () => {
    const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'viet-duc',
      beds: { icu_adult: { ventilated: { total: 20, free: 2 } } } }));
    assert.equal(r.ok, true, JSON.stringify(r));
    await waitFor(async () => (await stack.hospital('viet-duc')).beds.icu_adult.ventilated,
      { what: 'viet-duc to show its detail' });
    const bm = (await stack.hospital(BM)).beds;
    const s = (await stack.get('/api/v1/summary')).json;
    assert.deepEqual(s.bed_types.icu_adult.ventilated,
      { hospitals: 2, total: bm.icu_adult.ventilated.total + 20, free: bm.icu_adult.ventilated.free + 2 });
    assert.deepEqual(s.bed_types.icu_adult.ecmo, { hospitals: 1, ...bm.icu_adult.ecmo });
    assert.deepEqual(s.bed_types.icu_pediatric.ecmo, { hospitals: 1, ...bm.icu_pediatric.ecmo });
    assert.equal(s.bed_types.medical_surgical.ventilated, undefined, 'only the ICU types carry the pairs');
  }));

  test('?needs=ventilator: none free ranks below one free, not reported in between; the reason says it', stack.guard(async () => {
    // Bach Mai's adult ICU: no ventilator free; Viet Duc (reported above): 2
    // after the FHIR report above, whose time ran a second ahead
    const at = new Date(Math.max(Date.now(), Date.parse((await stack.hospital(BM)).at) + 1)).toISOString();
    const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: BM, at,
      beds: { icu_adult: { ventilated: { total: 40, free: 0 } } } }));
    assert.equal(r.ok, true, JSON.stringify(r));
    await waitFor(async () => (await stack.hospital(BM)).beds.icu_adult.ventilated.free === 0,
      { what: 'bach-mai without a ventilator' });
    const ask = (extra) => stack.get(`/api/v1/recommend?${new URLSearchParams({
      lat: 21.001, lon: 105.8407, category: 'stroke', priority: 1, limit: 20, ...extra })}`);
    const plain = await ask({});
    const vent = await ask({ needs: 'ventilator' });
    assert.equal(vent.status, 200, vent.body);
    assert.deepEqual(plain.json.query.needs, []);
    assert.deepEqual(vent.json.query.needs, ['ventilator']);
    assert.equal(plain.json.candidates[0].places, undefined, 'no places asked: none shown');
    const rank = (list, id) => list.json.candidates.findIndex((c) => c.hospital === id);
    const vd = vent.json.candidates[rank(vent, 'viet-duc')];
    const bm = vent.json.candidates[rank(vent, BM)];
    assert.ok(vd && bm, vent.body);
    assert.ok(rank(vent, 'viet-duc') < rank(vent, BM), vent.json.candidates.map((c) => c.hospital).join());
    assert.equal(vd.places.ventilator, 2);
    assert.equal(bm.places.ventilator, 0);
    assert.match(vd.reason.en, /· 2 ventilator places free/);
    assert.match(vd.reason.vi, /· 2 chỗ thở máy trống/);
    assert.match(bm.reason.en, new RegExp(`^${Math.ceil(bm.eta_min)} min · .* · no ventilator place free`));
    assert.match(bm.reason.vi, /· hết chỗ thở máy/);
    // what the need costs each hospital: none free 30 min, not reported 15, room 0
    let unknown = 0;
    for (const c of vent.json.candidates) {
      const p = plain.json.candidates.find((x) => x.hospital === c.hospital);
      if (!p) continue;
      const cost = (c.score - c.eta_min) - (p.score - p.eta_min);
      const want = c.places.ventilator === null ? 15 : c.places.ventilator === 0 ? 30 : 0;
      if (c.places.ventilator === null) {
        unknown++;
        assert.match(c.reason.en, /ventilator places not reported/);
      }
      assert.ok(Math.abs(cost - want) < 0.25, `${c.hospital}: ${cost} for ${c.places.ventilator}`);
    }
    assert.ok(unknown > 0, 'hospitals without the detail stay listed');
    const both = await ask({ needs: 'ventilator,ecmo' });
    assert.deepEqual(both.json.query.needs, ['ventilator', 'ecmo']);
    assert.deepEqual(both.json.candidates.find((c) => c.hospital === BM).places,
      { ventilator: 0, ecmo: (await stack.hospital(BM)).beds.icu_adult.ecmo.free });
    for (const bad of ['oxygen', 'ventilator,', '', 'ventilator,oxygen']) {
      const x = await ask({ needs: bad });
      assert.equal(x.status, 400, bad);
      assert.match(x.json.message, /needs must be ventilator, ecmo/);
    }
  }));
});
