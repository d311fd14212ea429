'use strict';
// bp-sim against the real stack: every line it sends (hospitals, ambulances,
// the CAD's incidents with a mass-casualty burst) is answered ok, the
// dispatcher sees its open incidents with recommendations while it runs,
// its alerts open as a handful of groups, and a stopped simulator leaves
// no incident open.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Stack, waitFor, BUILD, ROOT } = require('../lib/stack');

const MCI = { lat: 20.995, lon: 105.8412 }; // Giai Phong road, south of Bach Mai

describe('bp-sim against a collector', () => {
  const stack = new Stack();
  let sim;
  let exited;
  const log = () => fs.readFileSync(path.join(stack.dir, 'sim.log'), 'utf8');

  before(async () => {
    await stack.start();
    const out = fs.openSync(path.join(stack.dir, 'sim.log'), 'a');
    sim = spawn(path.join(BUILD, 'sim', 'bp-sim'),
      ['--seed', '7', '--speed', '20', '--rate', '20', '--mci', '2',
        '--mci-at', `${MCI.lat},${MCI.lon}`, '--duration', '12'],
      { cwd: ROOT, env: stack.env(), stdio: ['ignore', out, out] });
    fs.closeSync(out);
    exited = new Promise((resolve) => sim.on('exit', (code, signal) => resolve({ code, signal })));
  });
  after(async () => {
    if (sim && sim.exitCode === null) sim.kill('SIGKILL');
    await stack.stop();
  });

  test('incidents open with recommendations while it runs, burst included', stack.guard(async () => {
    const list = await waitFor(async () => {
      const r = await stack.get('/api/v1/incidents');
      if (r.status !== 200) return false;
      const burst = r.json.filter((i) => i.category === 'trauma' && Math.abs(i.lat - MCI.lat) < 0.003 &&
        Math.abs(i.lon - MCI.lon) < 0.003);
      return burst.length >= 10 ? r.json : false;
    }, { timeout: 10000, interval: 200, what: 'the burst among the open incidents' });
    for (const inc of list) {
      assert.equal(inc.source, 'cad-115');
      assert.ok(inc.priority >= 1 && inc.priority <= 3, JSON.stringify(inc));
      assert.ok(Array.isArray(inc.recommend) && inc.recommend.length > 0, JSON.stringify(inc));
    }
    assert.ok(list.some((i) => i.unit), `some incident has a unit: ${JSON.stringify(list.map((i) => [i.id, i.unit]))}`);
  }));

  test('the alerts of the demo open as a handful of groups, not one per hospital (issue 14)', stack.guard(async () => {
    // the first reports of every hospital come together: level 4 and the
    // diversions are each one alert with the list inside
    const seen = await waitFor(async () => {
      const r = await stack.get('/api/v1/alerts');
      const level4 = r.status === 200 && r.json.alerts.filter((a) => a.rule === 'level4');
      return level4 && level4.length && level4.reduce((n, a) => n + a.count, 0) >= 3 ? r.json.alerts : false;
    }, { timeout: 10000, interval: 200, what: 'level 4 alerts' });
    const shape = seen.map((a) => `${a.id}(${a.count})`).join(' ');
    const members = seen.reduce((n, a) => n + a.count, 0);
    assert.ok(seen.length <= 8, `a handful of alerts, not ${seen.length}: ${shape}`);
    assert.ok(members > seen.length, `some alert holds several: ${shape}`);
    assert.ok(seen.some((a) => a.rule === 'level4' && a.group && a.count >= 3), `a level 4 group: ${shape}`);
  }));

  test('every line answered ok; stopping closes its incidents', stack.guard(async () => {
    const { code } = await exited;
    const text = log();
    assert.equal(code, 0, text.split('\n').slice(-20).join('\n'));
    const done = text.match(/done: sent (\d+) .*? ok (\d+) dup (\d+) errors (\d+)/);
    assert.ok(done, 'a final status line');
    const [sent, ok, dup, errors] = done.slice(1).map(Number);
    assert.equal(errors, 0);
    assert.equal(ok + dup, sent, done[0]);
    assert.ok(sent > 200, done[0]);
    // the closes are committed when bp-sim exits; the server applies them
    // from the stream a moment later
    let r;
    await waitFor(async () => {
      r = await stack.get('/api/v1/incidents');
      return r.status === 200 && r.json.length === 0;
    }, { timeout: 5000, interval: 100, what: 'no incident left open' }).catch(() => {});
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, [], 'no incident left open');
    assert.deepEqual(stack.sanitizerReports(), []);
    // the CAD's lines reached the stream: creates, updates and closes
    const events = stack.redis('XRANGE', 'bp:stream', '-', '+');
    for (const action of ['create', 'update', 'close']) {
      assert.ok(events.includes(`"action":"${action}"`), `an incident ${action} in the stream`);
    }
  }));
});
