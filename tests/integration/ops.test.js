'use strict';
// What an operator runs the programs with (issue 11): the collector's own
// health and metrics listener; /metrics of both programs as Prometheus
// text that promtool accepts, with request histograms by route and status,
// process_* and build_info, and domain gauges; JSON logs with one access
// line per request and never a token; secrets from files; and the systemd
// units (systemd-analyze verify) with READY, WATCHDOG and STOPPING sent
// from the programs' loops.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Stack, waitFor, bedsMsg, httpRequest, ROOT, BUILD } = require('../lib/stack');

const WAIT = { timeout: 20000 };
const VERSION = /project\(bedpulse VERSION (\S+)/.exec(fs.readFileSync(path.join(ROOT, 'CMakeLists.txt'), 'utf8'))[1];

function metric(text, name, labels = '') {
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${esc(name)}${labels ? `\\{${esc(labels)}\\}` : ''} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function promtool(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.error, undefined, `promtool: ${r.error && r.error.message} (Debian package prometheus)`);
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

describe('collector health and metrics, server metrics', () => {
  // one polled source (issue 13's pollers) whose server is not there, so
  // the collector exports the poll series the Grafana dashboard asks for
  const sourcesFile = path.join(fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'bp-ops-')), 'sources.json');
  const stack = new Stack({ env: { BP_COLLECTOR_SOURCES: sourcesFile } });
  let feed;
  const chttp = (p) => httpRequest(stack.collectorHttpPort, 'GET', p);
  before(stack.guard(async () => {
    fs.writeFileSync(sourcesFile, JSON.stringify({ sources: [
      { id: 'gone', url: 'http://127.0.0.1:1/have.xml', format: 'have', interval_s: 1, hospitals: '*' }] }));
    await stack.start();
    feed = await stack.feed();
  }));
  after(async () => {
    if (feed) feed.destroy();
    await stack.stop();
  });

  test('the collector answers /healthz, /readyz (503 while Redis is away) and /metrics', stack.guard(async () => {
    assert.equal((await chttp('/healthz')).json.status, 'ok');
    const ready = await chttp('/readyz');
    assert.equal(ready.status, 200, ready.body);
    assert.equal(ready.json.ready, true);
    assert.equal((await feed.send(bedsMsg({ source: 'ops', seq: 1 }))).ok, true);
    assert.equal((await feed.send(bedsMsg({ source: 'ops', seq: 1 }))).duplicate, true);
    assert.equal((await feed.sendRaw('{"type":"beds"')).error, 'bad_json');
    assert.equal((await feed.send(bedsMsg({ source: 'ops', seq: 2, hospital: 'nowhere' }))).error, 'unknown_hospital');
    const m = (await chttp('/metrics')).body;
    assert.equal(metric(m, 'bedpulse_feed_lines_total'), 4, m);
    assert.equal(metric(m, 'bedpulse_feed_acknowledged_total', 'kind="applied"'), 1);
    assert.equal(metric(m, 'bedpulse_feed_acknowledged_total', 'kind="duplicate"'), 1);
    assert.equal(metric(m, 'bedpulse_feed_errors_total', 'code="bad_json"'), 1);
    assert.equal(metric(m, 'bedpulse_feed_errors_total', 'code="unknown_hospital"'), 1);
    assert.equal(metric(m, 'bedpulse_feed_connections'), 1);
    assert.equal(metric(m, 'bedpulse_feed_in_flight'), 0);
    assert.equal(metric(m, 'bedpulse_feed_apply_seconds_count'), 2);
    assert.equal(metric(m, 'bedpulse_feed_apply_seconds_bucket', 'le="+Inf"'), 2);
    assert.equal(metric(m, 'bedpulse_ready'), 1);
    assert.equal(metric(m, 'bedpulse_build_info', `program="collector",version="${VERSION}",commit="${/commit="([^"]+)"/.exec(m)[1]}"`), 1);
    assert.ok(metric(m, 'process_resident_memory_bytes') > 0);
    assert.ok(metric(m, 'process_open_fds') > 0);
    const check = promtool(m);
    assert.deepEqual(check, { status: 0, out: '' }, 'promtool check metrics (collector)');
    // Redis away: not ready; back: ready
    await stack.killRedis();
    await waitFor(async () => (await chttp('/readyz')).status === 503, { ...WAIT, what: 'collector /readyz 503' });
    assert.equal((await chttp('/readyz')).json.error, 'not_ready');
    assert.equal((await chttp('/healthz')).status, 200);
    assert.equal((await chttp('/nope')).status, 404);
    await stack.startRedis();
    await waitFor(async () => (await chttp('/readyz')).status === 200, { ...WAIT, what: 'collector /readyz 200' });
  }));

  test('server /metrics: requests by route and status, process, build, domain gauges; promtool accepts it', stack.guard(async () => {
    await stack.get('/api/v1/summary');
    await stack.get('/api/v1/summary');
    await stack.get('/api/v1/hospitals/bach-mai');
    await stack.get('/api/v1/hospitals/nowhere');
    await stack.get('/api/v1/no-such-thing');
    const m = (await stack.get('/metrics')).body;
    const h = 'bedpulse_http_request_duration_seconds';
    assert.equal(metric(m, `${h}_count`, 'route="/api/v1/summary",status="200"'), 2, m);
    assert.equal(metric(m, `${h}_count`, 'route="/api/v1/hospitals/{id}",status="200"'), 1);
    assert.equal(metric(m, `${h}_count`, 'route="/api/v1/hospitals/{id}",status="404"'), 1);
    assert.equal(metric(m, `${h}_count`, 'route="/api/other",status="404"'), 1);
    assert.equal(metric(m, `${h}_bucket`, 'route="/api/v1/summary",status="200",le="+Inf"'), 2);
    assert.ok(metric(m, 'process_cpu_seconds_total') >= 0);
    assert.ok(metric(m, 'process_start_time_seconds') > 1.7e9);
    assert.match(m, new RegExp(`^bedpulse_build_info\\{program="server",version="${VERSION.replace(/\./g, '\\.')}",commit="[0-9a-f]+(-dirty)?"\\} 1$`, 'm'));
    // domain gauges: every hospital counted once by freshness; one reported
    const fresh = ['fresh', 'late', 'stale', 'never'].map((f) => metric(m, 'bedpulse_hospitals', `freshness="${f}"`));
    assert.equal(fresh.reduce((a, b) => a + b, 0), 88, fresh.join());
    assert.ok(fresh[0] >= 1, 'bach-mai reported a moment ago');
    assert.ok(metric(m, 'bedpulse_oldest_report_age_seconds') >= 0);
    assert.ok(metric(m, 'bedpulse_alerts_open') >= 0);
    assert.equal(metric(m, 'bedpulse_incidents_open'), 0);
    assert.deepEqual(promtool(m), { status: 0, out: '' }, 'promtool check metrics (server)');
  }));

  test('the Grafana dashboard (docker/grafana) asks only for metrics the programs export, in queries promtool accepts', stack.guard(async () => {
    const dash = JSON.parse(fs.readFileSync(path.join(ROOT, 'docker', 'grafana', 'bedpulse.json'), 'utf8'));
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
    assert.ok(exprs.length >= 15, `${exprs.length} queries`);
    // the poll series appear once the source has been tried
    await waitFor(async () => /^bedpulse_poll_total\{source="gone"/m.test((await chttp('/metrics')).body), { what: 'poll series' });
    // every series the programs export, with the labels each carries
    const exported = new Map();
    for (const text of [(await stack.get('/metrics')).body, (await chttp('/metrics')).body]) {
      for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        const names = type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name];
        for (const n of names) if (!exported.has(n)) exported.set(n, new Set(['job', 'instance']));
      }
      for (const [, name, labels] of text.matchAll(/^([a-z_]+)\{([^}]*)\}/gm)) {
        for (const [, l] of labels.matchAll(/([a-z_]+)="/g)) if (exported.has(name)) exported.get(name).add(l);
      }
    }
    const unknown = [];
    for (const e of exprs) {
      for (const [name] of e.matchAll(/\b(?:bedpulse|process)_[a-z_]+/g)) {
        if (!exported.has(name)) { unknown.push(`${name} in ${e}`); continue; }
        // labels the query groups by must be on the series
        for (const [, by] of e.matchAll(/by \(([^)]*)\)/g)) {
          for (const l of by.split(',').map((x) => x.trim())) {
            if (!exported.get(name).has(l)) unknown.push(`label ${l} of ${name} in ${e}`);
          }
        }
      }
    }
    assert.deepEqual(unknown, [], 'queries on series or labels nobody exports');
    // promtool parses each query (as a recording rule) and the scrape config
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'bp-grafana-'));
    const rules = ['groups:', '  - name: dashboard', '    rules:',
      ...exprs.flatMap((e, i) => [`      - record: bedpulse:dashboard_${i}`, `        expr: ${JSON.stringify(e)}`])];
    fs.writeFileSync(path.join(dir, 'rules.yml'), `${rules.join('\n')}\n`);
    const r = spawnSync('promtool', ['check', 'rules', path.join(dir, 'rules.yml')], { encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool check rules: ${r.stdout}${r.stderr}`);
    const c = spawnSync('promtool', ['check', 'config', '--syntax-only', path.join(ROOT, 'docker', 'grafana', 'prometheus.yml')], { encoding: 'utf8' });
    assert.equal(c.status, 0, `promtool check config: ${c.stdout}${c.stderr}`);
    fs.rmSync(dir, { recursive: true });
  }));
});

describe('JSON logs, access lines, secrets from files', () => {
  const secret = 'f1le-s3cret-pass';
  const stack = new Stack({ env: { BP_LOG_FORMAT: 'json', BP_AUTH_ANONYMOUS: 'none' }, redisArgs: ['--requirepass', secret], redisPassword: secret });
  before(stack.guard(async () => {
    const file = path.join(stack.dir, 'redis.password');
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    stack.opts.env.BP_REDIS_PASSWORD_FILE = file;
    await stack.start();
  }));
  after(() => stack.stop());

  test('a Redis password read from BP_REDIS_PASSWORD_FILE is used by every program and never logged', stack.guard(async () => {
    assert.equal((await stack.get('/readyz')).status, 200);
    assert.equal((await httpRequest(stack.collectorHttpPort, 'GET', '/readyz')).status, 200);
    const admin = stack.createToken('admin'); // bp-admin reads the file too
    await stack.waitForToken(admin.token);
    assert.doesNotMatch(stack.logText(), new RegExp(secret));
    // given both ways, a program refuses to start and says why
    const r = spawnSync(path.join(BUILD, 'collector', 'bp-collector'), [], {
      cwd: ROOT, encoding: 'utf8', timeout: 30000,
      env: stack.env({ BP_REDIS_PASSWORD: 'x', BP_COLLECTOR_PORT: '0', BP_COLLECTOR_HTTP_PORT: '0' }),
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /set redis\.password or redis\.password_file, not both/);
    const missing = spawnSync(path.join(BUILD, 'server', 'bp-server'), [], {
      cwd: ROOT, encoding: 'utf8', timeout: 30000,
      env: stack.env({ BP_REDIS_PASSWORD_FILE: path.join(stack.dir, 'nope'), BP_SERVER_PORT: '0' }),
    });
    assert.equal(missing.status, 1, missing.stderr);
    assert.match(missing.stderr, /redis\.password_file: cannot read .*nope/);
  }));

  test('log.format json: every line is one object; one access line per request, with no token', stack.guard(async () => {
    const m = stack.createToken('manager', { hospitals: 'bach-mai' });
    await stack.waitForToken(m.token);
    await stack.call('GET', '/api/v1/hospitals/bach-mai', { token: m.token });
    await stack.call('GET', '/api/v1/summary', { token: 'bp_not-a-token' });
    const s = await stack.call('POST', '/api/v1/session', { json: { token: m.token } });
    const cookie = /bp_session=([^;]+)/.exec(s.headers['set-cookie'][0])[1];
    await stack.call('GET', '/api/v1/session', { cookie });
    // the access lines are written when the answers are: wait for the last
    const lines = () => fs.readFileSync(path.join(stack.dir, 'server.log'), 'utf8').split('\n').filter(Boolean);
    await waitFor(() => lines().filter((l) => l.includes('"route":"/api/v1/session"')).length >= 2, { ...WAIT, what: 'the access lines' });
    for (const name of ['server', 'collector']) {
      for (const line of fs.readFileSync(path.join(stack.dir, `${name}.log`), 'utf8').split('\n').filter(Boolean)) {
        let o;
        assert.doesNotThrow(() => (o = JSON.parse(line)), `${name}: not JSON: ${line}`);
        assert.equal(o.program, name, line);
        assert.match(o.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, line);
        assert.ok(['debug', 'info', 'warn', 'error'].includes(o.level), line);
        assert.equal(typeof o.msg, 'string', line);
      }
    }
    const access = lines().map((l) => JSON.parse(l)).filter((o) => o.msg === 'http');
    const hosp = access.find((o) => o.route === '/api/v1/hospitals/{id}');
    assert.deepEqual({ method: hosp.method, status: hosp.status, role: hosp.role }, { method: 'GET', status: 200, role: 'manager' });
    assert.equal(typeof hosp.ms, 'number');
    assert.equal(access.find((o) => o.route === '/api/v1/summary').status, 401);
    assert.equal(access.find((o) => o.route === '/api/v1/summary').role, 'invalid');
    assert.ok(access.some((o) => o.route === '/api/v1/session' && o.method === 'POST' && o.status === 200));
    assert.ok(access.some((o) => o.route === '/readyz'));
    const all = stack.logText();
    for (const secretText of [m.token, cookie, 'bp_not-a-token']) assert.ok(!all.includes(secretText), 'a credential was logged');
  }));
});

describe('systemd', () => {
  const stack = new Stack();
  const units = ['bp-collector.service', 'bp-server@.service', 'bp-sim.service'];
  after(() => stack.stop());

  test('the units pass systemd-analyze verify', () => {
    const dir = path.join(stack.dir, 'units');
    fs.mkdirSync(dir);
    for (const u of units) {
      // the shipped paths, pointed at this build's binaries
      const text = fs.readFileSync(path.join(ROOT, 'config', 'systemd', u), 'utf8')
        .replace('/usr/local/bin/bp-collector', path.join(BUILD, 'collector', 'bp-collector'))
        .replace('/usr/local/bin/bp-server', path.join(BUILD, 'server', 'bp-server'))
        .replace('/usr/local/bin/bp-sim', path.join(BUILD, 'sim', 'bp-sim'));
      assert.match(text, /^Type=notify$/m, u);
      assert.match(text, /^WatchdogSec=/m, u);
      for (const h of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'DynamicUser=yes']) assert.ok(text.includes(h), `${u}: ${h}`);
      fs.writeFileSync(path.join(dir, u), text);
    }
    const r = spawnSync('systemd-analyze', ['verify', ...units.map((u) => path.join(dir, u.replace('@.', '@8081.')))], { encoding: 'utf8' });
    assert.equal(r.error, undefined, 'systemd-analyze (Debian package systemd)');
    assert.deepEqual({ status: r.status, out: `${r.stdout}${r.stderr}`.trim() }, { status: 0, out: '' });
  });

  test('READY, WATCHDOG and STOPPING reach the notify socket from the collector and the server', stack.guard(async () => {
    const sock = path.join(stack.dir, 'notify.sock');
    const sink = spawn(path.join(BUILD, 'tests', 'tools', 'notify_sink'), [sock]);
    let got = '';
    sink.stdout.on('data', (d) => (got += d));
    try {
      await waitFor(() => got.includes('listening'), { what: 'the notify socket' });
      const env = { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '300000' };
      await stack.startRedis();
      await stack.startCollector(env);
      await waitFor(() => /^READY=1\|STATUS=feeds on 127\.0\.0\.1:\d+, health on port \d+$/m.test(got), { ...WAIT, what: `READY from the collector (got ${got})` });
      await waitFor(() => (got.match(/^WATCHDOG=1$/gm) || []).length >= 2, { ...WAIT, what: 'two watchdog pets' });
      await stack.stopProc('collector');
      await waitFor(() => /^STOPPING=1\|STATUS=stopping$/m.test(got), { ...WAIT, what: 'STOPPING from the collector' });
      got = '';
      await stack.startServer(env);
      await waitFor(() => /^READY=1\|STATUS=serving on 127\.0\.0\.1:\d+$/m.test(got), { ...WAIT, what: `READY from the server (got ${got})` });
      await waitFor(() => (got.match(/^WATCHDOG=1$/gm) || []).length >= 2, { ...WAIT, what: 'two watchdog pets' });
      await stack.stopProc('server');
      await waitFor(() => /^STOPPING=1/m.test(got), { ...WAIT, what: 'STOPPING from the server' });
      assert.deepEqual(stack.problems(), []);
    } finally {
      sink.kill();
    }
  }));
});
