'use strict';
// Mass-casualty mode against the real stack: a dispatcher declares an MCI,
// hospitals in range are asked, a manager answers for her hospital and a
// dispatcher records a phone answer, the totals and the suggested
// distribution follow, patients are tracked to destinations, and closing
// ends it. Who may do what is checked at every step.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Stack, pastMs } = require('../lib/stack');

describe('mass-casualty incident: poll round trip', () => {
  const stack = new Stack({ env: { BP_AUTH_ANONYMOUS: 'none' } });
  const t = {};
  before(async () => {
    await stack.start();
    t.disp = stack.createToken('dispatcher', { name: 'Dispatcher Minh' });
    t.manager = stack.createToken('manager', { hospitals: 'bach-mai' });
    t.wall = stack.createToken('wall');
    await stack.waitForToken(t.wall.token);
  });
  after(() => stack.stop());

  const as = (who, opts = {}) => Object.assign({ token: t[who].token }, opts);

  test('declare, answer, suggest, track patients, close', stack.guard(async () => {
    const decl = { lat: 21.001, lon: 105.8407, radius_km: 3.5, address: 'Ngã tư Phương Mai', expected: { immediate: 4, delayed: 6, minor: 10 } };
    assert.equal((await stack.call('POST', '/api/v1/mci', as('manager', { json: decl }))).status, 403);
    assert.equal((await stack.call('POST', '/api/v1/mci', { json: decl })).status, 401);
    const bad = await stack.call('POST', '/api/v1/mci', as('disp', { json: { lat: 95, radius_km: 80, expected: { red: 1 } } }));
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.json.errors.map((e) => e.field).sort(), ['expected.red', 'lat', 'lon', 'radius_km']);
    const d = await stack.call('POST', '/api/v1/mci', as('disp', { json: decl }));
    assert.equal(d.status, 201, d.body);
    const id = d.json.id;
    assert.match(id, /^MCI-\d+$/);
    assert.equal(d.json.status, 'open');
    assert.equal(d.json.declared_by, t.disp.id);
    assert.deepEqual(d.json.expected, decl.expected);
    // every hospital within range is asked, nearest first; nothing answered yet
    const ids = d.json.hospitals.map((h) => h.id);
    for (const h of ['bach-mai', 'viet-duc', 'viet-phap']) assert.ok(ids.includes(h), `${h} among ${ids.join()}`);
    const etas = d.json.hospitals.map((h) => h.eta_min);
    assert.deepEqual([...etas].sort((a, b) => a - b), etas);
    assert.equal(d.json.answered, 0);
    assert.deepEqual(d.json.unplaced, decl.expected);
    // the manager sees it (her view asks her), the wall too
    const managerSees = (await stack.call('GET', '/api/v1/mci', as('manager'))).json.mcis.map((m) => m.id);
    assert.ok(managerSees.includes(id), `${id} among ${managerSees.join()}`);

    // answers: the manager for her hospital; not for another; a dispatcher by phone
    const put = (who, h, json) => stack.call('PUT', `/api/v1/mci/${id}/answers/${h}`, as(who, { json }));
    assert.equal((await put('manager', 'viet-duc', { immediate: 1, delayed: 1, minor: 1 })).status, 403);
    assert.equal((await put('wall', 'bach-mai', { immediate: 1, delayed: 1, minor: 1 })).status, 403);
    const b = await put('manager', 'bach-mai', { immediate: 2, minor: -1 });
    assert.equal(b.status, 422);
    assert.deepEqual(b.json.errors.map((e) => e.field).sort(), ['delayed', 'minor']);
    assert.equal((await put('manager', 'bach-mai', { immediate: 1, delayed: 4, minor: 5 })).status, 200);
    assert.equal((await put('disp', 'viet-duc', { immediate: 3, delayed: 3, minor: 3 })).status, 200);
    assert.equal((await put('disp', 'nope', { immediate: 3, delayed: 3, minor: 3 })).status, 404);
    const v = (await stack.call('GET', `/api/v1/mci/${id}`, as('disp'))).json;
    assert.equal(v.answered, 2);
    assert.deepEqual(v.can, { immediate: 4, delayed: 7, minor: 8 });
    const h = (x) => v.hospitals.find((y) => y.id === x);
    assert.equal(h('bach-mai').answer.by, t.manager.id);
    assert.equal(h('viet-duc').answer.by, t.disp.id);
    // Immediate go to the trauma centre first; Minor away from central hospitals —
    // both answering hospitals are central, so Minor still fills them, nearest first
    assert.equal(h('viet-duc').suggested.immediate, 3);
    assert.equal(h('bach-mai').suggested.immediate, 1);
    assert.deepEqual(v.suggested, { immediate: 4, delayed: 6, minor: 8 });
    assert.deepEqual(v.unplaced, { immediate: 0, delayed: 0, minor: 2 });

    // patients tracked to destinations
    const pat = (json, who = 'disp') => stack.call('POST', `/api/v1/mci/${id}/patients`, as(who, { json }));
    assert.equal((await pat({ triage: 'immediate', destination: 'viet-duc' }, 'manager')).status, 403);
    const e = await pat({ triage: 'red', destination: 'nowhere', unit: 'X 1' });
    assert.equal(e.status, 422);
    assert.equal((await pat({ triage: 'immediate', destination: 'no-such-hospital' })).json.errors[0].field, 'destination');
    assert.equal((await pat({ triage: 'immediate', destination: 'viet-duc', unit: '115-HK-01' })).status, 201);
    assert.equal((await pat({ triage: 'minor', destination: 'bach-mai' })).status, 201);
    const v2 = (await stack.call('GET', `/api/v1/mci/${id}`, as('disp'))).json;
    assert.deepEqual(v2.sent, { immediate: 1, delayed: 0, minor: 1 });
    assert.equal(v2.patients.length, 2);
    assert.deepEqual([v2.patients[0].destination, v2.patients[0].unit, v2.patients[1].unit], ['viet-duc', '115-HK-01', null]);
    assert.equal(v2.hospitals.find((y) => y.id === 'viet-duc').sent.immediate, 1);

    // close: gone from the list, still readable, no more answers
    assert.equal((await stack.call('POST', `/api/v1/mci/${id}/close`, as('disp'))).status, 200);
    const open = (await stack.call('GET', '/api/v1/mci', as('disp'))).json.mcis.map((m) => m.id);
    assert.ok(!open.includes(id), `${id} among ${open.join()}`);
    assert.equal((await stack.call('GET', `/api/v1/mci/${id}`, as('disp'))).json.status, 'closed');
    const rows = () => stack.redis('XLEN', `${stack.prefix}audit`);
    const before = rows();
    assert.equal((await put('manager', 'bach-mai', { immediate: 1, delayed: 1, minor: 1 })).status, 404);
    assert.equal(rows(), before, 'a refused write leaves no audit row');
    assert.equal((await stack.call('GET', '/api/v1/mci/MCI-1', as('disp'))).status, 404);
    assert.equal((await stack.call('GET', '/api/v1/mci/../tokens', as('disp'))).status, 404);
    // audited
    const audit = (await stack.call('GET', `/api/v1/audit?actor=${t.disp.id}&limit=50`, as('disp'))).status;
    assert.equal(audit, 403); // the audit is for admins; check the stream itself
    const raw = stack.redis('XREVRANGE', `${stack.prefix}audit`, '+', '-', 'COUNT', '20');
    for (const a of ['declare', 'answer', 'patient', 'close']) assert.match(raw, new RegExp(`mci[\\s\\S]*${id}[\\s\\S]*${a}`));
  }));

  test('at most 20 open at once', stack.guard(async () => {
    const decl = { lat: 21.03, lon: 105.85, expected: { minor: 1 } };
    const codes = [];
    for (let i = 0; i < 21; i++) {
      const r = await stack.call('POST', '/api/v1/mci', as('disp', { json: decl }));
      codes.push(r.status);
      if (r.status === 409) assert.equal(r.json.error, 'too_many_mcis');
      await pastMs(); // ids are the server's millisecond: the next one is a later one
    }
    assert.deepEqual(codes, [...Array(20).fill(201), 409]);
    assert.equal(Number(stack.redis('SCARD', `${stack.prefix}mcis`)), 20);
  }));
});
