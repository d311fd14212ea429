'use strict';
// Test harness: starts the real parts — redis-server, bp-collector, bp-server
// (and bp-sim when asked) — on random free loopback ports in a private
// temporary directory, and gives tests small clients for each interface.
//
// Binaries come from $BP_BUILD_DIR (set by CTest to the build tree under
// test), default ./build. Logs of every process are kept in the stack's
// directory and printed by dumpLogs() when a test fails.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const https = require('node:https');
const tls = require('node:tls');
const WebSocket = require('ws');

const ROOT = path.resolve(__dirname, '..', '..');
const BUILD = path.resolve(process.env.BP_BUILD_DIR || path.join(ROOT, 'build'));
// What production serves: the build's web/ (tools/build_web.mjs), or the
// source itself for a build tree made without it (-DBP_WEB=OFF).
const WEB_ROOT = fs.existsSync(path.join(BUILD, 'web', 'index.html')) ? path.join(BUILD, 'web') : path.join(ROOT, 'web');

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// What a waitFor condition returns to say "not yet, and this is what I
// saw": the timeout message shows `saw`.
class NotYet {
  constructor(saw) {
    this.saw = saw;
  }
}
const notYet = (saw) => new NotYet(saw);

// Polls fn until it returns a truthy value (or a promise of one) other
// than notYet(...). The default deadline is long: it only bounds how long
// a broken test hangs, and a loaded machine (a build beside the tests)
// takes seconds for what takes milliseconds alone.
async function waitFor(fn, { timeout = 15000, interval = 20, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last && !(last instanceof NotYet)) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      const saw = last instanceof Error ? last.message : JSON.stringify(last instanceof NotYet ? last.saw : last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${saw})`);
    }
    await sleep(interval);
  }
}

// Resolves once the clock (the one the servers read too) is past the
// millisecond `ms`: a request sent then is stamped later than anything
// stamped by ms.
function pastMs(ms = Date.now()) {
  return waitFor(() => Date.now() > ms, { interval: 1, what: `the clock to pass ${ms}` });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function isoNow(offsetMs = 0) {
  return new Date(Date.now() + offsetMs).toISOString();
}

// Feed message builders: a valid line with the given fields on top.
// Sends each [fields, field, rule] case as its own line (msg(fields)) and
// checks it is refused naming the field, its message matching the rule.
async function expectRefused(feed, cases, msg) {
  const assert = require('node:assert/strict');
  for (const [fields, field, rule] of cases) {
    const r = await feed.send(msg(fields));
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.equal(r.field, field, JSON.stringify(r));
    assert.match(r.message, rule, JSON.stringify(r));
  }
}

function bedsMsg(fields = {}) {
  return Object.assign({ type: 'beds', source: 'test-his', seq: 1, at: isoNow(), hospital: 'bach-mai' }, fields);
}

function ambulanceMsg(fields = {}) {
  return Object.assign({ type: 'ambulance', source: 'test-avl', seq: 1, at: isoNow(), id: '115-HK-03' }, fields);
}

// An incident line from the CAD gateway (action create by default: give
// priority, category, lat and lon too).
function incidentMsg(fields = {}) {
  return Object.assign({ type: 'incident', source: 'test-cad', seq: 1, at: isoNow(), id: 'INC-1', action: 'create' }, fields);
}

// Stored times are integer ms; the wire shows UTC with milliseconds.
function isoMs(ms) {
  return new Date(ms).toISOString();
}

const PDEATHSIG = (() => {
  try {
    return /pdeathsig/.test(execFileSync('setpriv', ['--help'], { encoding: 'utf8' }));
  } catch (e) {
    return false;
  }
})();

class Proc {
  constructor(name, cmd, args, opts) {
    this.name = name;
    this.log = opts.log;
    const out = fs.openSync(this.log, 'a');
    // setpriv --pdeathsig: the child gets SIGKILL if this test process dies
    // (CTest timeout, crash), so no Redis or server outlives its test. exec
    // keeps the child's pid the program's own.
    const wrapped = PDEATHSIG ? ['setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, args];
    this.child = spawn(wrapped[0], wrapped[1], { cwd: ROOT, env: opts.env, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.code = code;
        this.signal = signal;
        resolve({ code, signal });
      });
    });
  }

  get running() {
    return this.code === undefined && this.signal === undefined;
  }

  async stop(signal = 'SIGTERM', timeout = 15000) {
    if (!this.running) return this.exited;
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeout);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }
}

// Test certificates made with the openssl CLI in dir: makeCA(dir, 'ca')
// gives { cert, key } of a new CA; makeCert(dir, 'feed', ca, ['DNS:localhost',
// 'IP:127.0.0.1']) a leaf it signs for those names (EC P-256, 2 days).
function makeCA(dir, name) {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=BedPulse test CA ${name}`],
  { stdio: 'ignore' });
  return { cert, key };
}

function makeCert(dir, name, ca, names) {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, `subjectAltName=${names.join(',')}\n`);
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key,
    '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext], { stdio: 'ignore' });
  return { cert, key };
}

// One request/reply feed connection to the collector. Replies are split on
// bytes (a reply may arrive in pieces, even inside a UTF-8 sequence) and
// matched to requests in order; `replies` keeps every reply received and
// `unexpected` counts replies that arrived with no request waiting for them.
// opts.tls: speak TLS, with these options for tls.connect (e.g. { ca }).
class FeedClient {
  constructor(port, opts = {}) {
    this.port = port;
    this.tls = opts.tls;
    this.pending = [];
    this.buf = Buffer.alloc(0);
    this.replies = [];
    this.unexpected = 0;
    this.closed = false;
    this.whenClosed = new Promise((resolve) => (this.onClosed = resolve));
  }

  connect() {
    return new Promise((resolve, reject) => {
      this.sock = this.tls
        ? tls.connect(Object.assign({ port: this.port, host: '127.0.0.1' }, this.tls), () => resolve(this))
        : net.connect(this.port, '127.0.0.1', () => resolve(this));
      this.sock.setNoDelay(true);
      this.sock.on('error', (e) => {
        this.error = e;
        for (const p of this.pending.splice(0)) p.reject(e);
        reject(e);
      });
      this.sock.on('close', () => {
        this.closed = true;
        for (const p of this.pending.splice(0)) p.reject(new Error(`connection closed (${this.replies.length} replies received)`));
        this.onClosed();
      });
      this.sock.on('data', (d) => {
        this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
        let i;
        while ((i = this.buf.indexOf(10)) >= 0) {
          const line = this.buf.subarray(0, i).toString('utf8');
          this.buf = this.buf.subarray(i + 1);
          let reply;
          try {
            reply = JSON.parse(line);
          } catch (e) {
            reply = { unparsable: line };
          }
          this.replies.push(reply);
          const p = this.pending.shift();
          if (p) p.resolve(reply);
          else this.unexpected++;
        }
      });
    });
  }

  // Expects one more reply; resolves with it. A reply that takes more than
  // 30 s fails the connection (and every request waiting on it) rather than
  // hanging the test.
  expect() {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('connection closed'));
        return;
      }
      const timer = setTimeout(() => {
        this.sock.destroy(new Error(`no reply within 30 s (${this.replies.length} replies received)`));
      }, 30000);
      timer.unref();
      this.pending.push({
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  // Sends one raw line (string, without newline) and resolves with its reply.
  sendRaw(line) {
    const p = this.expect();
    this.sock.write(line + '\n');
    return p;
  }

  send(obj) {
    return this.sendRaw(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  // Sends many lines at once and resolves with all replies, in order.
  sendMany(objs) {
    return Promise.all(objs.map((o) => this.send(o)));
  }

  // Writes all lines (objects or strings) in one socket write; resolves with
  // their replies, in order.
  sendBatch(lines) {
    const text = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l)) + '\n').join('');
    const ps = lines.map(() => this.expect());
    this.sock.write(text);
    return Promise.all(ps);
  }

  // Writes raw bytes expecting `replies` reply lines for them.
  writeRaw(bytes, replies) {
    const ps = [];
    for (let i = 0; i < replies; i++) ps.push(this.expect());
    this.sock.write(bytes);
    return Promise.all(ps);
  }

  // Half-closes: no more lines from us, replies still come.
  end() {
    if (this.sock) this.sock.end();
  }

  close() {
    if (this.sock) this.sock.end();
  }

  destroy() {
    if (this.sock) this.sock.destroy();
  }
}

// A /ws client that keeps the state the way a dashboard does.
class LiveClient {
  // wsOptions go to the ws library (e.g. localAddress, autoPong).
  constructor(url, wsOptions = {}) {
    this.url = url;
    this.wsOptions = wsOptions;
    this.messages = [];
    this.events = [];
    this.hospitals = new Map();
    this.ambulances = new Map();
    this.incidents = new Map(); // open incidents (dispatchers and admins only)
    this.epoch = null;
    this.offset = 0;
    this.gaps = 0;
    this.duplicates = 0;
    this.received = []; // every event offset as received, before any dedup
    this.badFrames = [];
    this.parse = JSON.parse; // text -> message (a fleet of clients may share work here)
    this.whenClosed = new Promise((resolve) => (this.onClosed = resolve));
  }

  // Opens the socket and sends hello (a string is sent as is; null sends
  // nothing, for tests of the hello timeout).
  connect(hello = { type: 'hello' }) {
    return new Promise((resolve, reject) => {
      this.ws = new WebSocket(this.url, 'bedpulse.v1', this.wsOptions);
      this.ws.on('open', () => {
        if (hello !== null) this.ws.send(typeof hello === 'string' ? hello : JSON.stringify(hello));
        resolve(this);
      });
      this.ws.on('error', (e) => {
        this.error = e;
        reject(e);
      });
      this.ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.onClosed({ code, reason: this.closeReason });
      });
      this.ws.on('message', (data, isBinary) => {
        let m;
        try {
          if (isBinary) throw new Error('binary frame from the server');
          m = this.parse(data.toString('utf8'));
        } catch (e) {
          this.badFrames.push(String(data).slice(0, 200));
          return;
        }
        this.onMessage(m);
      });
    });
  }

  send(data, opts) {
    this.ws.send(data, opts);
  }

  // Messages of one type, in arrival order.
  ofType(type) {
    return this.messages.filter((m) => m.type === type);
  }

  resumeHello() {
    return { type: 'hello', resume: { epoch: this.epoch, offset: this.offset } };
  }

  onMessage(m) {
    this.messages.push(m);
    if (m.type === 'welcome') this.welcome = m;
    if (m.type === 'snapshot') {
      this.snapshot = m;
      this.epoch = m.epoch;
      this.offset = m.offset;
      this.hospitals = new Map(m.hospitals.map((h) => [h.id, h]));
      this.ambulances = new Map(m.ambulances.map((a) => [a.id, a]));
      this.incidents = new Map((m.incidents || []).map((i) => [i.id, i]));
    }
    if (m.type === 'welcome' && m.mode === 'resume') this.epoch = m.epoch;
    if (m.type === 'events') {
      for (const e of m.events) {
        this.received.push(e.offset);
        if (e.offset <= this.offset) {
          this.duplicates++;
          continue;
        }
        if (e.offset !== this.offset + 1) this.gaps++;
        this.offset = e.offset;
        this.events.push(e);
        if (!e.kind) continue; // an offset marker: a change this role may not see
        if (e.kind === 'incident') {
          const { action, ...d } = e.data;
          if (action === 'close') this.incidents.delete(e.id);
          else this.incidents.set(e.id, Object.assign(action === 'create' ? { id: e.id } : this.incidents.get(e.id) || { id: e.id }, d));
          continue;
        }
        const map = e.kind === 'hospital' ? this.hospitals : this.ambulances;
        const cur = map.get(e.id) || { id: e.id };
        const d = e.data;
        if (e.kind === 'hospital') {
          cur.beds = Object.assign({}, cur.beds, d.beds || {});
          if (d.ed) cur.ed = d.ed;
          if ('check' in d) cur.check = d.check;
          for (const k of ['version', 'at', 'updated', 'source']) cur[k] = d[k];
        } else {
          Object.assign(cur, d);
        }
        map.set(e.id, cur);
      }
    }
  }

  waitFor(pred, opts = {}) {
    return waitFor(() => pred(this), opts);
  }

  close() {
    if (this.ws) this.ws.terminate();
  }
}

function httpGet(port, p, tls = false) {
  return httpRequest(port, 'GET', p, undefined, {}, tls);
}

// A request that fails (rather than hangs) when the answer does not come
// whole within 5 s of silence.
// tls: HTTPS, accepting the test's self-signed certificate.
function httpRequest(port, method, p, body, headers = {}, tls = false) {
  return new Promise((resolve, reject) => {
    const mod = tls ? https : http;
    const req = mod.request({ host: '127.0.0.1', port, path: p, method, agent: false, headers, rejectUnauthorized: false }, (res) => {
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
      res.on('close', () => {
        if (!res.complete) reject(new Error(`${method} ${p}: response ended after ${text.length} body bytes (status ${res.statusCode})`));
      });
    });
    req.on('error', reject);
    // generous: a loaded CI machine may take seconds; a hang still fails
    req.setTimeout(30000, () => req.destroy(new Error(`${method} ${p}: no complete answer within 30 s`)));
    req.end(body);
  });
}

// Sends a request line exactly as given (no client-side normalization of
// the path) and resolves with the whole raw response text.
function rawHttp(port, requestText) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(requestText));
    const chunks = [];
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    s.on('error', reject);
    s.setTimeout(30000, () => s.destroy(new Error('raw http timeout (30 s)')));
  });
}

function redisCli(port, ...args) {
  return redisCliAuth(port, undefined, ...args);
}

function redisCliAuth(port, password, ...args) {
  const env = password ? Object.assign({}, process.env, { REDISCLI_AUTH: password }) : process.env;
  return execFileSync('redis-cli', ['-p', String(port), '--raw', ...args],
    { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] }).trimEnd();
}

class Stack {
  constructor(opts = {}) {
    this.opts = opts;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-test-'));
    this.procs = {};
    this.prefix = opts.prefix || 'bp:';
    this.exits = []; // {name, code, signal, sent}: every process stopped so far
  }

  env(extra = {}) {
    const ports = {};
    if (this.redisPort) ports.BP_REDIS_PORT = String(this.redisPort);
    if (this.collectorPort) ports.BP_COLLECTOR_PORT = String(this.collectorPort);
    if (this.collectorHttpPort) ports.BP_COLLECTOR_HTTP_PORT = String(this.collectorHttpPort);
    if (this.serverPort) ports.BP_SERVER_PORT = String(this.serverPort);
    // BP_BUILD_DIR is the harness's own variable: the binaries refuse unknown
    // BP_* variables (a typo in a setting must stop start-up), so drop it.
    const base = Object.assign({}, process.env);
    delete base.BP_BUILD_DIR;
    delete base.BP_SCHEMA_DIR; // the tests' own too (tests/integration/interop.test.js)
    delete base.BP_CHROMIUM; // and the browser tests' (tests/browser/pages.js)
    return Object.assign(base, ports, {
      BP_REDIS_PREFIX: this.prefix,
      BP_SERVER_WEB_ROOT: WEB_ROOT,
      // tests that are not about authentication feed without a token (the
      // collector listens on loopback); the security tests turn this off
      BP_COLLECTOR_ANONYMOUS: '1',
      // ...and read the server as a dispatcher would, without signing in
      BP_AUTH_ANONYMOUS: 'dispatcher',
      BP_REDIS_CONNECT_TIMEOUT_MS: '500',
      BP_REDIS_PING_INTERVAL_MS: '200',
      BP_REDIS_RECONNECT_MAX_MS: '500',
    }, this.opts.env || {}, extra);
  }

  // timeout: how long Redis may take to answer (loading a big AOF).
  async startRedis({ timeout = 5000 } = {}) {
    if (!this.redisPort) this.redisPort = await freePort();
    this.procs.redis = new Proc('redis', 'redis-server', [
      '--port', String(this.redisPort), '--bind', '127.0.0.1', '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no',
      ...(this.opts.redisArgs || []),
    ], { env: process.env, log: path.join(this.dir, 'redis.log') });
    await waitFor(() => {
      try {
        return this.redis('PING') === 'PONG';
      } catch (e) {
        return false;
      }
    }, { timeout, what: 'redis-server to answer PING' });
  }

  // Starts bp-collector and waits until its /readyz answers 200: every
  // Redis connection it applies lines on is up (it listens before that, and
  // a line sent earlier may be answered unavailable). With { ready: false },
  // only until it listens (for starts without Redis).
  async startCollector(extraEnv = {}, { ready = true } = {}) {
    if (!this.collectorPort) this.collectorPort = await freePort();
    if (!this.collectorHttpPort) this.collectorHttpPort = await freePort(); // health and metrics
    this.procs.collector = new Proc('collector', path.join(BUILD, 'collector', 'bp-collector'), [],
      { env: this.env(extraEnv), log: path.join(this.dir, 'collector.log') });
    await waitFor(() => new Promise((resolve) => {
      const s = net.connect(this.collectorPort, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    }), { what: 'the collector to listen' });
    if (ready) {
      await waitFor(async () => {
        try {
          return (await httpGet(this.collectorHttpPort, '/readyz')).status === 200;
        } catch (e) {
          return false;
        }
      }, { what: 'the collector to be ready (/readyz)', timeout: 30000 });
    }
  }

  // Starts bp-server and waits until /readyz answers 200 (or, with
  // { ready: false }, until it answers at all: for starts without Redis).
  async startServer(extraEnv = {}, name = 'server', { ready = true } = {}) {
    const port = name === 'server' ? (this.serverPort || (this.serverPort = await freePort())) : await freePort();
    const env = this.env(Object.assign({ BP_SERVER_PORT: String(port) }, extraEnv));
    this.procs[name] = new Proc(name, path.join(BUILD, 'server', 'bp-server'), [],
      { env, log: path.join(this.dir, `${name}.log`) });
    this.procs[name].port = port;
    await waitFor(async () => {
      try {
        const r = await httpGet(port, '/readyz', this.opts.tls);
        return ready ? r.status === 200 : r.status > 0;
      } catch (e) {
        return false;
      }
    }, { what: `${name} to be ${ready ? 'ready' : 'listening'}`, timeout: 30000 });
    return port;
  }

  async start() {
    await this.startRedis();
    await this.startCollector();
    await this.startServer();
    return this;
  }

  // opts: as for FeedClient (opts.tls: over TLS)
  feed(opts = {}) {
    return new FeedClient(this.collectorPort, opts).connect();
  }

  live(hello, port = this.serverPort, wsOptions = {}) {
    const url = `${this.opts.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/ws`;
    return new LiveClient(url, Object.assign({ rejectUnauthorized: false }, wsOptions)).connect(hello);
  }

  get(p, port = this.serverPort) {
    return httpGet(port, p, this.opts.tls);
  }

  request(method, p, body, port = this.serverPort) {
    return httpRequest(port, method, p, body, {}, this.opts.tls);
  }

  // The value of a sample in the server's /metrics (the first with that
  // name, whatever its labels), or NaN when there is none.
  async metric(name, port = this.serverPort) {
    const body = (await this.get('/metrics', port)).body;
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(body);
    return m ? Number(m[1]) : NaN;
  }

  // Resolves once the server has read the stream up to `offset` and then
  // evaluated its alert rules `passes` more times: whatever that change
  // could raise or clear has been raised or cleared by then.
  async alertsPast(offset, passes = 2, port = this.serverPort) {
    await waitFor(async () => {
      const at = Number((await this.get('/readyz', port)).json.offset);
      return at >= offset || notYet({ offset: at });
    }, { what: `the server to read offset ${offset}`, timeout: 10000 });
    const n0 = await this.metric('bedpulse_alert_evaluations_total', port);
    if (!Number.isFinite(n0)) throw new Error('no bedpulse_alert_evaluations_total in /metrics');
    await waitFor(async () => {
      const n = await this.metric('bedpulse_alert_evaluations_total', port);
      return n >= n0 + passes || notYet({ evaluations: n, want: n0 + passes });
    }, { what: `${passes} more passes of the alert rules`, timeout: 15000, interval: 50 });
  }

  // A request as someone: { token } (Authorization: Bearer), { cookie }
  // (the bp_session value), { json } (a body sent as application/json),
  // { body, type } (any body), { headers } (more headers).
  call(method, p, { token, cookie, json, body, type, headers = {}, port = this.serverPort } = {}) {
    const h = Object.assign({}, headers);
    if (token) h.Authorization = `Bearer ${token}`;
    if (cookie) h.Cookie = `bp_session=${cookie}`;
    if (json !== undefined) {
      body = typeof json === 'string' ? json : JSON.stringify(json);
      type = type || 'application/json';
    }
    if (type) h['Content-Type'] = type;
    return httpRequest(port, method, p, body, h, this.opts.tls);
  }

  // bp-admin against this stack's Redis (stdout); throws with its stderr.
  admin(...args) {
    return execFileSync(path.join(BUILD, 'tools', 'bp-admin'), args,
      { env: this.env(), cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  // Creates a token: { id, token, role }. opts: hospitals ("a,b" or "*"),
  // fleet, name, expiresDays.
  createToken(role, { hospitals, fleet, name, expiresDays } = {}) {
    const args = ['token', 'create', '--role', role, '--json'];
    if (hospitals) args.push('--hospitals', hospitals);
    if (fleet) args.push('--fleet');
    if (name) args.push('--name', name);
    if (expiresDays) args.push('--expires-days', String(expiresDays));
    return JSON.parse(this.admin(...args));
  }

  // Revokes a token by its id (t-…); servers notice within a second.
  revokeToken(id) {
    return this.admin('token', 'revoke', id);
  }

  // The hospital as a token sees it over REST (its JSON).
  async hospital(id, token) {
    const r = await this.call('GET', `/api/v1/hospitals/${id}`, { token });
    if (r.status !== 200) throw new Error(`GET hospital ${id}: ${r.status} ${r.body}`);
    return r.json;
  }

  // Waits until the server knows a token (tokens reload within a second).
  async waitForToken(token, port = this.serverPort) {
    await waitFor(async () => (await this.call('GET', '/api/v1/session', { token, port })).status === 200,
      { what: 'the server to load a new token', timeout: 15000, interval: 50 });
  }

  // Waits until the collector knows a feed token (it reloads its own copy of
  // the tokens within a second, apart from the server's): a hello on a new
  // connection is answered ok.
  async waitForFeedToken(token) {
    await waitFor(async () => {
      const f = await this.feed();
      try {
        const r = await f.send({ type: 'hello', token });
        return r.ok || notYet(r);
      } finally {
        f.destroy();
      }
    }, { what: 'the collector to load a new token', interval: 50 });
  }

  rawHttp(text, port = this.serverPort) {
    return rawHttp(port, text);
  }

  // Stops one process (SIGTERM by default) and records how it ended.
  async stopProc(name, signal = 'SIGTERM') {
    const p = this.procs[name];
    if (!p) return undefined;
    const wasRunning = p.running;
    const r = await p.stop(signal);
    delete this.procs[name];
    // a process that was no longer running crashed or quit on its own
    this.exits.push({ name, code: r.code, signal: r.signal, sent: wasRunning ? signal : 'none' });
    return r;
  }

  // SIGKILLs redis-server: its AOF (appendfsync always) keeps what it acknowledged.
  killRedis() {
    return this.stopProc('redis', 'SIGKILL');
  }

  // Exits of processes asked to stop (SIGTERM, SIGINT) that did not end
  // with code 0 (a SIGKILL after the 15 s grace shows up here too), and of
  // processes that ended before they were asked to.
  uncleanExits() {
    return this.exits.filter((e) => e.sent === 'none' || (e.sent !== 'SIGKILL' && !(e.code === 0 && e.signal === null)));
  }

  // Sanitizer reports (ASan/UBSan/LSan builds) in our processes' logs.
  sanitizerReports() {
    if (!fs.existsSync(this.dir)) return [];
    const found = [];
    for (const f of fs.readdirSync(this.dir).filter((x) => x.endsWith('.log') && !x.startsWith('redis'))) {
      for (const line of fs.readFileSync(path.join(this.dir, f), 'utf8').split('\n')) {
        if (/ERROR: (Address|Leak|Memory)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer/.test(line)) found.push(`${f}: ${line}`);
      }
    }
    return found;
  }

  // Everything that says a process did not end well: for the last check of
  // a test file, after stop({ keep: true }).
  problems() {
    return [...this.uncleanExits(), ...this.sanitizerReports()];
  }

  // Wraps a test body: prints every process log when it fails.
  guard(fn) {
    return async (t) => {
      try {
        await fn(t);
      } catch (e) {
        process.stderr.write(`\n===== ${t && t.name ? t.name : 'test'} failed; logs of ${this.dir} =====\n`);
        this.dumpLogs();
        throw e;
      }
    };
  }

  // An entity as the apply script stores it (hash bp:h:<id> / bp:a:<id>),
  // in the shape of the stream's event data; null when it never reported.
  stored(kind, id) {
    const out = execFileSync('redis-cli', ['-p', String(this.redisPort), '--raw', 'HGETALL',
      `${this.prefix}${kind === 'hospital' ? 'h' : 'a'}:${id}`], { encoding: 'utf8' });
    if (out.trim() === '') return null;
    const lines = out.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const f = {};
    for (let i = 0; i + 1 < lines.length; i += 2) f[lines[i]] = lines[i + 1];
    const e = { version: Number(f.v), at: Number(f.at), updated: Number(f.up), source: f.src };
    if (kind === 'hospital') {
      const names = { s: 'staffed', o: 'occupied', g: 'surge24' };
      e.beds = {};
      for (const [k, v] of Object.entries(f)) {
        const m = /^([a-z_]+)\.([sog])$/.exec(k);
        if (m) (e.beds[m[1]] = e.beds[m[1]] || {})[names[m[2]]] = Number(v);
      }
      if (f.ed !== undefined) e.ed = JSON.parse(f.ed);
    } else {
      if (f.status !== undefined) e.status = f.status;
      for (const k of ['lat', 'lon', 'heading', 'speed']) if (f[k] !== undefined) e[k] = Number(f[k]);
      if (f.dest !== undefined) e.destination = f.dest;
      if (f.inc !== undefined) e.incident = f.inc;
    }
    return e;
  }

  // redis-cli against this stack's Redis (with opts.redisPassword, or the
  // password the programs are given in BP_REDIS_PASSWORD)
  redis(...args) {
    return redisCliAuth(this.redisPort, this.opts.redisPassword || (this.opts.env && this.opts.env.BP_REDIS_PASSWORD), ...args);
  }

  // Everything our processes have logged so far.
  logText() {
    if (!fs.existsSync(this.dir)) return '';
    return fs.readdirSync(this.dir).filter((f) => f.endsWith('.log'))
      .map((f) => fs.readFileSync(path.join(this.dir, f), 'utf8')).join('\n');
  }

  dumpLogs() {
    if (!fs.existsSync(this.dir)) return;
    for (const f of fs.readdirSync(this.dir).filter((f) => f.endsWith('.log'))) {
      const text = fs.readFileSync(path.join(this.dir, f), 'utf8');
      process.stderr.write(`\n----- ${f} (last 40 lines) -----\n${text.split('\n').slice(-40).join('\n')}\n`);
    }
  }

  // Stops every process (SIGTERM, then SIGKILL); returns their exit results.
  async stop({ keep = false } = {}) {
    const results = {};
    for (const name of Object.keys(this.procs)) {
      if (name === 'redis') continue;
      results[name] = await this.stopProc(name);
    }
    if (this.procs.redis) results.redis = await this.stopProc('redis');
    if (!keep) fs.rmSync(this.dir, { recursive: true, force: true });
    return results;
  }
}

module.exports = {
  WEB_ROOT, Stack, Proc, FeedClient, LiveClient, makeCA, makeCert, waitFor, notYet, pastMs, sleep, freePort, isoNow, isoMs, bedsMsg, expectRefused, ambulanceMsg, incidentMsg, httpGet, httpRequest, rawHttp, redisCli, ROOT, BUILD,
};
