'use strict';
// A small run of the benchmark tools inside the test suite (issue 3): a few
// hundred WebSocket clients (bench/bp-loadgen) follow real feed traffic
// (bench/bp-driver -> collector -> Redis -> server) and every client must
// see every event exactly once, in order; then all of them drop and
// reconnect at once and must all resume. Timings are printed, never
// asserted: the machine is shared.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { Stack, BUILD, ROOT } = require('../lib/stack');

const CLIENTS = 300;

function runTool(bin, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(BUILD, 'bench', bin), args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('load: hundreds of dashboards on real traffic', () => {
  const stack = new Stack();
  before(stack.guard(() => stack.start()));
  after(async () => {
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
    await stack.stop();
  });

  test(`${CLIENTS} clients: no loss, no reordering, all resume after a reconnect storm`, stack.guard(async () => {
    const env = stack.env();
    const driver = runTool('bp-driver', ['--port', String(stack.collectorPort), '--rate', '100', '--duration', '8', '--json'], env);
    const load = await runTool('bp-loadgen', ['--url', `ws://127.0.0.1:${stack.serverPort}/ws`, '--clients', String(CLIENTS),
      '--duration', '4', '--storm', '--json', '--quiet'], env);
    const r = JSON.parse(load.out.trim().split('\n').pop());
    process.stdout.write(`# loadgen: ${JSON.stringify({ deliveries_per_s: r.deliveries_per_s, lat_us: r.lat_us, storm_ms: r.storm && r.storm.ms_p100 })}\n`);
    assert.equal(r.connected, CLIENTS, 'every client connected');
    assert.equal(r.closed_by_server, 0, 'nobody was closed by the server');
    assert.ok(r.events > CLIENTS * 100, `events flowed (${r.events})`);
    assert.equal(r.lost, 0, 'no event lost');
    assert.equal(r.duplicates, 0, 'no event twice or out of order');
    assert.equal(r.storm.done, CLIENTS, 'every client came back after the storm');
    assert.equal(r.storm.resumed, CLIENTS, 'and resumed from its offset (no snapshot needed)');
    assert.equal(r.storm.lost, 0);
    assert.equal(r.storm.duplicates, 0);
    assert.equal(load.code, 0, load.err.slice(-2000));
    const d = await driver;
    const dj = JSON.parse(d.out.trim().split('\n').pop());
    assert.equal(dj.errors, 0, 'the feed had no error replies');
  }));
});
