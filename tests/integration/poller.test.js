'use strict';
// Pollers (issue 13, README "Pollers"): the collector polls a local HTTP
// server (Node http) publishing EDXL-HAVE, FHIR and BedPulse feed lines, and
// one that answers 500, one that never answers (timeout), one that
// serves garbage and two that send more than collector.max_poll_bytes (with
// a Content-Length, and chunked without one). What is valid is applied with the source id; ETags come
// back as If-None-Match and get 304; failures back off; garbage is counted
// and applies nothing; every source's status is in the collector's
// /metrics (promtool-clean) and in GET /api/v1/sources (admin).

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { Stack, waitFor, freePort, httpGet, isoNow } = require('../lib/stack');

const WAIT = { timeout: 30000 };
const HAVE_NS = 'urn:oasis:names:tc:emergency:EDXL:HAVE:1.0';
const XNL_NS = 'urn:oasis:names:tc:ciq:xnl:3';

describe('pollers', () => {
  const stack = new Stack();
  let server;
  let port;
  const hits = {}; // path -> [{ headers }]
  const at = isoNow(-30000);

  // bach-mai, as its HIS names it ("BV-01"), in HAVE
  const have = `<?xml version="1.0" encoding="UTF-8"?>
<HospitalStatus xmlns="${HAVE_NS}" xmlns:xnl="${XNL_NS}">
 <Hospital>
  <Organization><OrganizationInformation><xnl:OrganisationName xnl:ID="BV-01"><xnl:NameElement>Bạch Mai</xnl:NameElement></xnl:OrganisationName></OrganizationInformation></Organization>
  <EmergencyDepartmentStatus><EMSTraffic><EMSTrafficStatus>Closed</EMSTrafficStatus><EMSTrafficReason>no ICU beds</EMSTrafficReason></EMSTraffic></EmergencyDepartmentStatus>
  <HospitalBedCapacityStatus><BedCapacity><BedType>AdultICU</BedType><Capacity><CapacityStatus>Vacant/Available</CapacityStatus><AvailableCount>4</AvailableCount><BaselineCount>60</BaselineCount></Capacity></BedCapacity></HospitalBedCapacityStatus>
  <LastUpdateTime>${at}</LastUpdateTime>
 </Hospital>
</HospitalStatus>`;
  const fhir = JSON.stringify({
    resourceType: 'Bundle', type: 'collection', entry: [{ resource: {
      resourceType: 'MeasureReport', status: 'complete', type: 'summary', date: at,
      subject: { identifier: { system: 'urn:bedpulse:fhir:hospital-id', value: 'viet-duc' } },
      group: [{ code: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'ICU' }] },
        population: [{ code: { coding: [{ system: 'urn:bedpulse:fhir:CodeSystem:bed-count', code: 'staffed' }] }, count: 40 },
          { code: { coding: [{ system: 'urn:bedpulse:fhir:CodeSystem:bed-count', code: 'occupied' }] }, count: 38 }] }],
    } }],
  });
  const lines = [1, 2].map((seq) => JSON.stringify({ type: 'beds', source: 'ignored', seq, at, hospital: 'xanh-pon',
    beds: { pediatrics: { staffed: 50, occupied: 10 + seq } } })).join('\n') + '\n';
  const lastModified = new Date(Date.now() - 3600e3).toUTCString();
  // a valid HAVE document for benh-vien-e, padded past MAX_POLL_BYTES
  const MAX_POLL_BYTES = 4096;
  const big = have.replace('BV-01', 'benh-vien-e').replace('<Hospital>', `<Hospital><!-- ${'x'.repeat(MAX_POLL_BYTES)} -->`);

  before(stack.guard(async () => {
    port = await freePort();
    server = http.createServer((req, res) => {
      const p = req.url.split('?')[0];
      (hits[p] = hits[p] || []).push({ headers: req.headers });
      if (p === '/have.xml') {
        if (req.headers['if-none-match'] === '"v1"') return res.writeHead(304).end();
        return res.writeHead(200, { 'Content-Type': 'application/xml', ETag: '"v1"' }).end(have);
      }
      if (p === '/fhir.json') {
        if (req.headers['if-modified-since'] === lastModified) return res.writeHead(304).end();
        return res.writeHead(200, { 'Content-Type': 'application/fhir+json', 'Last-Modified': lastModified }).end(fhir);
      }
      if (p === '/lines.ndjson') return res.writeHead(200, { 'Content-Type': 'application/x-ndjson' }).end(lines);
      if (p === '/down') return res.writeHead(500).end('internal error');
      if (p === '/garbage') return res.writeHead(200, { 'Content-Type': 'application/xml' }).end('<HospitalStatus><Hosp');
      if (p === '/slow') return; // never answers: the poll times out
      if (p === '/big') return res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(big) }).end(big);
      if (p === '/big-chunked') { // no length: the collector counts as it reads
        res.writeHead(200, { 'Content-Type': 'application/xml' });
        for (let i = 0; i < big.length; i += 1000) res.write(big.slice(i, i + 1000));
        return res.end();
      }
      res.writeHead(404).end();
    });
    await new Promise((r) => server.listen(port, '127.0.0.1', r));
    const url = (p) => `http://127.0.0.1:${port}${p}`;
    const sources = { sources: [
      { id: 'bm-have', url: url('/have.xml'), format: 'have', interval_s: 1, headers: { 'X-Api-Key': 'k-123' }, hospitals: { 'BV-01': 'bach-mai' } },
      { id: 'vd-fhir', url: url('/fhir.json'), format: 'fhir', interval_s: 1, hospitals: '*' },
      { id: 'xp-lines', url: url('/lines.ndjson'), format: 'bedpulse', interval_s: 1, hospitals: { 'xanh-pon': 'xanh-pon' } },
      { id: 'down', url: url('/down'), format: 'have', interval_s: 1, hospitals: '*' },
      { id: 'slow', url: url('/slow'), format: 'fhir', interval_s: 1, timeout_s: 1, hospitals: '*' },
      { id: 'junk', url: url('/garbage?token=secret'), format: 'have', interval_s: 1, hospitals: { 'thanh-nhan': 'thanh-nhan' } },
      { id: 'big', url: url('/big'), format: 'have', interval_s: 1, hospitals: '*' },
      { id: 'big-chunked', url: url('/big-chunked'), format: 'have', interval_s: 1, hospitals: '*' },
    ] };
    const file = path.join(stack.dir, 'sources.json');
    fs.writeFileSync(file, JSON.stringify(sources));
    await stack.startRedis();
    await stack.startCollector({ BP_COLLECTOR_SOURCES: file, BP_COLLECTOR_MAX_POLL_BYTES: String(MAX_POLL_BYTES) });
    await stack.startServer();
  }));
  after(async () => {
    await stack.stop({ keep: true }); // a poll still waiting on /slow must not hold the collector
    if (server) {
      server.closeAllConnections();
      server.close();
    }
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });

  const metrics = async () => (await httpGet(stack.collectorHttpPort, '/metrics')).body;
  const metric = (text, name, labels) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
    return line ? Number(line.split(' ').pop()) : NaN;
  };

  test('HAVE, FHIR and feed lines are applied through the apply script with the source id', stack.guard(async () => {
    const bm = await waitFor(async () => {
      const h = (await stack.get('/api/v1/hospitals/bach-mai')).json;
      return h.version > 0 && h;
    }, { ...WAIT, what: 'bach-mai from the HAVE source' });
    assert.equal(bm.beds.icu_adult.occupied, 56);
    assert.equal(bm.ed.status, 'diversion'); // HAVE's Closed without the "ED closed" mark
    assert.equal(bm.ed.reason, 'no ICU beds');
    assert.equal(bm.source, 'bm-have:bach-mai');
    assert.equal(bm.at, at);
    const vd = await waitFor(async () => {
      const h = (await stack.get('/api/v1/hospitals/viet-duc')).json;
      return h.version > 0 && h;
    }, { ...WAIT, what: 'viet-duc from the FHIR source' });
    assert.equal(vd.beds.icu_adult.occupied, 38);
    assert.equal(vd.source, 'vd-fhir:viet-duc');
    const xp = await waitFor(async () => {
      const h = (await stack.get('/api/v1/hospitals/xanh-pon')).json;
      return h.beds.pediatrics.occupied === 12 && h;
    }, { ...WAIT, what: 'xanh-pon from the feed-line source' });
    assert.equal(xp.source, 'xp-lines', 'the source id speaks, whatever the lines say');
    // polled again and again: unchanged documents apply nothing new
    await waitFor(async () => (hits['/have.xml'] || []).length >= 3, { ...WAIT, what: 'a few polls of /have.xml' });
    assert.equal((await stack.get('/api/v1/hospitals/bach-mai')).json.version, bm.version);
    assert.equal((await stack.get('/api/v1/hospitals/xanh-pon')).json.version, xp.version,
      'lines already applied are duplicates');
  }));

  test('validators: If-None-Match and If-Modified-Since come back and get 304; headers are sent', stack.guard(async () => {
    await waitFor(async () => (hits['/have.xml'] || []).some((h) => h.headers['if-none-match'] === '"v1"'), { ...WAIT, what: 'If-None-Match' });
    await waitFor(async () => (hits['/fhir.json'] || []).some((h) => h.headers['if-modified-since'] === lastModified), { ...WAIT, what: 'If-Modified-Since' });
    assert.ok(hits['/have.xml'].every((h) => h.headers['x-api-key'] === 'k-123'));
    assert.match(hits['/have.xml'][0].headers.accept, /application\/xml/);
    const m = await waitFor(async () => {
      const t = await metrics();
      return metric(t, 'bedpulse_poll_total', 'source="bm-have",result="not_modified"') >= 1 && t;
    }, { ...WAIT, what: '304 counted' });
    assert.equal(metric(m, 'bedpulse_poll_total', 'source="bm-have",result="ok"'), 1);
    assert.equal(metric(m, 'bedpulse_poll_failures', 'source="bm-have"'), 0);
    assert.ok(metric(m, 'bedpulse_poll_last_success_timestamp_seconds', 'source="bm-have"') > 0);
  }));

  test('500, timeouts and garbage: counted, backed off, and nothing applied', stack.guard(async () => {
    const m = await waitFor(async () => {
      const t = await metrics();
      return metric(t, 'bedpulse_poll_total', 'source="down",result="http_error"') >= 2 &&
        metric(t, 'bedpulse_poll_total', 'source="slow",result="network_error"') >= 1 &&
        metric(t, 'bedpulse_poll_total', 'source="junk",result="garbage"') >= 2 &&
        metric(t, 'bedpulse_poll_total', 'source="big",result="garbage"') >= 1 &&
        metric(t, 'bedpulse_poll_total', 'source="big-chunked",result="garbage"') >= 1 && t;
    }, { ...WAIT, what: 'failures of each kind' });
    assert.ok(metric(m, 'bedpulse_poll_failures', 'source="down"') >= 2);
    assert.ok(metric(m, 'bedpulse_poll_last_error_timestamp_seconds', 'source="junk"') > 0);
    assert.equal(metric(m, 'bedpulse_poll_last_success_timestamp_seconds', 'source="junk"'), 0);
    assert.equal(metric(m, 'bedpulse_poll_changes_total', 'source="junk",outcome="applied"'), 0);
    // garbage changed nothing, nor did the documents that were too large
    assert.equal((await stack.get('/api/v1/hospitals/thanh-nhan')).json.version, 0);
    assert.equal((await stack.get('/api/v1/hospitals/benh-vien-e')).json.version, 0);
    for (const id of ['big', 'big-chunked']) assert.equal(metric(m, 'bedpulse_poll_changes_total', `source="${id}",outcome="applied"`), 0);
    // the collector says why, without the URL's query (it may hold a secret)
    const log = stack.logText();
    assert.match(log, /poll junk \(http:\/\/127\.0\.0\.1:\d+\/garbage\): garbage: not a valid have document, nothing applied/);
    assert.match(log, /poll slow .*network_error: Timeout/);
    assert.ok(!log.includes('token=secret'));
    assert.match(log, /poll big \(.*\): garbage: the response is larger than 4096 bytes \(collector\.max_poll_bytes\); nothing applied/);
    assert.match(log, /poll big-chunked \(.*\): garbage: the response is larger than 4096 bytes/);
    // the metrics are valid Prometheus text
    const r = spawnSync('promtool', ['check', 'metrics'], { input: m, encoding: 'utf8' });
    assert.equal(r.error, undefined, 'promtool (Debian package prometheus)');
    assert.equal(r.status, 0, r.stdout + r.stderr);
  }));

  test('GET /api/v1/sources: every source\'s status, for admins only', stack.guard(async () => {
    const wall = stack.createToken('wall'); // first: a server that knows admin knows wall
    const admin = stack.createToken('admin');
    await stack.waitForToken(admin.token);
    const s = await waitFor(async () => {
      const r = await stack.call('GET', '/api/v1/sources', { token: admin.token });
      const down = r.json && r.json.sources.find((x) => x.id === 'down');
      return r.status === 200 && r.json.sources.length === 8 && down && down.failures >= 2 && r.json;
    }, { ...WAIT, what: 'the status of all eight sources' });
    assert.deepEqual(s.sources.map((x) => x.id), ['big', 'big-chunked', 'bm-have', 'down', 'junk', 'slow', 'vd-fhir', 'xp-lines']);
    const bm = s.sources.find((x) => x.id === 'bm-have');
    assert.equal(bm.state, 'ok');
    assert.equal(bm.format, 'have');
    assert.ok(bm.last_success);
    assert.equal(bm.changes.applied, 1);
    // the fields docs/protocol.md lists
    assert.deepEqual(Object.keys(bm).sort(), ['changes', 'collector', 'error', 'failures', 'format', 'http_status', 'id', 'interval_s',
      'last_error', 'last_poll', 'last_success', 'next_poll', 'polls', 'state', 'updated', 'url']);
    assert.deepEqual(Object.keys(bm.polls), ['ok', 'not_modified', 'http_error', 'network_error', 'garbage', 'unavailable']);
    assert.deepEqual(Object.keys(bm.changes), ['applied', 'duplicate', 'refused', 'unavailable']);
    const down = s.sources.find((x) => x.id === 'down');
    assert.equal(down.state, 'error');
    assert.equal(down.http_status, 500);
    assert.equal(down.error, 'HTTP status 500');
    // backoff: the next poll waits the interval doubled per failure in a
    // row (less up to a tenth), from the last failure
    const wait = Date.parse(down.next_poll) - Date.parse(down.last_error);
    assert.ok(wait >= 0.9 * 1000 * 2 ** (down.failures - 1) - 5, `${wait} ms after ${down.failures} failures`);
    const junk = s.sources.find((x) => x.id === 'junk');
    assert.equal(junk.url, `http://127.0.0.1:${port}/garbage`, 'no query in the URL shown');
    assert.match(junk.error, /bad_xml/);
    assert.equal((await stack.call('GET', '/api/v1/sources', { token: wall.token })).status, 403);
    assert.equal((await stack.call('GET', '/api/v1/sources', { token: 'bp_' + 'z'.repeat(43) })).status, 401);
  }));
});
