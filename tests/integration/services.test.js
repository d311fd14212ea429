'use strict';
// Services per hospital (issue 15, docs/protocol.md "services"): through the
// real collector's feed port and a manager's PATCH, a service's status with
// its reason and expiry reaches the REST state, the live feed and, after a
// server restart, the state read back from Redis; bad services are refused
// naming the field and change nothing; the ranking leaves out a hospital
// whose needed service is unavailable (the diversion rule); the HAVE export
// carries the service (ServiceCoverageStatus), valid against the schema.
// The facility's status (part 2): on the feed and PATCH, strict; a
// compromised one raises the pressure level and raises an alert, an
// evacuating or closed one leaves the ranking; HAVE's FacilityStatus.
// Both in the CSV export (facility and services columns), the FHIR export
// (Location.status, operationalStatus and an extension; a HealthcareService
// per service; valid R4 by the fhir package) and the public document (the
// facility when evacuating or closed, the emergency services out; never
// the reasons' words).

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Stack, waitFor, bedsMsg, expectRefused, isoNow, ROOT } = require('../lib/stack');
const { validateHave, docTable } = require('../lib/interop');
const { Fhir } = require('fhir');

const LK = 'lao-khoa-trung-uong'; // a stroke unit 300 m from Bach Mai
const BACH_MAI = { lat: 21.001, lon: 105.8407 };

describe('services per hospital', () => {
  const stack = new Stack();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-services-'));
  let feed;
  let seq = 1;
  let manager;
  const until = new Date(Date.now() + 2 * 3600e3).toISOString();

  before(stack.guard(async () => {
    await stack.start();
    feed = await stack.feed();
    manager = stack.createToken('manager', { hospitals: LK, name: 'lk manager' });
    await stack.waitForToken(manager.token);
  }));
  after(async () => {
    if (feed) feed.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });

  const recommend = (q) => stack.get(`/api/v1/recommend?${new URLSearchParams(q)}`);

  test('a beds line sets a service; the live feed, REST and a restarted server show it', stack.guard(async () => {
    const ws = await stack.live();
    await ws.waitFor((c) => c.snapshot, { what: 'the snapshot' });
    const lk0 = ws.hospitals.get(LK);
    const reg = JSON.parse(fs.readFileSync(path.join(ROOT, 'config', 'hospitals.json'), 'utf8')).hospitals.find((h) => h.id === LK);
    assert.ok(reg.services.includes('stroke_unit') && !reg.services.includes('burn_unit'), 'what this test assumes');
    assert.deepEqual(Object.keys(lk0.services).sort(), [...reg.services].sort(), 'the registry\'s services, never reported');
    assert.equal(lk0.services.ct.status, 'available');
    const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: LK,
      beds: { icu_adult: { staffed: 10, occupied: 4, surge24: 0 } },
      services: { stroke_unit: { status: 'unavailable', reason: 'thrombectomy team off', until }, ct: { status: 'limited', reason: 'one scanner' } } }));
    assert.equal(r.ok, true, JSON.stringify(r));
    const ev = await ws.waitFor((c) => c.events.find((e) => e.kind === 'hospital' && e.id === LK && e.data.services),
      { what: 'the event with the services' });
    assert.deepEqual(ev.data.services.stroke_unit, { status: 'unavailable', reason: 'thrombectomy team off', until: new Date(Date.parse(until)).toISOString() });
    assert.equal(ev.data.services.ct.status, 'limited');
    assert.equal(ev.data.services.mri, undefined, 'only what changed travels');
    ws.close();
    const h = await stack.hospital(LK);
    assert.equal(h.services.stroke_unit.status, 'unavailable');
    assert.equal(h.services.stroke_unit.effective, 'unavailable');
    assert.equal(h.services.stroke_unit.reason, 'thrombectomy team off');
    assert.equal(Date.parse(h.services.stroke_unit.until), Date.parse(until));
    assert.equal(h.services.ct.effective, 'limited');
    assert.equal(h.services.mri.status, 'available');

    // a second line changes one service, the other stays
    const r2 = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: LK, services: { ct: { status: 'available' } } }));
    assert.equal(r2.ok, true, JSON.stringify(r2));
    const h2 = await waitFor(async () => {
      const x = await stack.hospital(LK);
      return x.version > h.version && x;
    }, { what: 'the second line' });
    assert.equal(h2.services.ct.status, 'available');
    assert.equal(h2.services.stroke_unit.status, 'unavailable');

    // a restarted server reads the services back from Redis (the hash)
    await stack.stopProc('server');
    await stack.startServer();
    const h3 = await stack.hospital(LK);
    assert.deepEqual(h3.services, h2.services);
  }));

  test('bad services are refused naming the field and the rule, and change nothing', stack.guard(async () => {
    const before = await stack.hospital(LK);
    const past = isoNow(-3600e3);
    await expectRefused(feed, [
      [{ pet_ct: { status: 'available' } }, 'services.pet_ct', /unknown service/],
      [{ burn_unit: { status: 'available' } }, 'services.burn_unit', /has no burn_unit in the registry/],
      [{ ct: { status: 'broken' } }, 'services.ct.status', /available, limited, unavailable/],
      [{ ct: { reason: 'x' } }, 'services.ct.status', /required/],
      [{ ct: { status: 'available', until } }, 'services.ct.until', /only to limited or unavailable/],
      [{ ct: { status: 'unavailable', until: past } }, 'services.ct.until', /later than at/],
      [{ ct: { status: 'unavailable', reason: 'x'.repeat(201) } }, 'services.ct.reason', /200/],
      [{ ct: { status: 'unavailable', extra: 1 } }, 'services.ct.extra', /unknown/],
      [{}, 'services', /at least one/],
      ['down', 'services', /object/],
    ], (services) => bedsMsg({ source: 'his', seq: seq++, hospital: LK, services }));
    const after = await stack.hospital(LK);
    assert.equal(after.version, before.version, 'nothing applied');
    assert.deepEqual(after.services, before.services);
  }));

  test('PATCH from a manager sets a service; a bad one is 422 naming it', stack.guard(async () => {
    const p = `/api/v1/hospitals/${LK}`;
    const h0 = await stack.hospital(LK);
    const m = { token: manager.token, headers: { 'If-Match': `${h0.version}` } };
    const bad = await stack.call('PATCH', p, { ...m, json: { services: { burn_unit: { status: 'unavailable' } } } });
    assert.equal(bad.status, 422, bad.body);
    assert.equal(bad.json.errors[0].field, 'services.burn_unit');
    const past = await stack.call('PATCH', p, { ...m, json: { services: { ct: { status: 'limited', until: isoNow(-1000) } } } });
    assert.equal(past.status, 422, past.body);
    assert.equal(past.json.errors[0].field, 'services.ct.until');
    assert.match(past.json.errors[0].message, /later than now/);
    assert.equal((await stack.hospital(LK)).version, h0.version, 'refused writes change nothing');
    const ok = await stack.call('PATCH', p, { ...m, json: { services: { mri: { status: 'unavailable', reason: 'magnet quench', until } } } });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.json.services.mri.status, 'unavailable');
    assert.equal(ok.json.services.mri.reason, 'magnet quench');
    assert.equal(ok.json.services.stroke_unit.status, 'unavailable', 'the others stay');
    const h1 = await stack.hospital(LK);
    assert.equal(h1.version, h0.version + 1);
    assert.equal(h1.services.mri.effective, 'unavailable');
    // the audit row has the service before and after, written with the change
    const admin = stack.createToken('admin');
    await stack.waitForToken(admin.token);
    const a = await stack.call('GET', `/api/v1/audit?hospital=${LK}&actor=${manager.id}&limit=1`, { token: admin.token });
    assert.equal(a.status, 200, a.body);
    const row = a.json.entries[0];
    assert.equal(row.version, h1.version);
    assert.deepEqual(row.before.services, { mri: null }, 'never reported before');
    assert.deepEqual(row.after.services.mri.status, 'unavailable');
    assert.equal(row.after.services.mri.reason, 'magnet quench');
  }));

  test('ranking: a needed service unavailable diverts the hospital, with the reason when it is kept', stack.guard(async () => {
    const q = { ...BACH_MAI, category: 'stroke', priority: 1, limit: 20 };
    const r1 = await recommend(q);
    assert.equal(r1.status, 200, r1.body);
    assert.deepEqual(r1.json.query.services, ['ct', 'stroke_unit']);
    // open hospitals are near Bach Mai: Lao khoa, its stroke unit down, is left out
    assert.ok(r1.json.candidates.length > 0);
    assert.ok(!r1.json.candidates.some((c) => c.hospital === LK), r1.json.candidates.map((c) => c.hospital).join());
    // "other" needs no service: Lao khoa stays, nothing it needs is down
    const r2 = await recommend({ ...q, category: 'other' });
    assert.ok(r2.json.candidates.some((c) => c.hospital === LK && c.services_out.length === 0), r2.body);
    // the stroke unit back: Lao khoa is ranked again
    const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: LK, services: { stroke_unit: { status: 'limited', reason: 'one team' } } }));
    assert.equal(r.ok, true, JSON.stringify(r));
    const r3 = await waitFor(async () => {
      const x = await recommend(q);
      return x.json.candidates.some((c) => c.hospital === LK) && x;
    }, { what: 'Lao khoa to be ranked again' });
    const lk = r3.json.candidates.find((c) => c.hospital === LK);
    assert.deepEqual(lk.services_limited, ['stroke_unit']);
    assert.deepEqual(lk.services_out, []);
    assert.match(lk.reason.en, /stroke unit limited \(one team\)/);
    assert.match(lk.reason.vi, /đơn vị đột quỵ hạn chế/);
  }));

  test('the HAVE export carries the service, valid against the schema', stack.guard(async () => {
    const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: LK, services: { stroke_unit: { status: 'unavailable', reason: 'team off' } } }));
    assert.equal(r.ok, true, JSON.stringify(r));
    const xml = await waitFor(async () => {
      const x = (await stack.get(`/api/v1/export/have?hospital=${LK}`)).body;
      return /<Neurology>false<\/Neurology>/.test(x) && x;
    }, { what: 'the export to show the stroke unit down' });
    const file = path.join(dir, 'lk.xml');
    fs.writeFileSync(file, xml);
    validateHave(file);
    // the stroke unit is down; the cath lab (invasive cardiology) is not
    assert.match(xml, /<ServiceCoverageStatus>.*<NeurologyIndicator><Neurology>false<\/Neurology><\/NeurologyIndicator>.*<\/ServiceCoverageStatus>/s);
    assert.match(xml, /<CardiologyIndicator><CardiologySubType><CardiologyInvasive>true<\/CardiologyInvasive><\/CardiologySubType><\/CardiologyIndicator>/);
    assert.doesNotMatch(xml, /<Burn>/, 'a service the hospital has not is not written');
    // element by element as docs/interop.md's table says
    const rows = docTable('### Services', 'BedPulse');
    const reg = JSON.parse(fs.readFileSync(path.join(ROOT, 'config', 'hospitals.json'), 'utf8')).hospitals.find((h) => h.id === LK);
    assert.equal(rows.length, 11, 'every service has its row');
    for (const row of rows) {
      const el = row['HAVE 1.0 (under ServiceCoverageStatus)'];
      if (!el) continue;
      const steps = el.split('/');
      const re = new RegExp(`${steps.map((x) => `<${x}>`).join('')}(true|false)${steps.reverse().map((x) => `</${x}>`).join('')}`);
      const m = re.exec(xml);
      if (!reg.services.includes(row.BedPulse)) {
        assert.equal(m, null, `${row.BedPulse} is not at ${LK}: no ${el}`);
        continue;
      }
      assert.ok(m, `${row.BedPulse} -> ${el} in ${xml}`);
      assert.equal(m[1], row.BedPulse === 'stroke_unit' ? 'false' : 'true', row.BedPulse);
    }
    const haveNames = rows.filter((r) => r['HAVE 1.0 (under ServiceCoverageStatus)']).map((r) => r.BedPulse);
    assert.ok(haveNames.includes('stroke_unit') && !haveNames.includes('ct'), haveNames.join());
    // the whole city's export too (every hospital's services, all true or false)
    const all = (await stack.get('/api/v1/export/have')).body;
    fs.writeFileSync(path.join(dir, 'all.xml'), all);
    validateHave(path.join(dir, 'all.xml'));
  }));

  test('facility: strict on the feed, compromised raises the level and an alert, HAVE says it', stack.guard(async () => {
    const before = await stack.hospital(LK);
    for (const [facility, field, rule] of [
      [{ reason: 'x' }, 'facility.status', /required/],
      [{ status: 'burning' }, 'facility.status', /normal, compromised, evacuating, closed/],
      [{ status: 'normal', power: 'solar' }, 'facility.power', /mains, generator, out/],
      [{ status: 'normal', oxygen: 'high' }, 'facility.oxygen', /normal, low, out/],
      [{ status: 'normal', water: 'low' }, 'facility.water', /normal, out/],
      [{ status: 'normal', gas: 'out' }, 'facility.gas', /unknown/],
      [{ status: 'compromised', reason: 'x'.repeat(201) }, 'facility.reason', /200/],
      [[], 'facility', /object/],
    ]) {
      const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: LK, facility }));
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.equal(r.field, field, JSON.stringify(r));
      assert.match(r.message, rule, JSON.stringify(r));
    }
    assert.equal((await stack.hospital(LK)).version, before.version, 'nothing applied');
    assert.deepEqual(before.facility, { status: 'normal', reason: '', power: null, oxygen: null, water: null });

    const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: LK,
      beds: { icu_adult: { staffed: 10, occupied: 2 }, medical_surgical: { staffed: 165, occupied: 20 } },
      facility: { status: 'compromised', reason: 'mất điện lưới', power: 'generator', oxygen: 'low' } }));
    assert.equal(r.ok, true, JSON.stringify(r));
    const h = await waitFor(async () => {
      const x = await stack.hospital(LK);
      return x.facility.status === 'compromised' && x;
    }, { what: 'the facility status' });
    assert.deepEqual(h.facility, { status: 'compromised', reason: 'mất điện lưới', power: 'generator', oxygen: 'low', water: null });
    assert.ok(h.occupancy_pct < 85, `occupancy alone is level 1: ${h.occupancy_pct}`);
    assert.equal(h.level, 3, 'compromised raises the level to 3');
    const ids = async () => (await stack.get('/api/v1/alerts')).json.alerts;
    const al = await waitFor(async () => (await ids()).find((a) => a.id === `facility:${LK}`), { what: 'the facility alert', timeout: 6000 });
    assert.equal(al.rule, 'facility');
    assert.equal(al.severity, 'critical');
    assert.match(al.text.en, /facility compromised/);
    assert.match(al.text.vi, /cơ sở đang gặp sự cố/);
    // still ranked, and the reason says so
    const rec = (await recommend({ ...BACH_MAI, category: 'other', priority: 1, limit: 20 })).json.candidates;
    const lk = rec.find((c) => c.hospital === LK);
    assert.ok(lk, rec.map((c) => c.hospital).join());
    assert.match(lk.reason.en, /facility compromised/);
    // HAVE: HospitalFacilityStatus/FacilityStatus, valid against the schema
    const xml = (await stack.get(`/api/v1/export/have?hospital=${LK}`)).body;
    assert.match(xml, /<HospitalFacilityStatus><FacilityStatus>Compromised<\/FacilityStatus><\/HospitalFacilityStatus><LastUpdateTime>/);
    const file = path.join(dir, 'fac.xml');
    fs.writeFileSync(file, xml);
    validateHave(file);
    assert.match(xml, /<ServiceCoverageStatus>/);
    // the export posted back (with its services and facility) changes nothing
    const his = stack.createToken('feed', { hospitals: LK, name: 'his' });
    await stack.waitForToken(his.token);
    const v = (await stack.hospital(LK)).version;
    const back = await stack.call('POST', '/api/v1/feed', { token: his.token, type: 'application/xml', body: xml });
    assert.equal(back.status, 200, back.body);
    assert.equal(back.json.results[0].unchanged, true, back.body);
    const same = await stack.hospital(LK);
    assert.equal(same.version, v, 'nothing applied');
    assert.deepEqual([same.services, same.facility], [h.services, h.facility]);
    // a restarted server reads the facility back from Redis
    await stack.stopProc('server');
    await stack.startServer();
    assert.deepEqual((await stack.hospital(LK)).facility, h.facility);
  }));

  test('facility: evacuating leaves the ranking; PATCH needs a reason; normal again clears the alert', stack.guard(async () => {
    const q = { ...BACH_MAI, category: 'other', priority: 1, limit: 20 };
    const p = `/api/v1/hospitals/${LK}`;
    const h0 = await stack.hospital(LK);
    const m = { token: manager.token, headers: { 'If-Match': `${h0.version}` } };
    const bad = await stack.call('PATCH', p, { ...m, json: { facility: { status: 'evacuating' } } });
    assert.equal(bad.status, 422, bad.body);
    assert.equal(bad.json.errors[0].field, 'facility.reason');
    const bad2 = await stack.call('PATCH', p, { ...m, json: { facility: { status: 'evacuating', reason: 'cháy', water: 'low' } } });
    assert.equal(bad2.status, 422, bad2.body);
    assert.equal(bad2.json.errors[0].field, 'facility.water');
    assert.equal((await stack.hospital(LK)).version, h0.version, 'refused writes change nothing');
    const ok = await stack.call('PATCH', p, { ...m, json: { facility: { status: 'evacuating', reason: 'cháy tầng 3', power: 'out' } } });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.json.facility.status, 'evacuating');
    assert.equal(ok.json.facility.power, 'out');
    assert.equal(ok.json.level, 4);
    const out = await waitFor(async () => {
      const x = (await recommend(q)).json.candidates;
      return !x.some((c) => c.hospital === LK) && x;
    }, { what: 'Lao khoa to leave the ranking' });
    assert.ok(out.length > 0);
    // burns: its adult ICU makes it a candidate, yet an evacuating hospital never ranks
    const burn = (await recommend({ lat: 21.0032, lon: 105.8388, category: 'burn', priority: 1, limit: 20 })).json.candidates;
    assert.ok(!burn.some((c) => c.hospital === LK), burn.map((c) => c.hospital).join());
    // normal again: back in the ranking, the alert cleared
    const h1 = await stack.hospital(LK);
    const back = await stack.call('PATCH', p, { token: manager.token, headers: { 'If-Match': `${h1.version}` },
      json: { facility: { status: 'normal', power: 'mains' } } });
    assert.equal(back.status, 200, back.body);
    await waitFor(async () => (await recommend(q)).json.candidates.some((c) => c.hospital === LK), { what: 'ranked again' });
    await waitFor(async () => !(await stack.get('/api/v1/alerts')).json.alerts.some((a) => a.rule === 'facility'),
      { what: 'the facility alert to clear', timeout: 6000 });
  }));

  test('exports: CSV columns, FHIR Location and HealthcareService (valid R4), the public document without the words', stack.guard(async () => {
    const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: LK,
      facility: { status: 'closed', reason: 'ngập tầng hầm', power: 'out', water: 'out' },
      services: { ct: { status: 'limited', reason: 'one scanner' }, stroke_unit: { status: 'unavailable', reason: 'team off', until } } }));
    assert.equal(r.ok, true, JSON.stringify(r));
    const h = await waitFor(async () => {
      const x = await stack.hospital(LK);
      return x.facility.status === 'closed' && x;
    }, { what: 'the facility closed' });

    const csv = (await stack.get(`/api/v1/export/csv?hospital=${LK}`)).body.slice(1).split('\r\n').filter(Boolean);
    const head = csv[0].split(',');
    // every service out now, in the registry's order (the MRI from above too), ";" between
    const out = Object.keys(h.services).filter((k) => h.services[k].status === 'unavailable').join(';');
    assert.ok(out.split(';').includes('stroke_unit'), out);
    for (const line of csv.slice(1)) {
      const row = line.split(',').map((c) => c.replace(/^"(.*)"$/, '$1')); // no comma inside these cells
      const col = (name) => row[head.indexOf(name)];
      assert.deepEqual(['facility_status', 'facility_reason', 'facility_power', 'facility_oxygen', 'facility_water', 'services_limited', 'services_unavailable'].map(col),
        ['closed', 'ngập tầng hầm', 'out', '', 'out', 'ct', out], line);
    }
    const other = (await stack.get('/api/v1/export/csv?hospital=thanh-nhan')).body.slice(1).split('\r\n')[1].split(',');
    assert.equal(other[head.indexOf('facility_status')], '', 'never reported: empty');

    const bundle = (await stack.get(`/api/v1/export/fhir?hospital=${LK}`)).json;
    const v = new Fhir().validate(bundle);
    assert.deepEqual(v.messages.filter((m) => m.severity === 'error'), []);
    assert.equal(v.valid, true);
    const loc = bundle.entry[0].resource;
    assert.equal(loc.status, 'suspended', 'closed: R4 "temporarily closed"');
    assert.equal(loc.operationalStatus.code, 'C');
    const ext = loc.extension.find((e) => e.url === 'urn:bedpulse:fhir:StructureDefinition:facility-status').extension;
    assert.deepEqual(Object.fromEntries(ext.map((e) => [e.url, e.valueCode || e.valueString])),
      { status: 'closed', reason: 'ngập tầng hầm', power: 'out', water: 'out' });
    const svc = bundle.entry.filter((e) => e.resource.resourceType === 'HealthcareService').map((e) => e.resource);
    const reg = JSON.parse(fs.readFileSync(path.join(ROOT, 'config', 'hospitals.json'), 'utf8')).hospitals.find((x) => x.id === LK);
    assert.deepEqual(svc.map((x) => x.type[0].coding[0].code), reg.services, 'one per service it has');
    const status = (name) => svc.find((x) => x.type[0].coding[0].code === name);
    assert.equal(status('stroke_unit').extension[0].valueCode, 'unavailable');
    assert.deepEqual(status('stroke_unit').notAvailable, [{ description: 'team off', during: { end: h.services.stroke_unit.until } }]);
    assert.equal(status('ct').extension[0].valueCode, 'limited');
    assert.equal(status('ct').availabilityExceptions, 'one scanner');
    const fine = reg.services.find((k) => !h.services[k] || h.services[k].status === 'available');
    assert.equal(status(fine).extension[0].valueCode, 'available', fine);
    assert.equal(status(fine).notAvailable, undefined);
    assert.equal(status(fine).location[0].reference, `Location/${LK}`);

    // the public document: closed, the ED closed for that reason, the stroke unit out; no words
    const pub = await waitFor(async () => {
      const x = (await stack.get('/api/v1/public'));
      const lk = x.json.hospitals.find((y) => y.id === LK);
      return lk.facility === 'closed' && [x.body, lk];
    }, { what: 'the public document to show it', timeout: 10000 });
    assert.deepEqual([pub[1].ed, pub[1].services_unavailable], [{ state: 'closed', reason: 'facility_closed' }, ['stroke_unit']]);
    for (const words of ['ngập', 'team off', 'one scanner', '"ct"', '"power"'])
      assert.ok(!pub[0].includes(words), words);
    const bm = JSON.parse(pub[0]).hospitals.find((y) => y.id === 'bach-mai');
    assert.deepEqual([bm.facility, bm.services_unavailable], ['open', []]);

    // normal again: open on the public page, active in FHIR
    const back = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: LK, facility: { status: 'normal' } }));
    assert.equal(back.ok, true, JSON.stringify(back));
    await waitFor(async () => (await stack.get('/api/v1/public')).json.hospitals.find((y) => y.id === LK).facility === 'open',
      { what: 'open again', timeout: 10000 });
    assert.equal((await stack.get(`/api/v1/export/fhir?hospital=${LK}`)).json.entry[0].resource.status, 'active');
  }));
});
