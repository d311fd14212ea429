'use strict';
// The run command (scripts/run) as a person uses it, with the binaries of
// the build under test and its own ports and data directory: the sign-in
// links it prints work the moment they are printed; Ctrl-C (SIGINT to the
// whole process group) and SIGTERM to the script stop everything in order —
// the simulator first, its open 115 calls closed and acknowledged — and say
// "stopped", never "exited unexpectedly"; a program that really dies is
// reported with the end of its log and the rest are stopped.

const { describe, test, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const net = require('node:net');
const path = require('node:path');
const { waitFor, freePort, httpRequest, ROOT, BUILD } = require('../lib/stack');

const SANITIZER = /ERROR: (Address|Leak|Memory)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer/;

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return false;
  }
}

// One scripts/run in a process group of its own (as a terminal would start
// it), with its output collected.
class Run {
  async start(simArgs = '--incident-scale 50') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-run-'));
    this.ports = { redis: await freePort(), collector: await freePort(), collectorHttp: await freePort(), server: await freePort() };
    this.out = '';
    this.err = '';
    const env = {
      ...process.env, BP_BUILD_DIR: BUILD, BP_RUN_DIR: this.dir, BP_SIM_ARGS: simArgs,
      BP_REDIS_PORT: String(this.ports.redis), BP_COLLECTOR_PORT: String(this.ports.collector),
      BP_COLLECTOR_HTTP_PORT: String(this.ports.collectorHttp),
      BP_SERVER_PORT: String(this.ports.server),
    };
    this.child = spawn('sh', [path.join(ROOT, 'scripts', 'run')], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d) => (this.out += d));
    this.child.stderr.on('data', (d) => (this.err += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    await waitFor(() => this.out.includes('Logs:') || this.child.exitCode !== null,
      { timeout: 120000, interval: 50, what: 'the run command to print its links' });
    assert.equal(this.child.exitCode, null, `the run command ended early:\n${this.out}\n${this.err}`);
    return this;
  }

  // { role, token } of each printed sign-in link
  links() {
    return [...this.out.matchAll(/^ {2}(\w+) +http:\/\/localhost:\d+\/signin#token=(bp_[A-Za-z0-9_-]+)&next=\S+$/gm)]
      .map((m) => ({ role: m[1], token: m[2] }));
  }

  pid(name) {
    return Number(fs.readFileSync(path.join(this.dir, `${name}.pid`), 'utf8'));
  }

  log(name) {
    return fs.readFileSync(path.join(this.dir, 'log', `${name}.log`), 'utf8');
  }

  call(p, token) {
    return httpRequest(this.ports.server, 'GET', p, undefined, token ? { Authorization: `Bearer ${token}` } : {});
  }

  // kills whatever is left (after a failed test)
  cleanup() {
    if (this.child && this.child.exitCode === null) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch (e) { /* gone */ }
    }
    for (const name of ['sim', 'collector', 'server', 'redis']) {
      try {
        process.kill(this.pid(name), 'SIGKILL');
      } catch (e) { /* gone or never started */ }
    }
  }

  async allStopped() {
    for (const [name, port] of Object.entries(this.ports)) assert.equal(await portOpen(port), false, `${name} still listening on ${port}`);
    for (const name of ['sim', 'collector', 'server', 'redis']) {
      assert.equal(fs.existsSync(path.join(this.dir, `${name}.pid`)), false, `${name}.pid left behind`);
    }
    for (const name of ['sim', 'collector', 'server']) {
      const bad = this.log(name).split('\n').filter((l) => SANITIZER.test(l));
      assert.deepEqual(bad, [], `${name}.log`);
    }
  }
}

describe('the run command', { timeout: 170000 }, () => {
  const runs = [];
  after(() => {
    for (const r of runs) r.cleanup();
  });
  const run = (args) => {
    const r = new Run();
    runs.push(r);
    return r.start(args);
  };

  test('links work when printed; Ctrl-C stops the simulator first (its calls closed), then the rest', async () => {
    const r = await run();
    const links = r.links();
    assert.deepEqual(links.map((l) => l.role), ['dispatcher', 'wall', 'manager', 'admin'], r.out);
    // at once, no retry: the server already accepts every printed token
    for (const { role, token } of links) {
      const s = await r.call('/api/v1/session', token);
      assert.equal(s.status, 200, `${role}: ${s.body}`);
      assert.equal(s.json.role, role);
    }
    const dispatcher = links[0].token;
    // the simulator has 115 calls open (reported through the collector)
    await waitFor(async () => {
      const inc = await r.call('/api/v1/incidents', dispatcher);
      return inc.status === 200 && Array.isArray(inc.json) && inc.json.length > 0;
    }, { timeout: 30000, what: 'open incidents from the simulator' });
    const pids = Object.fromEntries(['sim', 'collector', 'server', 'redis'].map((n) => [n, r.pid(n)]));

    process.kill(-r.child.pid, 'SIGINT'); // Ctrl-C: the whole process group
    const { code } = await r.exited;
    assert.equal(code, 0, `${r.out}\n${r.err}`);
    assert.match(r.out, /==> stopping[\s\S]*==> stopped/);
    assert.doesNotMatch(r.out + r.err, /unexpectedly/);
    for (const [name, pid] of Object.entries(pids)) assert.equal(alive(pid), false, `${name} (${pid}) still running`);
    await r.allStopped();
    // the simulator closed its open calls and every one was acknowledged
    // before the collector stopped
    const sim = r.log('sim');
    const done = /I sim: done: .*\| in flight (\d+), to resend (\d+) \|.*, (\d+) open/.exec(sim);
    assert.ok(done, `no final status in sim.log:\n${sim}`);
    assert.deepEqual(done.slice(1).map(Number), [0, 0, 0], done[0]);
    assert.doesNotMatch(sim, /unanswered|write to collector failed|cannot connect/, sim);
    const simStop = Date.parse(/^(\S+) I sim: done:/m.exec(sim)[1]);
    const collectorStop = Date.parse(/^(\S+) I collector: signal/m.exec(r.log('collector'))[1]);
    assert.ok(simStop <= collectorStop, `the simulator stopped (${simStop}) before the collector was asked to (${collectorStop})`);
  });

  test('SIGTERM to the script alone stops everything too', async () => {
    const r = await run('--incident-scale 1');
    process.kill(r.child.pid, 'SIGTERM');
    const { code } = await r.exited;
    assert.equal(code, 0, `${r.out}\n${r.err}`);
    assert.match(r.out, /==> stopped/);
    assert.doesNotMatch(r.out + r.err, /unexpectedly/);
    await r.allStopped();
  });

  test('a program that dies is reported with the end of its log, and the rest are stopped', async () => {
    const r = await run('--incident-scale 1');
    process.kill(r.pid('server'), 'SIGKILL');
    const { code } = await r.exited;
    assert.equal(code, 1, `${r.out}\n${r.err}`);
    assert.match(r.err, /^server exited unexpectedly; the end of .*server\.log:$/m, r.err);
    // the server's own lines (which ones depends on how long it ran: its
    // Redis connections, requests)
    assert.match(r.err, /^ {2}\| \S+ I server: /m, r.err);
    assert.match(r.out, /==> stopped/);
    await r.allStopped();
  });
});
