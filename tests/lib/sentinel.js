'use strict';
// Test harness for high availability: a Redis master, its replicas and
// Redis Sentinels on random free loopback ports, in a private directory.
// Every Redis persists with AOF, appendfsync always (as in production).
//
// start() returns only when the set is ready for a failover (DESIGN §10):
// the master's INFO replication shows every replica `state=online`, and
// every sentinel lists every replica (SENTINEL replicas) and every other
// sentinel (SENTINEL sentinels) and passes SENTINEL ckquorum. Killed any
// earlier, the other replica may never be reconfigured, or the sentinels
// may not reach the votes to fail over.
//
// Sentinel timing: down-after-milliseconds and failover-timeout are small
// (options), so a failover takes a few seconds.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile, execFileSync } = require('node:child_process');
const { Proc, freePort, waitFor } = require('./stack');

// redis-cli against one port; resolves to its --raw output, or throws.
function cli(port, ...args) {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-p', String(port), '--raw', ...args], { encoding: 'utf8', timeout: 5000 },
      (err, out) => (err ? reject(err) : resolve(out.trimEnd())));
  });
}

function cliSync(port, ...args) {
  return execFileSync('redis-cli', ['-p', String(port), '--raw', ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 }).trimEnd();
}

class SentinelSet {
  // opts: replicas (2), sentinels (3), name ('bedpulse'), quorum (2),
  // downAfterMs (1000), failoverTimeoutMs (5000)
  constructor(opts = {}) {
    this.opts = Object.assign({ replicas: 2, sentinels: 3, name: 'bedpulse', quorum: 2, downAfterMs: 1000, failoverTimeoutMs: 5000 }, opts);
    this.name = this.opts.name;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-ha-'));
    this.redis = new Map(); // port -> Proc
    this.sentinels = new Map(); // port -> Proc
    this.masterPort = null;
  }

  // "127.0.0.1:p1,127.0.0.1:p2,..." for BP_REDIS_SENTINELS
  get sentinelList() {
    return [...this.sentinels.keys()].map((p) => `127.0.0.1:${p}`).join(',');
  }

  startRedis(port, replicaOf) {
    const dir = path.join(this.dir, `redis-${port}`);
    fs.mkdirSync(dir, { recursive: true });
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no',
      '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
      // the first sync at once, not after the default 5 s (DESIGN §10)
      '--repl-diskless-sync-delay', '0'];
    if (replicaOf) args.push('--replicaof', '127.0.0.1', String(replicaOf));
    const p = new Proc(`redis-${port}`, 'redis-server', args, { env: process.env, log: path.join(this.dir, `redis-${port}.log`) });
    this.redis.set(port, p);
    return p;
  }

  startSentinel(port) {
    const conf = path.join(this.dir, `sentinel-${port}.conf`);
    const o = this.opts;
    fs.writeFileSync(conf, [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${this.dir}`,
      `sentinel monitor ${o.name} 127.0.0.1 ${this.masterPort} ${o.quorum}`,
      `sentinel down-after-milliseconds ${o.name} ${o.downAfterMs}`,
      `sentinel failover-timeout ${o.name} ${o.failoverTimeoutMs}`,
      `sentinel parallel-syncs ${o.name} ${o.replicas}`,
      '',
    ].join('\n'));
    const p = new Proc(`sentinel-${port}`, 'redis-server', [conf, '--sentinel'], { env: process.env, log: path.join(this.dir, `sentinel-${port}.log`) });
    this.sentinels.set(port, p);
    return p;
  }

  async start() {
    this.masterPort = await freePort();
    this.startRedis(this.masterPort);
    await waitFor(async () => (await cli(this.masterPort, 'PING')) === 'PONG', { what: 'the master to answer', timeout: 10000 });
    for (let i = 0; i < this.opts.replicas; i++) this.startRedis(await freePort(), this.masterPort);
    await this.waitReplicasOnline(this.masterPort, this.opts.replicas, 30000);
    for (let i = 0; i < this.opts.sentinels; i++) this.startSentinel(await freePort());
    await this.waitSentinelsReady(30000);
    return this;
  }

  // The master's replicas with state=online (INFO replication).
  async onlineReplicas(port) {
    const info = await cli(port, 'INFO', 'replication');
    return info.split('\n').filter((l) => /^slave\d+:/.test(l) && /state=online/.test(l)).length;
  }

  async waitReplicasOnline(port, n, timeout = 30000) {
    await waitFor(async () => (await this.onlineReplicas(port)) >= n,
      { what: `${n} replicas online at ${port}`, timeout, interval: 100 });
  }

  // Every sentinel knows the master, `replicas` working replicas (all of
  // them by default) and every other sentinel, and has its quorum.
  async waitSentinelsReady(timeout = 30000, replicas = this.opts.replicas) {
    const want = replicas;
    const others = this.opts.sentinels - 1;
    await waitFor(async () => {
      for (const port of this.sentinels.keys()) {
        const replicas = await this.sentinelTable(port, 'replicas');
        const online = replicas.filter((r) => !/s_down|o_down|disconnected/.test(r.flags));
        if (online.length < want) return false;
        const sentinels = await this.sentinelTable(port, 'sentinels');
        if (sentinels.length < others) return false;
        if (!/^OK/.test(await cli(port, 'SENTINEL', 'ckquorum', this.name))) return false;
      }
      return true;
    }, { what: 'every sentinel to list every replica and sentinel', timeout, interval: 200 });
  }

  // SENTINEL replicas|sentinels NAME as objects (field -> value).
  async sentinelTable(port, what) {
    const out = await cli(port, 'SENTINEL', what, this.name);
    if (!out) return [];
    // --raw prints nested arrays flat: name, value, name, value, ...; each
    // entry starts with "name"
    const lines = out.split('\n');
    const rows = [];
    let cur = null;
    for (let i = 0; i + 1 < lines.length; i += 2) {
      if (lines[i] === 'name') {
        cur = {};
        rows.push(cur);
      }
      if (cur) cur[lines[i]] = lines[i + 1];
    }
    return rows;
  }

  // The master's port as the first sentinel that answers says.
  async sentinelMaster() {
    for (const port of this.sentinels.keys()) {
      try {
        const out = (await cli(port, 'SENTINEL', 'get-master-addr-by-name', this.name)).split('\n');
        if (out.length === 2) return Number(out[1]);
      } catch (e) {
        /* try the next */
      }
    }
    return null;
  }

  async role(port) {
    try {
      return (await cli(port, 'ROLE')).split('\n')[0];
    } catch (e) {
      return null;
    }
  }

  // SIGKILLs the master; resolves with the time of the kill.
  async killMaster() {
    const p = this.redis.get(this.masterPort);
    const at = Date.now();
    await p.stop('SIGKILL');
    this.redis.delete(this.masterPort);
    this.oldMasterPort = this.masterPort;
    return at;
  }

  // Waits until the sentinels name a new master that says it is one;
  // resolves with its port (and remembers it).
  async waitNewMaster(timeout = 30000) {
    const port = await waitFor(async () => {
      const p = await this.sentinelMaster();
      return p && p !== this.oldMasterPort && (await this.role(p)) === 'master' ? p : false;
    }, { what: 'the sentinels to promote a replica', timeout, interval: 50 });
    this.masterPort = port;
    return port;
  }

  // The master as it stands: every sentinel names the same address and
  // it says it is a master (after several failovers, the last one).
  async currentMaster(timeout = 30000) {
    const port = await waitFor(async () => {
      const named = new Set();
      for (const p of this.sentinels.keys()) {
        const out = (await cli(p, 'SENTINEL', 'get-master-addr-by-name', this.name)).split('\n');
        named.add(Number(out[1]));
      }
      const [m] = named;
      return named.size === 1 && (await this.role(m)) === 'master' ? m : false;
    }, { what: 'the sentinels to agree on a master', timeout, interval: 100 });
    this.masterPort = port;
    return port;
  }

  // The master as it stands, once it has `replicas` replicas online.
  async masterWithReplicas(replicas = 1, timeout = 30000) {
    return waitFor(async () => {
      const m = await this.currentMaster(timeout);
      return (await this.onlineReplicas(m)) >= replicas ? m : false;
    }, { what: `a master with ${replicas} replicas online`, timeout, interval: 100 });
  }

  // Failovers so far, as the first sentinel logged them (+switch-master).
  switches() {
    const [port] = this.sentinels.keys();
    const f = path.join(this.dir, `sentinel-${port}.log`);
    return fs.existsSync(f) ? (fs.readFileSync(f, 'utf8').match(/\+switch-master /g) || []).length : 0;
  }

  cli(port, ...args) {
    return cli(port, ...args);
  }

  cliSync(port, ...args) {
    return cliSync(port, ...args);
  }

  logText() {
    return fs.readdirSync(this.dir).filter((f) => f.endsWith('.log'))
      .map((f) => `----- ${f} -----\n${fs.readFileSync(path.join(this.dir, f), 'utf8').split('\n').slice(-30).join('\n')}`).join('\n');
  }

  async stop() {
    for (const p of this.sentinels.values()) await p.stop();
    for (const p of this.redis.values()) await p.stop();
    this.sentinels.clear();
    this.redis.clear();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { SentinelSet, cli, cliSync };
