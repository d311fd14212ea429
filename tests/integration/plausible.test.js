'use strict';
// Plausibility (issue 15 part 5, docs/protocol.md "Plausibility"): through
// the real collector's feed port, a plausible report raises nothing; an
// implausible one (occupied falling 79 % in minutes, over twice staffed,
// the whole hospital at 0) is applied AND flagged `check`, on REST, in the
// live event and in Redis (no change of its own), the same on a second
// server;
// the manager of another hospital may not confirm
// it (403), the right one does (200, audited) and the flag is cleared
// everywhere; a manager's correction or a later plausible report clears it
// too; flags and their clearing survive a server restart; a report
// applied while no server ran is flagged when one starts, stored once.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Stack, waitFor, bedsMsg } = require('../lib/stack');

const BM = 'bach-mai';
const LK = 'lao-khoa-trung-uong';

describe('plausibility checks', () => {
  const stack = new Stack();
  let feed;
  let seq = 1;
  let manager, other, admin;
  let port2; // a second server on the same Redis

  before(stack.guard(async () => {
    await stack.start();
    feed = await stack.feed();
    manager = stack.createToken('manager', { hospitals: BM, name: 'bm manager' });
    other = stack.createToken('manager', { hospitals: LK, name: 'lk manager' });
    admin = stack.createToken('admin');
    for (const t of [manager, other, admin]) await stack.waitForToken(t.token);
    port2 = await stack.startServer({}, 'server2');
    for (const t of [manager, other, admin]) await stack.waitForToken(t.token, port2);
  }));
  after(async () => {
    if (feed) feed.destroy();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });

  const send = async (beds) => {
    const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: BM, beds }));
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.check, undefined, 'the feed answer stays ok, with no note');
    return r;
  };
  // the hospital once its state shows occupied icu_adult at occ and the check
  // as wanted (a rule name, or null)
  const settled = (occ, rule) => waitFor(async () => {
    const h = await stack.hospital(BM);
    return h.beds.icu_adult.occupied === occ && (h.check ? h.check.rule : null) === rule && h;
  }, { what: `icu_adult ${occ} and check ${rule}` });
  const stored = () => {
    const v = stack.redis('HGET', `${stack.prefix}h:${BM}`, 'chk').trim();
    return v === '' ? undefined : JSON.parse(v);
  };
  const confirm = (who, version) => stack.call('POST', `/api/v1/hospitals/${BM}/confirm`,
    { token: who.token, headers: version === undefined ? {} : { 'If-Match': `${version}` } });

  test('a plausible report raises nothing; a drop is applied and flagged, live and stored', stack.guard(async () => {
    const ws = await stack.live();
    await ws.waitFor((c) => c.snapshot, { what: 'the snapshot' });
    assert.equal(ws.hospitals.get(BM).check, null);
    await send({ icu_adult: { staffed: 20, occupied: 16 }, medical_surgical: { staffed: 100, occupied: 60 } });
    await send({ icu_adult: { occupied: 14 } }); // 12.5 %: plausible
    const h1 = await settled(14, null);
    assert.equal(h1.check, null);

    await send({ icu_adult: { occupied: 3 } }); // 79 % within minutes
    const h2 = await settled(3, 'drop');
    assert.equal(h2.beds.icu_adult.occupied, 3, 'applied');
    assert.equal(h2.check.bed_type, 'icu_adult');
    assert.equal(h2.check.was, 14);
    assert.equal(h2.check.now, 3);
    assert.match(h2.check.reason, /icu_adult occupied fell from 14 to 3 \(78 %\)/);
    const ev = await ws.waitFor((c) => c.events.find((e) => e.id === BM && e.data.check),
      { what: 'the live event with the check' });
    assert.equal(ev.data.check.rule, 'drop');
    assert.equal(ev.data.beds.icu_adult.occupied, 3, 'the report itself carries it');
    const s = await waitFor(() => stored(), { what: 'the stored check' });
    assert.equal(s.rule, 'drop');
    assert.equal(s.was, 14);
    // the check belongs to the report: its version, no change of its own
    const hs = await stack.hospital(BM);
    assert.equal(hs.version, h2.version);
    assert.equal(hs.check.version, hs.version);
    assert.equal(s.version, hs.version);
    assert.equal(hs.source, 'his');
    // both servers derived it: the same everywhere, and no extra audit row
    const on2 = await waitFor(async () => {
      const r = await stack.call('GET', `/api/v1/hospitals/${BM}`, { token: admin.token, port: port2 });
      return r.json && r.json.version === hs.version && r.json;
    }, { what: 'the second server' });
    assert.deepEqual(on2.check, hs.check);
    const a = await stack.call('GET', `/api/v1/audit?hospital=${BM}&limit=1`, { token: admin.token });
    assert.equal(a.status, 200, a.body);
    assert.equal(a.json.entries[0].version, hs.version, 'the report is the last change');
    ws.close();
  }));

  test('confirm: another hospital\'s manager 403, the right one 200, audited, cleared everywhere', stack.guard(async () => {
    const h = await waitFor(async () => {
      const x = await stack.hospital(BM);
      return x.check && x.check.version === x.version && x;
    }, { what: 'the stored check in the state' });
    const ws = await stack.live();
    await ws.waitFor((c) => c.snapshot && c.hospitals.get(BM).version === h.version,
      { what: 'the snapshot and the events after it' });
    assert.equal(ws.hospitals.get(BM).check.rule, 'drop');
    const no = await confirm(other, h.version);
    assert.equal(no.status, 403, no.body);
    const noMatch = await confirm(manager);
    assert.equal(noMatch.status, 428, noMatch.body);
    assert.equal((await stack.hospital(BM)).version, h.version, 'refused confirms change nothing');
    const ok = await confirm(manager, h.version);
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.json.check, null);
    assert.equal(ok.json.beds.icu_adult.occupied, 3, 'the figures stay');
    const ev = await ws.waitFor((c) => c.events.find((e) => e.id === BM && e.data.check === null),
      { what: 'the live event clearing the check' });
    assert.equal(ws.hospitals.get(BM).check, null);
    assert.equal(ev.data.version, h.version + 1);
    assert.equal(stored(), null, 'stored as cleared');
    const again = await confirm(manager, h.version + 1);
    assert.equal(again.status, 409, again.body);
    assert.equal(again.json.error, 'no_check');
    const a = await stack.call('GET', `/api/v1/audit?hospital=${BM}&actor=${manager.id}&limit=1`, { token: admin.token });
    assert.equal(a.status, 200, a.body);
    const row = a.json.entries[0];
    assert.equal(row.version, h.version + 1);
    assert.equal(row.before.check.rule, 'drop');
    assert.equal(row.after.check, null);
    ws.close();
  }));

  test('over twice staffed: flagged, survives a restart, a manager\'s correction clears it', stack.guard(async () => {
    await send({ icu_adult: { occupied: 45 } });
    const h = await settled(45, 'over_staffed');
    assert.equal(h.check.was, 20);
    assert.equal(h.check.now, 45);
    await waitFor(() => stored() && stored().rule === 'over_staffed' && stored(), { what: 'stored' });
    await stack.stopProc('server');
    await stack.startServer();
    const h2 = await stack.hospital(BM);
    assert.equal(h2.check.rule, 'over_staffed', 'read back from Redis');
    const p = await stack.call('PATCH', `/api/v1/hospitals/${BM}`,
      { token: manager.token, headers: { 'If-Match': `${h2.version}` }, json: { beds: { icu_adult: { occupied: 18 } } } });
    assert.equal(p.status, 200, p.body);
    assert.equal(p.json.check, null);
    await waitFor(() => stored() === null, { what: 'the correction stored' });
  }));

  test('the whole hospital at 0: flagged; a later plausible report clears it, after a restart too', stack.guard(async () => {
    await send({ icu_adult: { occupied: 0 }, medical_surgical: { occupied: 0 } });
    const h = await settled(0, 'all_zero');
    assert.equal(h.check.bed_type, null);
    assert.equal(h.check.was, 78);
    assert.match(h.check.reason, /every bed type reports 0 occupied; 78 were occupied before/);
    await send({ icu_adult: { occupied: 1 }, medical_surgical: { occupied: 2 } });
    await settled(1, null);
    await waitFor(() => stored() === null, { what: 'the clearing stored' });
    await stack.stopProc('server');
    await stack.startServer();
    assert.equal((await stack.hospital(BM)).check, null);
  }));

  test('a report applied while no server ran: its check is derived when a server starts, stored once', stack.guard(async () => {
    await send({ icu_adult: { occupied: 16 } });
    const h0 = await settled(16, null);
    // every server stops; the collector still applies what the feed sends
    await stack.stopProc('server');
    await stack.stopProc('server2');
    await send({ icu_adult: { occupied: 4 } }); // 75 % within minutes
    const key = `${stack.prefix}h:${BM}`;
    const v = await waitFor(() => {
      const x = Number(stack.redis('HGET', key, 'v').trim());
      return x === h0.version + 1 && x;
    }, { what: 'the report applied with no server' });
    assert.notEqual((stored() || {}).rule, 'drop', 'no server derived it yet');
    const pre = JSON.parse(stack.redis('HGET', key, 'pre').trim());
    assert.equal(pre.v, v);
    assert.deepEqual(pre.beds.icu_adult.o, 16, 'what the report replaced');
    // a server starts: it derives the report's check from the hash
    await stack.startServer();
    const h = await settled(4, 'drop');
    assert.equal(h.version, v);
    assert.equal(h.check.version, v);
    assert.equal(h.check.was, 16);
    assert.equal(h.check.now, 4);
    const s = await waitFor(() => (stored() || {}).rule === 'drop' && stored(), { what: 'the check stored' });
    assert.equal(s.version, v);
    assert.equal(stack.redis('HGET', key, 'ckv').trim(), String(v));
    // once: a second server starting now finds it stored, and the store
    // script refuses to write the same version twice
    port2 = await stack.startServer({}, 'server2');
    const on2 = await waitFor(async () => {
      const r = await stack.call('GET', `/api/v1/hospitals/${BM}`, { token: admin.token, port: port2 });
      return r.json && r.json.version === v && r.json;
    }, { what: 'the second server' });
    assert.equal(on2.check.rule, 'drop');
    const script = fs.readFileSync(path.join(__dirname, '../../io/check_store.lua'), 'utf8');
    assert.equal(stack.redis('EVAL', script, '1', key, String(v), 'null').trim(), '2');
    assert.equal(stored().rule, 'drop', 'not overwritten');
    assert.equal(stack.redis('EVAL', script, '1', key, String(v - 1), 'null').trim(), '0');
  }));
});
