'use strict';
// The field's standards (issue 13, docs/interop.md): the exports — EDXL-HAVE
// validated against the OASIS schema with xmllint and checked element by
// element against the mapping tables of docs/interop.md with XPath, FHIR
// validated by the `fhir` package, GeoJSON by @placemarkio/check-geojson,
// the CSVs — who may read them, and the round trips through
// POST /api/v1/feed: an export posted back changes nothing, one count
// changed in it changes that count.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Fhir } = require('fhir');
const { check: checkGeoJSON } = require('@placemarkio/check-geojson');
const { Stack, waitFor, bedsMsg, isoNow, ROOT } = require('../lib/stack');
const { schemaFile, docTable } = require('../lib/interop');

const HAVE_NS = 'urn:oasis:names:tc:emergency:EDXL:HAVE:1.0';
const NS = { xnl: 'urn:oasis:names:tc:ciq:xnl:3', gml: 'http://www.opengis.net/gml' };

// An XPath written with have: (default), xnl: and gml: steps, for xmllint
// (which has no namespace bindings on its command line).
function xp(expr) {
  // only outside quoted literals ('AdultICU' stays a value)
  return expr.split("'").map((part, k) => (k % 2 ? part : part.replace(/(@?)(?:(xnl|gml):([A-Za-z][A-Za-z0-9]*)|\b([A-Z][A-Za-z0-9]*)\b)/g, (m, at, pfx, pname, hname) => {
    const uri = pfx ? NS[pfx] : HAVE_NS;
    const name = pfx ? pname : hname;
    if (at) return `@*[local-name()='${name}' and namespace-uri()='${uri}']`;
    return `*[local-name()='${name}' and namespace-uri()='${uri}']`;
  }))).join("'");
}

function xpath(file, expr) {
  try {
    return execFileSync('xmllint', ['--nonet', '--xpath', expr, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    return ''; // xmllint exits 10 for an empty node set
  }
}

describe('EDXL-HAVE, FHIR, GeoJSON and CSV', () => {
  const stack = new Stack({ env: { BP_HISTORY_INTERVAL_S: '1', BP_HISTORY_RETENTION_H: '1' } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-interop-'));
  let feed;
  let tokens;
  const until = new Date(Date.now() + 3600e3).toISOString();
  const at = isoNow(-60000);

  before(stack.guard(async () => {
    await stack.start();
    feed = await stack.feed();
    tokens = {
      feed: stack.createToken('feed', { hospitals: 'bach-mai,viet-duc,xanh-pon', name: 'his' }),
      narrow: stack.createToken('feed', { hospitals: 'xanh-pon', name: 'one hospital' }),
      wall: stack.createToken('wall'),
      public: stack.createToken('public'),
    };
    await stack.waitForToken(tokens.wall.token);
    // bach-mai over capacity with its ED closed, viet-duc on diversion
    // until later, xanh-pon on advisory; one bed type with no occupancy
    const lines = [
      bedsMsg({ source: 'his', seq: 1, at, hospital: 'bach-mai',
        beds: { icu_adult: { staffed: 60, occupied: 63, surge24: 8 }, burn: { staffed: 10, occupied: 4, surge24: 2 }, obstetrics: { staffed: 30, occupied: 20 } },
        ed: { status: 'closed', reason: 'fire & <smoke>' } }),
      bedsMsg({ source: 'his', seq: 2, at, hospital: 'viet-duc',
        beds: { icu_adult: { staffed: 40, occupied: 31 }, medical_surgical: { occupied: 900 }, psychiatric: { staffed: 12, occupied: 3 } },
        ed: { status: 'diversion', reason: 'CT down', until, waiting: 9 } }),
      bedsMsg({ source: 'his', seq: 3, at, hospital: 'xanh-pon', beds: { pediatrics: { staffed: 50, occupied: 12 } }, ed: { status: 'advisory' } }),
    ];
    for (const r of await feed.sendBatch(lines)) assert.equal(r.ok, true, JSON.stringify(r));
    await waitFor(async () => (await stack.get('/api/v1/hospitals/xanh-pon')).json.version >= 1, { what: 'the server to hold the reports' });
  }));
  after(async () => {
    if (feed) feed.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });

  const hospitals = async () => (await stack.get('/api/v1/hospitals')).json;
  const post = (type, body, token = tokens.feed.token) => stack.call('POST', '/api/v1/feed', { token, type, body });

  test('the HAVE export is valid against the OASIS schema and says, element by element, what docs/interop.md says', stack.guard(async () => {
    const r = await stack.get('/api/v1/export/have');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^application\/xml/);
    const file = path.join(dir, 'all.xml');
    fs.writeFileSync(file, r.body);
    execFileSync('xmllint', ['--noout', '--nonet', '--schema', schemaFile(), file], { stdio: ['ignore', 'pipe', 'pipe'] });

    const types = docTable('## Bed types', 'BedPulse');
    const figures = docTable('## Figures', 'BedPulse figure');
    const hosp = docTable('## Hospital and emergency department', 'BedPulse');
    const edRows = docTable('### ED status', 'BedPulse');
    assert.equal(types.length, 11, 'every bed type has a row');
    const haveOf = Object.fromEntries(types.map((t) => [t.BedPulse, t['HAVE 1.0 BedType']]));
    const pathOf = (table, key, col) => table.find((row) => row[Object.keys(row)[0]] === key)[col];

    const all = await hospitals();
    const reported = all.filter((h) => h.at);
    assert.equal(Number(xpath(file, `count(${xp('/HospitalStatus/Hospital')})`)), reported.length,
      'one Hospital per hospital that reported (HAVE requires LastUpdateTime)');
    // several values in one xmllint run: concat() with a separator
    const SEP = '#~#';
    const many = (base, rels) => xpath(file, `concat(${rels.map((r) => `string(${xp(`${base}/${r}`)})`).join(`,'${SEP}',`)},'${SEP}')`).split(SEP);
    for (const h of reported) {
      const H = `/HospitalStatus/Hospital[Organization/OrganizationInformation/xnl:OrganisationName/@xnl:ID='${h.id}']`;
      const hrels = [pathOf(hosp, 'id', 'HAVE 1.0 (under Hospital)'), pathOf(hosp, 'at', 'HAVE 1.0 (under Hospital)'),
        'Organization/OrganizationGeoLocation/gml:Point/gml:pos', pathOf(hosp, 'ed.status', 'HAVE 1.0 (under Hospital)'),
        pathOf(hosp, 'ed.reason', 'HAVE 1.0 (under Hospital)')];
      const [id, last, pos, traffic, reason] = many(H, hrels);
      assert.equal(id, h.id);
      assert.equal(last, h.at, `${h.id} LastUpdateTime`);
      const [lat, lon] = pos.split(' ').map(Number);
      assert.ok(Math.abs(lat - h.lat) < 1e-6 && Math.abs(lon - h.lon) < 1e-6, `${h.id} gml:pos is "lat lon"`);
      // the ED, by the ED status table
      const row = edRows.find((e) => e.BedPulse === h.ed.effective);
      assert.equal(traffic, row.EMSTrafficStatus, `${h.id} EMSTrafficStatus`);
      if (h.ed.effective === 'closed') assert.equal(reason, h.ed.reason ? `ED closed: ${h.ed.reason}` : 'ED closed');
      else assert.equal(reason, h.ed.reason);
      // every bed type: present with its HAVE name, or absent when HAVE has none
      const inHave = Object.keys(h.beds).filter((t) => haveOf[t]);
      assert.equal(Number(xpath(file, `count(${xp(`${H}/HospitalBedCapacityStatus/BedCapacity`)})`)), inHave.length,
        `${h.id}: one BedCapacity per bed type HAVE 1.0 has`);
      const figs = figures.filter((f) => f['HAVE 1.0 (under BedCapacity)'] && /^[a-z0-9_]+$/.test(f['BedPulse figure']));
      for (const type of inHave) {
        const b = h.beds[type];
        const B = `${H}/HospitalBedCapacityStatus/BedCapacity[BedType='${haveOf[type]}']`;
        const got = many(B, ['BedType', 'Capacity/CapacityStatus', ...figs.map((f) => f['HAVE 1.0 (under BedCapacity)'])]);
        assert.equal(got[0], haveOf[type], `${h.id} ${type} -> ${haveOf[type]}`);
        if (b.available !== null) assert.equal(got[1], b.available > 0 ? 'Vacant/Available' : 'NotAvailable');
        figs.forEach((f, k) => {
          const fig = f['BedPulse figure'];
          const v = got[k + 2];
          if (b[fig] === null) assert.equal(v, '', `${h.id} ${type} ${fig} unknown: no ${f['HAVE 1.0 (under BedCapacity)']}`);
          else assert.equal(Number(v), b[fig], `${h.id} ${type} ${fig} = ${f['HAVE 1.0 (under BedCapacity)']}`);
        });
      }
    }
    // obstetrics is not a HAVE 1.0 bed type: bach-mai's is left out
    assert.equal(haveOf.obstetrics, null);
    // one hospital alone, and one that never reported
    const one = await stack.get('/api/v1/export/have?hospital=viet-duc');
    assert.equal(one.status, 200);
    assert.equal((one.body.match(/<Hospital>/g) || []).length, 1);
    const never = await stack.get('/api/v1/export/have?hospital=thanh-nhan');
    assert.equal(never.status, 404);
    assert.equal(never.json.error, 'not_reported');
    assert.equal((await stack.get('/api/v1/export/have?hospital=nowhere')).status, 404);
  }));

  test('the FHIR export is a valid R4 Bundle (fhir package) with the figures of docs/interop.md', stack.guard(async () => {
    const r = await stack.get('/api/v1/export/fhir');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^application\/fhir\+json/);
    const bundle = r.json;
    const result = new Fhir().validate(bundle);
    const errors = result.messages.filter((m) => m.severity === 'error');
    assert.deepEqual(errors, [], 'no validation errors');
    assert.equal(result.valid, true);
    assert.equal(bundle.type, 'collection');
    const all = await hospitals();
    const locations = bundle.entry.filter((e) => e.resource.resourceType === 'Location');
    const reports = bundle.entry.filter((e) => e.resource.resourceType === 'MeasureReport');
    assert.equal(locations.length, all.length);
    assert.equal(reports.length, all.filter((h) => h.at).length);
    const roleOf = Object.fromEntries(docTable('## Bed types', 'BedPulse').map((t) => [t.BedPulse, t['FHIR v3-RoleCode']]));
    for (const { resource: mr } of reports) {
      const h = all.find((x) => `Location/${x.id}` === mr.subject.reference);
      assert.ok(h, mr.subject.reference);
      assert.equal(mr.status, 'complete');
      assert.equal(mr.date, h.at);
      assert.equal(mr.group[0].code.coding[0].code, 'Beds');
      for (const g of mr.group.slice(1)) {
        const type = g.code.coding[0].code;
        assert.equal(g.code.coding[0].system, 'urn:bedpulse:fhir:CodeSystem:bed-type');
        const role = g.code.coding.find((c) => c.system === 'http://terminology.hl7.org/CodeSystem/v3-RoleCode');
        assert.equal(role ? role.code : null, roleOf[type], `${type} RoleCode`);
        for (const p of g.population) {
          const fig = p.code.coding[0].code;
          assert.equal(p.count, h.beds[type][fig], `${h.id} ${type} ${fig}`);
        }
      }
    }
    const loc = locations.find((e) => e.resource.id === 'bach-mai').resource;
    const bm = all.find((h) => h.id === 'bach-mai');
    assert.deepEqual(loc.position, { longitude: bm.lon, latitude: bm.lat });
    assert.equal(loc.operationalStatus.code, 'C', 'a closed ED');
  }));

  test('the GeoJSON export is valid (check-geojson), one Point [lon, lat] per hospital with its figures', stack.guard(async () => {
    const r = await stack.get('/api/v1/export/geojson');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^application\/geo\+json/);
    checkGeoJSON(r.body); // throws on anything that is not RFC 7946
    const all = await hospitals();
    assert.equal(r.json.features.length, all.length);
    for (const f of r.json.features) {
      const h = all.find((x) => x.id === f.id);
      assert.deepEqual(f.geometry, { type: 'Point', coordinates: [h.lon, h.lat] });
      assert.ok(f.geometry.coordinates[0] > 100 && f.geometry.coordinates[1] < 30, 'longitude first (Hanoi: 105 E, 21 N)');
      assert.deepEqual(f.properties.beds, h.beds);
      assert.equal(f.properties.ed.status, h.ed.status);
    }
  }));

  test('the CSV export: BOM, NHSN-style columns, one row per hospital and bed type', stack.guard(async () => {
    const r = await stack.call('GET', '/api/v1/export/csv?hospital=bach-mai', { token: tokens.wall.token });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/csv/);
    assert.ok(r.body.startsWith('\uFEFF'), 'UTF-8 byte-order mark');
    const lines = r.body.slice(1).split('\r\n').filter(Boolean);
    const head = lines[0].split(',');
    assert.deepEqual(head.slice(0, 3), ['facility_id', 'facility_name', 'facility_name_en']);
    const bm = (await hospitals()).find((h) => h.id === 'bach-mai');
    assert.equal(lines.length - 1, Object.keys(bm.beds).length);
    const icu = lines.find((l) => l.includes(',icu_adult,')).split(',');
    const col = (name) => icu[head.indexOf(name)];
    assert.equal(col('num_beds'), '60');
    assert.equal(col('num_beds_occ'), '63');
    assert.equal(col('num_beds_avail'), '0');
    assert.equal(col('num_beds_overflow'), '3');
    assert.equal(col('have_bed_type'), 'AdultICU');
    assert.equal(col('ed_status'), 'closed');
    assert.ok(r.body.includes('Bệnh viện Bạch Mai'), 'names in UTF-8');
  }));

  test('history.csv per bed type; public may read the city aggregate only', stack.guard(async () => {
    const csv = async (q, token) => stack.call('GET', `/api/v1/history.csv${q}`, { token });
    await waitFor(async () => (await csv('?hospital=bach-mai')).body.includes(',bach-mai,icu_adult,60,63,0,3,8'),
      { what: 'a sample of bach-mai with its adult ICU figures', timeout: 20000 });
    const city = await csv('', tokens.public.token);
    assert.equal(city.status, 200);
    assert.match(city.body, /,city,burn,10,4,6,0,2\r\n/);
    assert.equal((await csv('?hospital=bach-mai', tokens.public.token)).status, 403);
    for (const kind of ['have', 'fhir', 'geojson', 'csv'])
      assert.equal((await stack.call('GET', `/api/v1/export/${kind}`, { token: tokens.public.token })).status, 403, kind);
    assert.equal((await csv('?step=0')).status, 400);
    assert.equal((await csv('?from=yesterday')).status, 400);
    assert.equal((await csv(`?from=${Date.now()}&to=${Date.now() - 60000}`)).status, 400, 'from after to');
    for (const p of ['/api/v1/export/have', '/api/v1/history.csv'])
      assert.equal((await stack.call('POST', p, { token: tokens.wall.token, json: {} })).status, 405, p);
    // step: at most one sample per step
    const stepped = (await csv('?hospital=bach-mai&step=3600')).body.split('\r\n').filter((l) => l.includes(',icu_adult,'));
    assert.ok(stepped.length >= 1 && stepped.length <= 2, stepped.join('\n'));
  }));

  test('a HAVE export posted back changes nothing; one count changed changes that count only', stack.guard(async () => {
    const before = await stack.hospital('bach-mai');
    const xml = (await stack.get('/api/v1/export/have?hospital=bach-mai')).body;
    const r = await post('application/xml', xml);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.results.length, 1);
    assert.equal(r.json.results[0].unchanged, true);
    const same = await stack.hospital('bach-mai');
    assert.equal(same.version, before.version, 'nothing applied');
    assert.deepEqual([same.beds, same.ed, same.at, same.source], [before.beds, before.ed, before.at, before.source]);
    // one more burn patient: AvailableCount 6 -> 5, everything else as exported
    const changed = xml.replace(/(<BedType>Burn<\/BedType>\s*<Capacity>\s*<CapacityStatus>[^<]*<\/CapacityStatus>\s*<AvailableCount>)6</, (m, head) => `${head}5<`);
    assert.notEqual(changed, xml);
    const r2 = await post('application/xml', changed);
    assert.equal(r2.status, 200, r2.body);
    assert.equal(r2.json.results[0].ok, true);
    assert.ok(r2.json.results[0].offset > 0);
    const after = await waitFor(async () => {
      const h = await stack.hospital('bach-mai');
      return h.version > before.version && h;
    }, { what: 'the change to show' });
    assert.equal(after.version, before.version + 1);
    assert.equal(after.beds.burn.occupied, 5);
    assert.deepEqual(after.beds.icu_adult, before.beds.icu_adult, 'the overflow survives HAVE');
    assert.deepEqual(after.beds.obstetrics, before.beds.obstetrics, 'obstetrics, absent from HAVE, untouched');
    assert.deepEqual(after.ed, before.ed);
    assert.equal(after.source, 'have:' + tokens.feed.id + ':bach-mai');
    // the same document again: nothing more to change
    const r3 = await post('application/xml', changed);
    assert.equal(r3.json.results[0].duplicate || r3.json.results[0].unchanged, true, r3.body);
    assert.equal((await stack.hospital('bach-mai')).version, after.version);
  }));

  test('a FHIR export posted back changes nothing; one count changed changes that count only', stack.guard(async () => {
    const before = await stack.hospital('viet-duc');
    const bundle = (await stack.get('/api/v1/export/fhir?hospital=viet-duc')).json;
    const r = await post('application/fhir+json', JSON.stringify(bundle));
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.results[0].unchanged, true);
    assert.ok(r.json.notes.some((n) => /Location/.test(n)), 'the Locations were skipped, and said so');
    assert.equal((await stack.hospital('viet-duc')).version, before.version);
    // one more ICU patient
    const mr = bundle.entry.find((e) => e.resource.resourceType === 'MeasureReport').resource;
    const icu = mr.group.find((g) => g.code.coding[0].code === 'icu_adult');
    for (const p of icu.population) {
      const f = p.code.coding[0].code;
      if (f === 'occupied') p.count += 1;
      if (f === 'available') p.count -= 1;
    }
    const r2 = await post('application/fhir+json', JSON.stringify(bundle));
    assert.equal(r2.status, 200, r2.body);
    const after = await waitFor(async () => {
      const h = await stack.hospital('viet-duc');
      return h.version > before.version && h;
    }, { what: 'the change to show' });
    assert.equal(after.beds.icu_adult.occupied, before.beds.icu_adult.occupied + 1);
    assert.deepEqual(after.beds.psychiatric, before.beds.psychiatric);
    assert.deepEqual(after.ed, before.ed, 'FHIR never changes the ED (its until and waiting stay)');
  }));

  // One Hospital for xanh-pon: a Pediatrics BaselineCount at a report time.
  const xanhPon = (baseline, time) => `<HospitalStatus xmlns="${HAVE_NS}" xmlns:xnl="${NS.xnl}"><Hospital><Organization><OrganizationInformation><xnl:OrganisationName xnl:ID="xanh-pon"/></OrganizationInformation></Organization>` +
    `<HospitalBedCapacityStatus><BedCapacity><BedType>Pediatrics</BedType><Capacity><BaselineCount>${baseline}</BaselineCount></Capacity></BedCapacity></HospitalBedCapacityStatus><LastUpdateTime>${time}</LastUpdateTime></Hospital></HospitalStatus>`;

  test('a document older than the stored report is answered 409 out_of_order and changes nothing', stack.guard(async () => {
    const before = await stack.hospital('xanh-pon'); // reported by the feed a minute ago
    const r = await post('application/xml', xanhPon(before.beds.pediatrics.staffed + 5, isoNow(-300000)));
    assert.equal(r.status, 409, r.body);
    assert.equal(r.json.results[0].ok, false);
    assert.equal(r.json.results[0].error, 'out_of_order');
    assert.equal(r.json.results[0].element, 'HospitalStatus/Hospital[1]');
    assert.equal((await stack.hospital('xanh-pon')).version, before.version);
  }));

  test('imports: Sahana\'s layout is read; bad documents are refused whole, naming the element', stack.guard(async () => {
    const sahana = `<?xml version="1.0"?>
<have:HospitalStatus xmlns:have="${HAVE_NS}" xmlns:xnl="${NS.xnl}" xmlns:gml="${NS.gml}">
 <have:Hospital>
  <have:Organization><have:OrganizationInformation><xnl:OrganisationName xnl:ID="xanh-pon"><xnl:NameElement>Xanh Pon</xnl:NameElement></xnl:OrganisationName></have:OrganizationInformation>
   <have:OrganizationGeoLocation><gml:Point><gml:coordinates>21.03, 105.83</gml:coordinates></gml:Point></have:OrganizationGeoLocation></have:Organization>
  <have:EmergencyDepartmentStatus><have:EMSTrafficStatus>normal</have:EMSTrafficStatus></have:EmergencyDepartmentStatus>
  <have:HospitalBedCapacityStatus><have:BedCapacity><have:BedType>Pediatrics</have:BedType><have:CapacityStatus>VacantAvailable</have:CapacityStatus><have:AvailableCount>30</have:AvailableCount><have:BaselineCount>50</have:BaselineCount></have:BedCapacity>
   <have:BedCapacity><have:BedType>NurseryBeds</have:BedType><have:AvailableCount>1</have:AvailableCount><have:BaselineCount>4</have:BaselineCount></have:BedCapacity></have:HospitalBedCapacityStatus>
  <have:LastUpdateTime>${isoNow(-1000)}</have:LastUpdateTime>
 </have:Hospital>
</have:HospitalStatus>`;
    const r = await post('text/xml', sahana);
    assert.equal(r.status, 200, r.body);
    assert.ok(r.json.notes.some((n) => /NurseryBeds/.test(n)));
    const xp1 = await waitFor(async () => {
      const h = await stack.hospital('xanh-pon');
      return h.beds.pediatrics.occupied === 20 && h;
    }, { what: 'Sahana\'s counts to apply' });
    assert.equal(xp1.ed.status, 'normal');

    const refuse = async (type, body, status, field, code, token) => {
      const x = await post(type, body, token);
      assert.equal(x.status, status, x.body);
      assert.ok(x.json.errors.some((e) => e.field === field && (!code || e.code === code)), `${field}: ${x.body}`);
    };
    const one = (bedType, id = 'bach-mai') => `<HospitalStatus xmlns="${HAVE_NS}" xmlns:xnl="${NS.xnl}"><Hospital><Organization><OrganizationInformation><xnl:OrganisationName xnl:ID="${id}"/></OrganizationInformation></Organization>` +
      `<HospitalBedCapacityStatus><BedCapacity><BedType>${bedType}</BedType><Capacity><BaselineCount>1</BaselineCount></Capacity></BedCapacity></HospitalBedCapacityStatus><LastUpdateTime>${isoNow()}</LastUpdateTime></Hospital></HospitalStatus>`;
    await refuse('application/xml', one('Maternity'), 422,
      'HospitalStatus/Hospital[1]/HospitalBedCapacityStatus/BedCapacity[1]/BedType', 'unknown_bed_type');
    await refuse('application/xml', one('Burn', 'nowhere'), 422,
      'HospitalStatus/Hospital[1]/Organization/OrganizationInformation/OrganisationName/@xnl:ID', 'unknown_hospital');
    await refuse('application/xml', one('Burn'), 403, 'HospitalStatus/Hospital[1]', 'forbidden', tokens.narrow.token);
    await refuse('application/xml', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', 422, '', 'bad_xml');
    await refuse('application/fhir+json', '{"resourceType":"MeasureReport","status":"complete","date":"2026-01-01T00:00:00Z","subject":{"reference":"Location/bach-mai"},"group":[{"code":{"coding":[{"system":"x","code":"maternity"}]}}]}',
      422, 'MeasureReport.group[0].code', 'unknown_bed_type');
    // nothing changed by any of them
    assert.equal((await stack.hospital('bach-mai')).beds.burn.staffed, 10);
    // limits and types
    assert.equal((await post('text/plain', 'x')).status, 415);
    assert.equal((await stack.call('POST', '/api/v1/feed', { type: 'application/xml', body: one('Burn') })).status, 401);
    assert.equal((await post('application/xml', one('Burn'), tokens.wall.token)).status, 403);
    // /metrics counts the documents by format and outcome, and the routes
    const m = (await stack.get('/metrics')).body;
    assert.match(m, /^bedpulse_http_feed_documents_total\{format="have",outcome="accepted"\} [1-9]/m);
    assert.match(m, /^bedpulse_http_feed_documents_total\{format="have",outcome="refused"\} [1-9]/m);
    assert.match(m, /^bedpulse_http_feed_documents_total\{format="fhir",outcome="refused"\} [1-9]/m);
    assert.match(m, /^bedpulse_http_request_duration_seconds_count\{route="\/api\/v1\/feed",status="422"\} [1-9]/m);
    assert.match(m, /^bedpulse_http_request_duration_seconds_count\{route="\/api\/v1\/export\/have",status="200"\} [1-9]/m);
  }));

  test('storage down: a document is answered 503 with Retry-After, and applied once sent again', stack.guard(async () => {
    const before = await stack.hospital('xanh-pon');
    const doc = xanhPon(before.beds.pediatrics.staffed + 1, isoNow(-500));
    try {
      await stack.killRedis();
      const r = await waitFor(async () => {
        const x = await post('application/xml', doc);
        return x.status === 503 && x;
      }, { what: 'the feed\'s Redis link to notice' });
      assert.ok(Number(r.headers['retry-after']) > 0, JSON.stringify(r.headers));
      assert.equal(r.json.results[0].error, 'unavailable', r.body);
    } finally {
      await stack.startRedis();
    }
    const ok = await waitFor(async () => {
      const x = await post('application/xml', doc);
      return x.status === 200 && x;
    }, { what: 'the document to be applied once Redis is back' });
    assert.equal(ok.json.results[0].ok, true, ok.body);
    const after = await waitFor(async () => {
      const h = await stack.hospital('xanh-pon');
      return h.version > before.version && h;
    }, { what: 'the change to show' });
    assert.equal(after.beds.pediatrics.staffed, before.beds.pediatrics.staffed + 1);
  }));
});
