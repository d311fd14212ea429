'use strict';
// The container deployment end to end (run through docker/test, which
// installs podman and makes the base image first). Every check prints
// "ok - ..." or "FAIL - ..."; the last line is "N passed, N failed".
//
// It builds the images (layer cache: only what changed), brings
// docker/compose.yaml up with podman-compose under the project name
// bpe2e<pid> and free host ports, and checks from this host, through
// nginx, what a user and a feed would see. Nothing here sleeps to wait:
// every wait polls an observable state against a deadline. Tear-down
// (also on Ctrl-C) removes the containers, volumes and network.
const { spawnSync, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const https = require('node:https');
const { FeedClient, LiveClient, waitFor, freePort, isoNow } = require('../tests/lib/stack');

const ROOT = path.resolve(__dirname, '..');
const P = `bpe2e${process.pid}`;
const RUNTIME = ['--runtime', '/usr/sbin/runc'];
const BASE = 'localhost/debian:bookworm-slim';
const DIR = process.env.BP_E2E_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'bp-e2e-'));
const LOG = path.join(DIR, 'e2e.log');
const COMPOSE = fs.readFileSync(path.join(ROOT, 'docker', 'compose.yaml'), 'utf8');
// the programs follow a Redis failover once they find the master through Sentinel
const SENTINEL = /^\s*BP_REDIS_SENTINELS:/m.test(COMPOSE);
const MASTER_NAME = 'bedpulse';

const started = Date.now();
const results = { passed: 0, failed: 0, skipped: 0 };
const log = (text) => fs.appendFileSync(LOG, `${text}\n`);
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

// A command, synchronously; its output goes to the log. Throws on failure.
function run(cmd, args, { env, timeout = 900000, quiet = false } = {}) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, env: env || process.env, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  if (!quiet) log(`${r.stdout || ''}${r.stderr || ''}`);
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} … exited ${r.status}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

// A command without blocking the event loop (WebSocket clients keep running).
function runAsync(cmd, args) {
  log(`$ ${cmd} ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      log(`${stdout}${stderr}`);
      if (err) reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')}: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

const feeders = []; // stopped after each check, whatever happened

async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    for (const f of feeders.splice(0)) await f.stop();
    results.passed++;
    console.log(`ok - ${name} (${secs(Date.now() - t0)})`);
    return true;
  } catch (e) {
    for (const f of feeders.splice(0)) f.stopped = true;
    results.failed++;
    console.log(`FAIL - ${name} (${secs(Date.now() - t0)}): ${e.message}`);
    log(`FAIL ${name}: ${e.stack}`);
    dumpLogs();
    return false;
  }
}

// After a failed check: every container's state and the end of its log,
// into the log file (the containers are gone after the tear-down).
function dumpLogs() {
  if (!upDone) return;
  const ps = spawnSync('podman', ['ps', '-a', '--filter', `label=io.podman.compose.project=${P}`,
    '--format', '{{.Names}} {{.Status}}'], { encoding: 'utf8' });
  log(`----- containers -----\n${ps.stdout}`);
  for (const name of ps.stdout.split('\n').map((l) => l.split(' ')[0]).filter(Boolean)) {
    const r = spawnSync('podman', ['logs', '--tail', '60', name], { encoding: 'utf8', maxBuffer: 16 << 20 });
    log(`----- ${name} (last 60 lines) -----\n${r.stdout}${r.stderr}`);
  }
}

function skip(name, why) {
  results.skipped++;
  console.log(`skip - ${name}: ${why}`);
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

const ctr = (service) => `${P}_${service}_1`;
let env;
let httpsPort;
let feedPort;
let caPem;
let links = {};
let upDone = false;

function compose(args, opts = {}) {
  return run('podman-compose', [`--podman-args=${RUNTIME.join(' ')}`, '-p', P, '-f', 'docker/compose.yaml', ...args], { env, ...opts });
}

// The web build's `npm ci` may reach the npm registry through a proxy with
// its own CA (as here): the CA bundle Node.js is told to trust goes in as
// the build secret npm_ca (docker/Dockerfile), never into a layer.
const NPM_CA = process.env.NODE_EXTRA_CA_CERTS || process.env.npm_config_cafile || '';

function build(dockerfile, tag) {
  const secret = NPM_CA && fs.existsSync(NPM_CA) ? ['--secret', `id=npm_ca,src=${NPM_CA}`] : [];
  run('podman', [...RUNTIME, 'build', '--network', 'host', '--format', 'docker', '--build-arg', `BASE=${BASE}`,
    ...secret, '-f', dockerfile, '-t', tag, '.']);
}

// Is the container healthy now (its image's HEALTHCHECK, run on demand:
// podman here has no systemd to run the checks on a timer)?
function healthy(service) {
  return spawnSync('podman', ['healthcheck', 'run', ctr(service)], { encoding: 'utf8' }).status === 0;
}

function redisCli(service, ...args) {
  const port = service.startsWith('sentinel') ? '26379' : '6379';
  return run('podman', ['exec', ctr(service), 'redis-cli', '-p', port, '--raw', ...args], { quiet: true }).trim();
}

// HTTPS through nginx, verifying its certificate against the deployment's CA.
function request(method, p, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: 'localhost', port: httpsPort, path: p, method, ca: caPem, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(text);
        } catch (e) {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
    });
    req.on('error', reject);
    req.setTimeout(20000, () => req.destroy(new Error(`${method} ${p}: no answer within 20 s`)));
    req.end(body);
  });
}

const feedTls = () => ({ tls: { ca: caPem, servername: 'localhost' } });

// A feed connection through nginx's TLS port that said hello with token.
async function helloFeed(token) {
  return waitFor(async () => {
    const feed = await new FeedClient(feedPort, feedTls()).connect();
    const r = await feed.send({ type: 'hello', token });
    if (r.ok) return feed;
    feed.destroy();
    return false;
  }, { interval: 300, timeout: 30000, what: 'the collectors to accept the feed token' });
}

// A dispatcher's live client through nginx; resolves once it has its snapshot.
async function liveClient(token) {
  const c = new LiveClient(`wss://localhost:${httpsPort}/ws`, { ca: caPem });
  await c.connect({ type: 'hello', token });
  await c.waitFor((x) => x.snapshot, { timeout: 20000, what: 'a snapshot' });
  return c;
}

// Sends feed lines one after another from source, resending (same seq)
// what was answered `unavailable` or lost with the connection, until
// stopped; remembers every acknowledged line: { seq, offset, hospital }.
class Feeder {
  constructor(token, source) {
    this.token = token;
    this.source = source;
    this.acked = [];
    this.unavailable = 0;
    this.reconnects = 0;
    this.seq = 1;
    this.stopped = false;
    this.hospitals = ['bach-mai', 'viet-duc', 'benh-vien-e', 'huu-nghi'];
  }

  async loop() {
    let feed = null;
    while (!this.stopped) {
      try {
        if (!feed || feed.closed) {
          if (feed) this.reconnects++;
          feed = await helloFeed(this.token);
        }
        const hospital = this.hospitals[this.seq % this.hospitals.length];
        const r = await feed.send({ type: 'beds', source: this.source, seq: this.seq, at: isoNow(), hospital,
          beds: { icu_adult: { occupied: this.seq % 1000 } } });
        if (r.ok) {
          this.acked.push({ seq: this.seq, offset: r.offset, hospital });
          this.seq++;
        } else if (r.error === 'unavailable') {
          this.unavailable++;
          await new Promise((res) => setTimeout(res, 100)); // resend pacing (as bp-sim backs off)
        } else {
          throw new Error(`line seq ${this.seq} refused: ${JSON.stringify(r)}`);
        }
      } catch (e) {
        if (/refused/.test(e.message)) throw e;
        if (feed) feed.destroy();
        feed = null;
      }
    }
    if (feed) feed.destroy();
  }

  start() {
    this.done = this.loop().catch((e) => {
      this.error = e;
      this.stopped = true;
    });
    return this;
  }

  // Stops; throws what stopped it if that was an error.
  async stop() {
    this.stopped = true;
    await this.done;
    if (this.error) throw this.error;
  }

  get lastOffset() {
    return this.acked.length ? this.acked.at(-1).offset : 0;
  }
}

async function teardown() {
  if (!upDone) return;
  upDone = false;
  try {
    compose(['down', '-t', '20', '-v'], { timeout: 300000 });
  } catch (e) {
    log(`down: ${e.message}`);
  }
  // Debian's podman-compose 1.0.3 leaves the network
  spawnSync('podman', ['network', 'rm', '-f', `${P}_default`]);
}

async function main() {
  console.log(`docker/test: project ${P}, log in ${LOG}`);

  if (!(await check('the images build (bedpulse, bedpulse-redis, bedpulse-nginx)', () => {
    build('docker/Dockerfile', 'localhost/bedpulse');
    build('docker/redis/Dockerfile', 'localhost/bedpulse-redis');
    build('docker/nginx/Dockerfile', 'localhost/bedpulse-nginx');
    const user = run('podman', ['image', 'inspect', 'localhost/bedpulse', '--format', '{{.Config.User}} {{json .Config.Healthcheck.Test}}']).trim();
    assert(user.startsWith('bedpulse ["CMD","bp-healthcheck"]'), `user and health check of the image: ${user}`);
  }))) return;

  await check('the image lays the programs out where the systemd units (config/systemd) run them', () => {
    // every unit's ExecStart program and WorkingDirectory (with the web/
    // and config/ the programs read from there) exist in the image
    const tests = [];
    for (const f of fs.readdirSync(path.join(ROOT, 'config', 'systemd')).filter((n) => n.endsWith('.service'))) {
      const unit = fs.readFileSync(path.join(ROOT, 'config', 'systemd', f), 'utf8');
      const exec = unit.match(/^ExecStart=(\S+)/m);
      const wd = unit.match(/^WorkingDirectory=(\S+)/m);
      assert(exec && wd, `${f}: ExecStart and WorkingDirectory`);
      tests.push(`test -x ${exec[1]}`, `test -f ${wd[1]}/config/settings.json`, `test -f ${wd[1]}/web/index.html`);
    }
    const script = `${[...new Set(tests)].map((t) => `${t} || { echo "not in the image: ${t}"; exit 1; }`).join('; ')}; pwd`;
    const out = run('podman', [...RUNTIME, 'run', '--rm', '--network', 'none', '--ulimit', 'nofile=1024:1024',
      '--ulimit', 'nproc=4096:4096', '--entrypoint', 'sh', 'localhost/bedpulse', '-c', script]).trim();
    const wd = fs.readFileSync(path.join(ROOT, 'config', 'systemd', 'bp-collector.service'), 'utf8').match(/^WorkingDirectory=(\S+)/m)[1];
    assert(out === wd, `the image's working directory ${out}, the units' ${wd}`);
  });

  httpsPort = await freePort();
  feedPort = await freePort();
  env = Object.assign({}, process.env, {
    BEDPULSE_HTTPS_PORT: String(httpsPort),
    BEDPULSE_FEED_PORT: String(feedPort),
    BEDPULSE_PUBLIC_URL: `https://localhost:${httpsPort}`,
    BEDPULSE_BASE: BASE,
  });
  const services = ['redis1', 'redis2', 'redis3', 'sentinel1', 'sentinel2', 'sentinel3', 'collector1',
    'collector2', 'server1', 'server2', 'nginx', 'sim'];

  const up = await check('compose up: the init step prints sign-in links through the proxy, every service turns healthy', async () => {
    upDone = true;
    compose(['up', '-d'], { timeout: 600000 });
    const status = run('podman', ['wait', ctr('init')]).trim();
    const out = run('podman', ['logs', ctr('init')]);
    assert(status === '0', `init exited ${status}: ${out}`);
    for (const m of out.matchAll(/^\s+(dispatcher|wall|manager|admin)\s+(https:\S+)$/gm)) links[m[1]] = m[2];
    assert(Object.keys(links).length === 4, `four links in ${out}`);
    assert(links.dispatcher.startsWith(`https://localhost:${httpsPort}/signin#token=bp_`), links.dispatcher);
    await waitFor(() => services.every(healthy), { timeout: 180000, interval: 2000,
      what: `every service healthy (not yet: ${services.filter((s) => !healthy(s)).join(', ')})` });
    caPem = run('podman', ['exec', ctr('nginx'), 'cat', '/certs/ca.pem']);
  });
  if (!up) return;

  const token = (role) => new URL(links[role]).hash.match(/token=([^&]+)/)[1];

  await check("collectors and servers are health-checked on /readyz; the collectors' /metrics count the simulator's lines", async () => {
    for (const s of ['collector1', 'collector2', 'server1', 'server2']) {
      const t = run('podman', ['inspect', ctr(s), '--format', '{{json .Config.Healthcheck.Test}}']).trim();
      assert(/bp-healthcheck.*ready/.test(t), `${s}'s health check: ${t}`);
    }
    const metric = (text, re) => Number((text.match(re) || [])[1] || 0);
    for (const s of ['collector1', 'collector2']) {
      const r = run('podman', ['exec', ctr(s), 'curl', '-fsS', 'http://127.0.0.1:7071/readyz']);
      assert(/"ready":true/.test(r), `${s} /readyz: ${r}`);
    }
    // the simulator feeds through nginx to one collector or the other
    await waitFor(() => ['collector1', 'collector2'].reduce((n, s) => n + metric(
      run('podman', ['exec', ctr(s), 'curl', '-fsS', 'http://127.0.0.1:7071/metrics'], { quiet: true }),
      /^bedpulse_feed_acknowledged_total\{kind="applied"\} (\d+)$/m), 0) > 0,
    { timeout: 60000, interval: 1000, what: 'lines acknowledged in the collectors\' /metrics' });
  });

  await check('a printed link signs in over HTTPS through nginx, and its cookie works', async () => {
    const r = await request('POST', '/api/v1/session', { body: JSON.stringify({ token: token('dispatcher') }),
      headers: { 'Content-Type': 'application/json', Origin: `https://localhost:${httpsPort}` } });
    assert(r.status === 200, `sign-in: ${r.status} ${r.body}`);
    const cookie = (r.headers['set-cookie'] || []).find((c) => c.startsWith('bp_session='));
    assert(cookie && /HttpOnly/i.test(cookie) && /Secure/i.test(cookie) && /SameSite=Strict/i.test(cookie), `cookie: ${cookie}`);
    const me = await request('GET', '/api/v1/session', { headers: { Cookie: cookie.split(';')[0] } });
    assert(me.status === 200 && me.json.role === 'dispatcher', `session: ${me.status} ${me.body}`);
    const page = await request('GET', new URL(links.dispatcher).pathname);
    const where = page.status === 301 ? page.headers.location : null;
    const final = where ? await request('GET', new URL(where, links.dispatcher).pathname) : page;
    assert(final.status === 200 && /<html/i.test(final.body), `the sign-in page: ${page.status} ${where || ''} ${final.status}`);
  });

  await check('nginx limits sign-ins per client address (the servers see only nginx)', async () => {
    const codes = [];
    for (let i = 0; i < 16 && !codes.includes(429); i++) {
      const r = await request('POST', '/api/v1/session', { body: JSON.stringify({ token: `bp_${'x'.repeat(43)}` }),
        headers: { 'Content-Type': 'application/json' } });
      codes.push(r.status);
    }
    // 10 a minute with a burst of 10: after the sign-in above, about the
    // 11th attempt is refused (one more for each 6 s since)
    assert(codes.at(-1) === 429 && codes.length >= 10 && codes.length <= 14 &&
      codes.slice(0, -1).every((c) => c === 401), `answers: ${codes}`);
  });

  await check('the public document through nginx: cached for 5 s, outside the per-address API limit', async () => {
    const gz = { 'Accept-Encoding': 'gzip' };
    // the first answer for an encoding fills the cache; the next is a HIT
    const first = await request('GET', '/api/v1/public', { headers: gz });
    assert(first.status === 200 && /max-age=5/.test(first.headers['cache-control'] || '') && first.headers.etag,
      `first: ${first.status} ${first.headers['cache-control']} ${first.headers.etag}`);
    await waitFor(async () => (await request('GET', '/api/v1/public', { headers: gz })).headers['x-cache'] === 'HIT',
      { timeout: 20000, interval: 100, what: 'an X-Cache: HIT answer for /api/v1/public' });
    // far more than the API's burst (1200) from one address, 16 at a time:
    // never refused, nearly all from the cache
    const codes = new Map();
    const caches = new Map();
    const count = (m, k) => m.set(k, (m.get(k) || 0) + 1);
    let next = 0;
    const N = 1500;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < N) {
        next++;
        const r = await request('GET', '/api/v1/public', { headers: gz });
        count(codes, r.status);
        count(caches, r.headers['x-cache'] || 'none');
      }
    }));
    log(`public x${N}: status ${JSON.stringify([...codes])} cache ${JSON.stringify([...caches])}`);
    assert(codes.get(200) === N, `answers: ${JSON.stringify([...codes])}`);
    assert((caches.get('HIT') || 0) >= N * 0.9, `cache: ${JSON.stringify([...caches])}`);
    // while an API route from the same address is limited (burst 1200)
    const limited = [];
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (limited.length < 4000 && !limited.includes(429)) limited.push((await request('GET', '/api/v1/hospitals')).status);
    }));
    log(`GET /api/v1/hospitals until refused: ${limited.length} requests, ${[...new Set(limited)]}`);
    assert(limited.includes(429) && limited.length > 1200, `GET /api/v1/hospitals x${limited.length}: ${[...new Set(limited)]}`);
  });

  // clients on both servers, through nginx (its round robin spreads them;
  // welcome.server says where each landed)
  const clients = [];
  const on = (server) => clients.filter((c) => c.server === server);
  const haveBoth = await check('WebSocket clients through nginx reach both servers', async () => {
    for (let i = 0; i < 20 && (on('server1').length < 2 || on('server2').length < 2); i++) {
      const c = await liveClient(token('dispatcher'));
      c.server = c.welcome.server;
      clients.push(c);
    }
    assert(on('server1').length >= 2 && on('server2').length >= 2,
      `clients per server: ${JSON.stringify(clients.map((c) => c.server))}`);
  });

  let feedToken;
  await check('a feed line over TLS through nginx reaches the clients on both servers', async () => {
    assert(haveBoth, 'needs clients on both servers');
    feedToken = JSON.parse(run('podman', ['exec', ctr('collector1'), 'bp-admin', 'token', 'create', '--role', 'feed',
      '--hospitals', '*', '--fleet', '--name', 'e2e test feed', '--json'])).token;
    const feed = await helloFeed(feedToken);
    assert(feed.sock.authorized, 'the proxy certificate verifies for localhost');
    const r = await feed.send({ type: 'beds', source: 'e2e', seq: 1, at: isoNow(), hospital: 'bach-mai',
      beds: { icu_adult: { staffed: 60, occupied: 61 } } });
    assert(r.ok === true, JSON.stringify(r));
    feed.destroy();
    for (const c of clients) {
      await c.waitFor((x) => x.events.some((e) => e.offset === r.offset && e.id === 'bach-mai' && e.data.beds.icu_adult.occupied === 61),
        { timeout: 10000, what: `offset ${r.offset} on a client of ${c.server}` });
    }
  });

  await check('podman kill of a server: its clients resume on the other with no gap', async () => {
    assert(haveBoth && feedToken, 'needs clients on both servers and a feed token');
    const feeder = new Feeder(feedToken, 'e2e-kill').start();
    feeders.push(feeder);
    await waitFor(() => feeder.acked.length >= 5, { timeout: 20000, what: 'lines acknowledged' });
    const victims = on('server1');
    await runAsync('podman', ['kill', ctr('server1')]);
    await Promise.all(victims.map((c) => c.whenClosed));
    // the browser's way: reconnect with {epoch, offset}; nginx takes it to server2
    for (const c of victims) {
      const before = c.offset;
      await waitFor(async () => {
        try {
          await c.connect({ type: 'hello', token: token('dispatcher'), resume: { epoch: c.epoch, offset: c.offset } });
          return true;
        } catch (e) {
          return false;
        }
      }, { timeout: 20000, interval: 200, what: 'a reconnect through nginx' });
      await c.waitFor((x) => x.welcome && x.messages.filter((m) => m.type === 'welcome').length >= 2, { timeout: 10000, what: 'a welcome' });
      const w = c.messages.filter((m) => m.type === 'welcome').at(-1);
      assert(w.server === 'server2', `resumed on ${w.server}`);
      assert(w.mode === 'resume' && w.offset === before, `welcome: ${JSON.stringify(w)}`);
    }
    await waitFor(() => feeder.acked.length >= 30, { timeout: 30000, what: 'more lines acknowledged' });
    await feeder.stop();
    const last = feeder.lastOffset;
    for (const c of clients) {
      await c.waitFor((x) => x.offset >= last, { timeout: 15000, what: `offset ${last} on every client` });
      assert(c.gaps === 0 && c.ofType('snapshot').length === 1, `client of ${c.server}: ${c.gaps} gaps, ${c.ofType('snapshot').length} snapshots`);
    }
    // server1 back (podman kill is a stop by the user: no restart policy);
    // nginx follows its new address
    await runAsync('podman', ['start', ctr('server1')]);
    await waitFor(() => healthy('server1'), { timeout: 60000, interval: 1000, what: 'server1 healthy again' });
    await waitFor(async () => {
      const seen = new Set();
      for (let i = 0; i < 6; i++) seen.add((await request('GET', '/readyz')).json?.server);
      return seen.has('server1') && seen.has('server2');
    }, { timeout: 30000, interval: 1000, what: 'nginx to reach server1 again' });
  });

  if (!SENTINEL) {
    skip('kill of the Redis master: failover with no acknowledged change lost',
      'the programs reach Redis without Sentinel in this stage (docker/compose.yaml)');
  } else {
    await check('kill of the Redis master: failover, no acknowledged change lost', async () => {
      assert(feedToken, 'needs a feed token');
      const master = () => redisCli('sentinel1', 'SENTINEL', 'get-master-addr-by-name', MASTER_NAME).split('\n')[0];
      const old = master();
      // every replica in sync and known to every Sentinel (DESIGN §10)
      await waitFor(() => {
        const info = redisCli(old, 'INFO', 'replication');
        if ((info.match(/state=online/g) || []).length !== 2) return false;
        return ['sentinel1', 'sentinel2', 'sentinel3'].every((s) => {
          const r = redisCli(s, 'SENTINEL', 'replicas', MASTER_NAME);
          return (r.match(/^flags\n(slave)$/gm) || []).length === 2;
        });
      }, { timeout: 60000, interval: 500, what: 'replicas online and known to every Sentinel' });
      const feeder = new Feeder(feedToken, 'e2e-failover').start();
      feeders.push(feeder);
      await waitFor(() => feeder.acked.length >= 20, { timeout: 20000, what: 'lines acknowledged before the kill' });
      await runAsync('podman', ['kill', ctr(old)]);
      const killedAt = Date.now();
      const promoted = await waitFor(() => {
        const m = master();
        return m && m !== old ? m : false;
      }, { timeout: 60000, interval: 200, what: 'a Sentinel to promote a replica' });
      const promotedIn = Date.now() - killedAt;
      const ackedAtPromotion = feeder.acked.length;
      await waitFor(() => feeder.acked.length >= ackedAtPromotion + 20, { timeout: 60000, what: 'lines acknowledged by the new master' });
      await feeder.stop();
      // every acknowledged line's change is in the new master's stream
      const offsets = feeder.acked.map((a) => String(a.offset));
      const script = "local m = 0 for _, o in ipairs(ARGV) do if #redis.call('XRANGE', KEYS[1], o .. '-0', o .. '-0') == 0 then m = m + 1 end end return m";
      const missing = Number(redisCli(promoted, 'EVAL', script, '1', 'bp:stream', ...offsets));
      const src = redisCli(promoted, 'HGET', 'bp:sources', 'e2e-failover').split(' ');
      assert(missing === 0, `${missing} of ${offsets.length} acknowledged changes missing on ${promoted}`);
      assert(Number(src[0]) === feeder.acked.at(-1).seq, `last seq on ${promoted}: ${src[0]}, acknowledged ${feeder.acked.at(-1).seq}`);
      for (const c of clients) await c.waitFor((x) => x.offset >= feeder.lastOffset, { timeout: 30000, what: 'the clients to follow the new master' });
      console.log(`    ${feeder.acked.length} lines acknowledged (${feeder.unavailable} answered unavailable and resent), ` +
        `${old} killed, ${promoted} promoted after ${secs(promotedIn)}, 0 acknowledged changes lost`);
      // the old master comes back as a replica of the new one
      await runAsync('podman', ['start', ctr(old)]);
      await waitFor(() => /role:slave/.test(redisCli(old, 'INFO', 'replication')), { timeout: 60000, interval: 1000, what: `${old} to rejoin as a replica` });
    });
  }

  for (const c of clients) c.close();

  await check('tear-down leaves no container, volume or network behind', async () => {
    await teardown();
    const left = run('podman', ['ps', '-a', '--filter', `label=io.podman.compose.project=${P}`, '--format', '{{.Names}}']).trim();
    const vols = run('podman', ['volume', 'ls', '--format', '{{.Name}}']).split('\n').filter((v) => v.startsWith(`${P}_`));
    const nets = run('podman', ['network', 'ls', '--format', '{{.Name}}']).split('\n').filter((n) => n.startsWith(P));
    assert(!left && vols.length === 0 && nets.length === 0, `left: ${left} ${vols} ${nets}`);
  });
}

let finished = false;
async function finish(code) {
  if (finished) return;
  finished = true;
  await teardown();
  console.log(`wall time ${secs(Date.now() - started)}${results.skipped ? `, ${results.skipped} skipped` : ''}`);
  console.log(`${results.passed} passed, ${results.failed} failed`);
  process.exit(code !== undefined ? code : results.failed ? 1 : 0);
}

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { results.failed++; finish(130); });
process.on('unhandledRejection', (e) => {
  results.failed++;
  console.log(`FAIL - unexpected: ${e && e.stack ? e.stack : e}`);
  finish(1);
});
main().then(() => finish(), (e) => {
  results.failed++;
  console.log(`FAIL - ${e.message}`);
  finish();
});
