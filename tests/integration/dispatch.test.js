'use strict';
// 115 dispatch against the real stack: GET /api/v1/recommend ranks hospitals
// from the live figures, and ambulances transporting to a hospital (inbound
// load) change the order. Alerts fire once and clear; alerts that start
// together are one group; a restart (and a second server) raises nothing
// again and keeps acknowledgements; a rule can be muted for a while.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Stack, waitFor, bedsMsg, ambulanceMsg } = require('../lib/stack');

const BACH_MAI = { lat: 21.001, lon: 105.8407 };

describe('where do I send this patient', () => {
  const stack = new Stack();
  let feed;
  let seq = 1;
  before(async () => {
    await stack.start();
    feed = await stack.feed();
  });
  after(async () => {
    if (feed) feed.close();
    await stack.stop();
  });

  const recommend = (q) => stack.get(`/api/v1/recommend?${new URLSearchParams(q)}`);

  test('the top hospital has room; inbound ambulances take it away', stack.guard(async () => {
    // Bach Mai's adult ICU is full; Lao khoa, 300 m away with a stroke unit, has 2 free
    for (const [hospital, beds] of [['bach-mai', { icu_adult: { staffed: 75, occupied: 75, surge24: 0 } }],
      ['lao-khoa-trung-uong', { icu_adult: { staffed: 10, occupied: 8, surge24: 0 } }]]) {
      const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital, beds }));
      assert.equal(r.ok, true, JSON.stringify(r));
    }
    await waitFor(async () => (await stack.get('/api/v1/hospitals/lao-khoa-trung-uong')).json.version >= 1);
    const q = { ...BACH_MAI, category: 'stroke', priority: 1, limit: 10 };
    const r1 = await recommend(q);
    assert.equal(r1.status, 200, r1.body);
    assert.deepEqual(r1.json.query.bed_types, ['icu_adult', 'medical_surgical']);
    assert.ok(r1.json.query.specialties.includes('stroke'), JSON.stringify(r1.json.query));
    const top = r1.json.candidates[0];
    assert.equal(top.hospital, 'lao-khoa-trung-uong');
    assert.equal(top.free, 2);
    assert.equal(top.inbound, 0);
    assert.equal(top.rank, 1);
    assert.match(top.reason.en, new RegExp(`^${Math.ceil(top.eta_min)} min · 2 adult ICU free · stroke unit`));
    assert.match(top.reason.vi, /HSTC người lớn trống/);
    const bm = r1.json.candidates.find((c) => c.hospital === 'bach-mai');
    assert.ok(!bm || bm.free <= 0, JSON.stringify(bm));
    // scores only grow down the list
    const scores = r1.json.candidates.map((c) => c.score);
    assert.deepEqual([...scores].sort((a, b) => a - b), scores);

    // two ambulances on their way to Lao khoa take its two beds
    for (const id of ['115-HK-01', '115-HK-02']) {
      const a = await feed.send(ambulanceMsg({ source: 'avl', seq: seq++, id, status: 'transporting', lat: 21.02, lon: 105.85, destination: 'lao-khoa-trung-uong' }));
      assert.equal(a.ok, true, JSON.stringify(a));
    }
    const r2 = await waitFor(async () => {
      const r = await recommend(q);
      return r.json.candidates[0].hospital !== 'lao-khoa-trung-uong' && r;
    }, { what: 'the order to change' });
    const lk = r2.json.candidates.find((c) => c.hospital === 'lao-khoa-trung-uong');
    assert.ok(lk, `still listed, lower: ${r2.json.candidates.map((c) => c.hospital).join()}`);
    assert.equal(lk.inbound, 2);
    assert.equal(lk.free, 0);
    assert.match(lk.reason.en, /no adult ICU free, 2 inbound/);
  }));

  test('handover: inbound, at the door, and the median of finished handovers', stack.guard(async () => {
    const ago = (min) => new Date(Date.now() - min * 60e3).toISOString();
    const amb = async (id, status, at, extra = {}) => {
      const r = await feed.send(ambulanceMsg(Object.assign({ source: 'avl', seq: seq++, id, status, at }, extra)));
      assert.equal(r.ok, true, JSON.stringify(r));
    };
    // HK-05: at Viet Duc's door for 35 min, then free again: one handover
    await amb('115-HK-05', 'transporting', ago(45), { destination: 'viet-duc', lat: 21.02, lon: 105.84 });
    await amb('115-HK-05', 'at_hospital', ago(40));
    await amb('115-HK-05', 'available_radio', ago(5));
    // HK-06 has waited 10 min so far; HK-07 is on its way
    await amb('115-HK-06', 'transporting', ago(15), { destination: 'viet-duc', lat: 21.02, lon: 105.84 });
    await amb('115-HK-06', 'at_hospital', ago(10));
    await amb('115-HK-07', 'transporting', ago(2), { destination: 'viet-duc', lat: 21.03, lon: 105.84 });
    const vd = await waitFor(async () => {
      const r = await stack.get('/api/v1/handover');
      const h = r.json.hospitals.find((x) => x.id === 'viet-duc');
      return h.inbound === 1 && h.waiting === 1 && h.handovers === 1 && h;
    }, { what: 'handover figures of viet-duc' });
    assert.equal(vd.median_min, 35);
    // the one on its way, with its ETA from where it last reported
    assert.equal(vd.inbound_units.length, 1);
    assert.equal(vd.inbound_units[0].id, '115-HK-07');
    assert.ok(vd.inbound_units[0].eta_min > 0 && vd.inbound_units[0].eta_min < 30, JSON.stringify(vd.inbound_units));
    assert.ok(vd.longest_wait_min >= 10 && vd.longest_wait_min < 11, JSON.stringify(vd));
    assert.equal(vd.offload, 'delayed', 'a 35 min median is over the 30 min threshold');
    // it raises Viet Duc's pressure level to at least 3, over REST and the live feed
    const hosp = await waitFor(async () => {
      const h = (await stack.get('/api/v1/hospitals/viet-duc')).json;
      return h.offload === 'delayed' && h;
    }, { what: 'offload on the hospital' });
    assert.ok(hosp.level >= 3, `level ${hosp.level}`);
    const watcher = await stack.live({ type: 'hello' });
    await watcher.waitFor((x) => x.ofType('offload').some((m) => m.delayed.includes('viet-duc')), { what: 'an offload frame' });
    watcher.close();
    const bm = (await stack.get('/api/v1/handover')).json.hospitals.find((x) => x.id === 'bach-mai');
    assert.deepEqual([bm.waiting, bm.handovers, bm.median_min, bm.offload], [0, 0, null, 'normal']);
    // a restarted server knows who is waiting (the state) and, replayed from
    // the stream, the handovers that ended before it started
    await stack.stopProc('server');
    await stack.startServer();
    const after = await waitFor(async () => {
      const h = (await stack.get('/api/v1/handover')).json.hospitals.find((x) => x.id === 'viet-duc');
      return h.handovers === 1 && h;
    }, { what: 'the replayed handover' });
    assert.deepEqual([after.inbound, after.waiting, after.median_min, after.offload], [1, 1, 35, 'delayed']);
    assert.ok(after.longest_wait_min >= 10, JSON.stringify(after));
  }));

  test('alerts fire once, are acknowledged by a named dispatcher, and clear', stack.guard(async () => {
    const disp = stack.createToken('dispatcher', { name: 'Dispatcher Hoa' });
    const wall = stack.createToken('wall');
    await stack.waitForToken(wall.token);
    const alerts = async (token) => (await stack.call('GET', '/api/v1/alerts', { token })).json;
    // a console on the live feed gets the list pushed
    const live = await stack.live({ type: 'hello', token: disp.token });
    const pushed = (pred) => live.waitFor((x) => x.ofType('alerts').some(pred), { what: 'an alerts frame' });
    const until = new Date(Date.now() + 3600e3).toISOString();
    const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'xanh-pon', ed: { status: 'diversion', reason: 'CT down', until } }));
    assert.equal(r.ok, true, JSON.stringify(r));
    const a1 = await waitFor(async () => {
      const a = await alerts(disp.token);
      return a.alerts.find((x) => x.id === 'diversion:xanh-pon') && a;
    }, { what: 'the diversion alert' });
    const al = a1.alerts.find((x) => x.id === 'diversion:xanh-pon');
    assert.equal(al.rule, 'diversion');
    assert.equal(al.ack, null);
    assert.match(al.text.en, /Xanh Pon.*ED on diversion/);
    assert.match(al.text.vi, /cấp cứu chuyển hướng/);
    await pushed((m) => m.alerts.some((x) => x.id === 'diversion:xanh-pon' && x.ack === null));
    // fires once: a second report of the same diversion raises nothing new
    const raised = a1.raised_total;
    const repeat = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'xanh-pon', beds: { icu_adult: { occupied: 3 } } }));
    assert.equal(repeat.ok, true, JSON.stringify(repeat));
    await stack.alertsPast(repeat.offset);
    const a2 = await alerts(disp.token);
    assert.equal(a2.alerts.filter((x) => x.id === 'diversion:xanh-pon').length, 1);
    assert.equal(a2.alerts.find((x) => x.id === 'diversion:xanh-pon').since, al.since);
    // the wall sees it too (its ticker); anonymous dispatchers cannot acknowledge
    const onWall = (await alerts(wall.token)).alerts.map((x) => x.id);
    assert.ok(onWall.includes('diversion:xanh-pon'), `the wall's alerts: ${onWall.join()}`);
    assert.equal((await stack.call('POST', '/api/v1/alerts/diversion:xanh-pon/ack')).status, 401);
    assert.equal((await stack.call('POST', '/api/v1/alerts/diversion:xanh-pon/ack', { token: wall.token })).status, 403);
    assert.equal((await stack.call('POST', '/api/v1/alerts/level4:nowhere/ack', { token: disp.token })).status, 404);
    const ack = await stack.call('POST', '/api/v1/alerts/diversion:xanh-pon/ack', { token: disp.token });
    assert.equal(ack.status, 200, ack.body);
    assert.equal(ack.json.ack.by, disp.id);
    assert.equal(ack.json.ack.name, 'Dispatcher Hoa');
    const shown = (await alerts(wall.token)).alerts.find((x) => x.id === 'diversion:xanh-pon');
    assert.equal(shown.ack.by, disp.id);
    await pushed((m) => m.alerts.some((x) => x.id === 'diversion:xanh-pon' && x.ack && x.ack.by === disp.id));
    assert.match(stack.redis('HGET', `${stack.prefix}alert_acks`, 'diversion:xanh-pon'), new RegExp(`^${disp.id}\\|\\d+$`));
    const audit = stack.redis('XREVRANGE', `${stack.prefix}audit`, '+', '-', 'COUNT', '5');
    assert.match(audit, /alert[\s\S]*diversion:xanh-pon[\s\S]*ack/);
    // the diversion ends: the alert clears and its acknowledgement goes
    await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'xanh-pon', ed: { status: 'normal' } }));
    await waitFor(async () => !(await alerts(disp.token)).alerts.some((x) => x.id === 'diversion:xanh-pon'), { what: 'the alert to clear' });
    const last = () => live.ofType('alerts').at(-1);
    await live.waitFor(() => !last().alerts.some((x) => x.id === 'diversion:xanh-pon'), { what: 'a frame without it' });
    assert.equal(live.gaps, 0);
    live.close();
    await waitFor(() => stack.redis('HEXISTS', `${stack.prefix}alert_acks`, 'diversion:xanh-pon') === '0', { what: 'the ack to go' });
    const raisedNow = (await alerts(disp.token)).raised_total;
    assert.ok(raisedNow >= raised, `raised_total ${raisedNow}, was ${raised}`);
  }));

  test('the level 4, stale feed and handover rules fire once and clear', stack.guard(async () => {
    const ids = async () => (await stack.get('/api/v1/alerts')).json.alerts.map((a) => a.id);
    const until = (pred, what) => waitFor(async () => pred(await ids()), { what, timeout: 6000 });
    // level 4: Thanh Nhan's wards at 120 %
    await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'thanh-nhan', beds: { medical_surgical: { staffed: 100, occupied: 120 } } }));
    await until((a) => a.includes('level4:thanh-nhan'), 'level4 to fire');
    const first = (await stack.get('/api/v1/alerts')).json;
    const raised = first.raised_total;
    const since = first.alerts.find((a) => a.id === 'level4:thanh-nhan').since;
    const more = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'thanh-nhan', beds: { medical_surgical: { occupied: 121 } } }));
    assert.equal(more.ok, true, JSON.stringify(more));
    await stack.alertsPast(more.offset);
    const again = (await stack.get('/api/v1/alerts')).json;
    assert.equal(again.alerts.filter((a) => a.id === 'level4:thanh-nhan').length, 1);
    assert.equal(again.alerts.find((a) => a.id === 'level4:thanh-nhan').since, since, 'fired once: the same alert');
    await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'thanh-nhan', beds: { medical_surgical: { occupied: 50 } } }));
    await until((a) => !a.includes('level4:thanh-nhan'), 'level4 to clear');
    // stale feed: Duc Giang's last report is 40 min old (interval 15 min)
    await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'duc-giang', at: new Date(Date.now() - 40 * 60e3).toISOString(), beds: { icu_adult: { occupied: 5 } } }));
    await until((a) => a.includes('stale_feed:duc-giang'), 'stale_feed to fire');
    await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'duc-giang', beds: { icu_adult: { occupied: 5 } } }));
    await until((a) => !a.includes('stale_feed:duc-giang'), 'stale_feed to clear');
    // handover: Viet Duc's 35 min median (the handover test) is over 30 min
    const active = await ids();
    assert.ok(active.includes('handover:viet-duc'), `active alerts: ${active.join()}`);
    const raisedNow = (await stack.get('/api/v1/alerts')).json.raised_total;
    assert.ok(raisedNow >= raised + 1, `raised_total ${raisedNow}, was ${raised}`);
  }));

  test('alerts that start together are one group; a restart raises nothing again and keeps the acknowledgement', stack.guard(async () => {
    const disp = stack.createToken('dispatcher', { name: 'Dispatcher Hoa' });
    await stack.waitForToken(disp.token);
    const list = async (port) => (await stack.call('GET', '/api/v1/alerts', { token: disp.token, port })).json;
    const three = ['benh-vien-e', 'benh-vien-108', 'huu-nghi'];
    // three hospitals' wards at 130 %, in one write to the collector
    const replies = await feed.sendBatch(three.map((hospital) => bedsMsg({ source: 'his', seq: seq++, hospital, beds: { medical_surgical: { staffed: 100, occupied: 130 } } })));
    for (const r of replies) assert.equal(r.ok, true, JSON.stringify(r));
    const group = await waitFor(async () => {
      const a = (await list()).alerts.find((x) => x.rule === 'level4' && three.every((h) => (x.members || []).some((m) => m.subject === h)));
      return a || false;
    }, { what: 'one level 4 alert holding the three' });
    assert.equal(group.group, true);
    assert.equal(group.count, 3);
    assert.equal(group.subject, 'group');
    assert.equal(group.severity, 'warning');
    assert.equal(group.text.en, '3 hospitals at pressure level 4');
    assert.equal(group.text.vi, '3 bệnh viện ở mức áp lực 4');
    assert.deepEqual(group.members.map((m) => m.value), [4, 4, 4]);
    assert.equal((await list()).alerts.filter((x) => x.rule === 'level4' && (x.members || []).some((m) => three.includes(m.subject))).length, 1,
      'not three alerts');
    const ack = await stack.call('POST', `/api/v1/alerts/${encodeURIComponent(group.id)}/ack`, { token: disp.token });
    assert.equal(ack.status, 200, ack.body);
    const before = await list();
    // a second server shows the same alert, raised at the same moment
    const port2 = await stack.startServer({}, 'server2');
    await stack.waitForToken(disp.token, port2);
    const seen2 = await waitFor(async () => (await list(port2)).alerts.find((x) => x.id === group.id) || false, { what: 'the second server to show it' });
    assert.equal(seen2.since, group.since);
    assert.equal(seen2.ack.by, disp.id);
    // restart: not raised again, still acknowledged, no new raise counted
    await stack.stopProc('server');
    await stack.stopProc('server2');
    await stack.startServer();
    await stack.waitForToken(disp.token);
    const again = await waitFor(async () => (await list()).alerts.find((x) => x.id === group.id) || false, { what: 'the alert after the restart' });
    assert.equal(again.since, group.since);
    assert.equal(again.ack.by, disp.id);
    assert.equal(again.ack.name, 'Dispatcher Hoa');
    // the rules run again after the restart and change nothing
    await waitFor(async () => Number(stack.redis('GET', `${stack.prefix}alerts:ver`)) > 0, { what: 'records' });
    const ver = stack.redis('GET', `${stack.prefix}alerts:ver`);
    await waitFor(async () => (await stack.get('/metrics')).body.includes('bedpulse_alert_records'), { what: 'metrics' });
    const after = await list();
    assert.equal(after.raised_total, before.raised_total, 'nothing raised again');
    assert.equal(stack.redis('GET', `${stack.prefix}alerts:ver`), ver);
    for (const hospital of three) {
      await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital, beds: { medical_surgical: { occupied: 40 } } }));
    }
    await waitFor(async () => !(await list()).alerts.some((x) => x.id === group.id), { what: 'the group to clear' });
    await waitFor(() => stack.redis('HEXISTS', `${stack.prefix}alert_acks`, group.id) === '0', { what: 'its acknowledgement to go' });
  }));

  test('a dispatcher mutes one rule for a chosen time: recorded, shown to all, audited', stack.guard(async () => {
    const disp = stack.createToken('dispatcher', { name: 'Dispatcher Lan' });
    const wall = stack.createToken('wall');
    await stack.waitForToken(wall.token);
    const mute = (json, token) => stack.call('POST', '/api/v1/alerts/mutes', { token, json });
    assert.equal((await mute({ rule: 'diversion', minutes: 30 })).status, 401);
    assert.equal((await mute({ rule: 'diversion', minutes: 30 }, wall.token)).status, 403);
    const bad = await mute({ rule: 'flood', minutes: 721, why: 'x' }, disp.token);
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.json.errors.map((e) => e.field).sort(), ['minutes', 'rule', 'why']);
    assert.equal(stack.redis('HLEN', `${stack.prefix}alert_mutes`), '0');
    const live = await stack.live({ type: 'hello', token: wall.token });
    const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'thanh-nhan', ed: { status: 'diversion', until: new Date(Date.now() + 3600e3).toISOString() } }));
    assert.equal(r.ok, true);
    await waitFor(async () => (await stack.get('/api/v1/alerts')).json.alerts.some((a) => a.id === 'diversion:thanh-nhan'), { what: 'the alert' });
    const m = await mute({ rule: 'diversion', minutes: 30 }, disp.token);
    assert.equal(m.status, 201, m.body);
    assert.equal(m.json.name, 'Dispatcher Lan');
    const until = Date.parse(m.json.until);
    assert.ok(until > Date.now() + 29 * 60e3 && until <= Date.now() + 30 * 60e3 + 1000);
    // shown to everyone, the wall included, over REST and the live feed
    const seen = (await stack.call('GET', '/api/v1/alerts', { token: wall.token })).json;
    assert.deepEqual(seen.mutes.map((x) => [x.rule, x.by, x.name]), [['diversion', disp.id, 'Dispatcher Lan']]);
    assert.equal(seen.alerts.find((a) => a.id === 'diversion:thanh-nhan').muted.by, disp.id);
    await live.waitFor((x) => x.ofType('alerts').some((f) => f.mutes && f.mutes.some((y) => y.rule === 'diversion')), { what: 'the mute pushed' });
    const audit = stack.redis('XREVRANGE', `${stack.prefix}audit`, '+', '-', 'COUNT', '5');
    assert.match(audit, /alert_rule[\s\S]*diversion[\s\S]*mute/);
    // ended early
    const end = await stack.call('DELETE', '/api/v1/alerts/mutes/diversion', { token: disp.token });
    assert.equal(end.status, 200, end.body);
    assert.equal((await stack.call('DELETE', '/api/v1/alerts/mutes/diversion', { token: disp.token })).status, 404);
    assert.equal((await stack.call('DELETE', '/api/v1/alerts/mutes/flood', { token: disp.token })).status, 404);
    await waitFor(async () => (await stack.get('/api/v1/alerts')).json.mutes.length === 0, { what: 'no mute' });
    assert.equal((await stack.get('/api/v1/alerts')).json.alerts.find((a) => a.id === 'diversion:thanh-nhan').muted, null);
    assert.match(stack.redis('XREVRANGE', `${stack.prefix}audit`, '+', '-', 'COUNT', '3'), /unmute/);
    live.close();
    await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital: 'thanh-nhan', ed: { status: 'normal' } }));
  }));

  test('bad questions get 400 naming the argument; only dispatchers may ask', stack.guard(async () => {
    for (const [q, word] of [[{ lon: 105.8 }, 'lat'], [{ lat: 91, lon: 105.8 }, 'lat'], [{ lat: 21, lon: 'x' }, 'lon'],
      [{ lat: 21, lon: 105.8, category: 'flu' }, 'category'], [{ lat: 21, lon: 105.8, priority: 4 }, 'priority'],
      [{ lat: 21, lon: 105.8, limit: 0 }, 'limit'], [{ lat: 21, lon: 105.8, priority: 1.5 }, 'priority']]) {
      const r = await recommend(q);
      assert.equal(r.status, 400, JSON.stringify(q));
      assert.match(r.json.message, new RegExp(word));
    }
    const wall = stack.createToken('wall');
    await stack.waitForToken(wall.token);
    const r = await stack.call('GET', `/api/v1/recommend?lat=21&lon=105.8`, { token: wall.token });
    assert.equal(r.status, 403);
    assert.equal((await stack.call('GET', '/api/v1/handover', { token: wall.token })).status, 403);
  }));
});
