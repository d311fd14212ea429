#!/usr/bin/env node
'use strict';
// A randomised nemesis in the spirit of Jepsen (issue 10): for --minutes M
// (default 10) it breaks the stack again and again, one fault after
// another drawn at random from the cases of tests/faults —
//   a  redis-server killed -9, restarted on its AOF
//   c  a bp-server killed -9 (its dashboards move to the other), restarted
//   d  redis-server frozen (SIGSTOP) past the command timeout, thawed
//   e  Redis refusing writes: min-replicas-to-write 1 (NOREPLICAS) or
//      maxmemory 1 (OOM), then put back
//   f  bp-collector killed -9 with lines in flight, restarted
//   g  a bp-server cut off from Redis by its TCP proxy (silent
//      drop or reset), then reconnected
//   h  Redis refusing writes to one hospital's hash only (an ACL): the
//      source reporting it waits behind the refused line, the others go on
// (b, Sentinel failover, is not drawn: the stack here has no Sentinel) —
// under feeds from several sources that resend what was not acknowledged
// and 200 dashboards spread over two servers. After each fault it waits
// for the system to recover (every feed accepted again, both servers
// ready, every dashboard connected and caught up) and checks what must
// hold during the fault (nothing sent to a dead or refusing Redis was
// acknowledged). At the end a checker proves that every acknowledged change
// is in Redis exactly once, with its source and seq, that each entity's
// versions follow one another, and that every dashboard holds what Redis
// holds, with no gap and no duplicate.
//
// It prints the seed first and every fault as it happens, so a failure can
// be replayed with the same draws: --seed N --minutes M. Not part of
// CTest (it runs for minutes); see docs/faults.md for a recorded run.
//
//   node tests/faults/nemesis.js [--seed N] [--minutes M] [--dashboards 200]
//        [--sources 4] [--rate 20]      (lines a second per source)
// Binaries from $BP_BUILD_DIR (default ./build). Exit status 0 when every
// check held.

const fs = require('node:fs');
const { Stack, waitFor, httpGet } = require('../lib/stack');
const { TcpProxy } = require('../lib/proxy');
const { refuseWritesTo: refuseKey, allowAllKeys, Sender, checkStream, readStream, readHospitals, rssKiB, asanOptions, cliAsync, total } = require('../lib/faults');
const { Fleet } = require('../lib/fleet');
const registry = require('../../config/hospitals.json');

const IDS = registry.hospitals.map((h) => h.id);

function args() {
  const o = { seed: null, minutes: 10, dashboards: 200, sources: 4, rate: 20 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const k = a[i].replace(/^--/, '');
    if (!(k in o) || i + 1 >= a.length) {
      console.error(`usage: nemesis.js [--seed N] [--minutes M] [--dashboards N] [--sources N] [--rate N] (unknown: ${a[i]})`);
      process.exit(2);
    }
    o[k] = Number(a[++i]);
  }
  if (o.seed === null || !Number.isFinite(o.seed)) o.seed = Math.floor(Math.random() * 2 ** 31);
  return o;
}

// mulberry32: small, seedable, good enough to draw faults.
function rng(seed) {
  let t = seed >>> 0;
  const next = () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let x = Math.imul(t ^ (t >>> 15), 1 | t);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    between: (lo, hi) => lo + next() * (hi - lo),
    pick: (list) => list[Math.floor(next() * list.length)],
  };
}

const o = args();
const R = rng(o.seed);
const T0 = Date.now();
const stamp = () => `[+${((Date.now() - T0) / 1000).toFixed(1)}s]`;
const say = (s) => console.log(`${stamp()} ${s}`);

async function main() {
  console.log(`nemesis: seed=${o.seed} minutes=${o.minutes} dashboards=${o.dashboards} sources=${o.sources} rate=${o.rate}/s/source build=${process.env.BP_BUILD_DIR || 'build'}`);
  console.log(`replay: BP_BUILD_DIR=${process.env.BP_BUILD_DIR || 'build'} node tests/faults/nemesis.js --seed ${o.seed} --minutes ${o.minutes} --dashboards ${o.dashboards} --sources ${o.sources} --rate ${o.rate}`);
  const TIMEOUT_MS = 3000;
  const stack = new Stack({ env: {
    BP_REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS), BP_STREAM_MAXLEN: '5000000', ASAN_OPTIONS: asanOptions(),
  } });
  // each server reaches Redis through a proxy of its own (fault g)
  const proxies = { server: new TcpProxy(0), second: new TcpProxy(0) };
  const failures = [];
  const fail = (what) => {
    failures.push(what);
    say(`FAILED: ${what}`);
  };
  const log = [];
  let senders = [];
  const serverNames = ['server', 'second'];
  const down = new Set(); // servers killed and not yet back

  await stack.startRedis();
  await stack.startCollector();
  for (const p of Object.values(proxies)) {
    p.targetPort = stack.redisPort;
    await p.start();
  }
  const via = (name) => ({ BP_REDIS_PORT: String(proxies[name].port) });
  await stack.startServer(via('server'));
  await stack.startServer(via('second'), 'second');
  const ports = () => serverNames.filter((n) => !down.has(n) && stack.procs[n]).map((n) => stack.procs[n].port);
  const fleet = new Fleet(o.dashboards, ports());
  await waitFor(() => fleet.s && fleet.s.snapshots === o.dashboards, { timeout: 60000, what: 'every dashboard has a snapshot' });
  const per = Math.floor(IDS.length / o.sources);
  senders = Array.from({ length: o.sources }, (_, i) => new Sender({
    port: () => stack.collectorPort, source: `nemesis-${i}`, hospitals: IDS.slice(i * per, i * per + per), rate: o.rate, window: 64,
  }).start());
  const rss0 = { collector: rssKiB(stack.procs.collector.child.pid), server: rssKiB(stack.procs.server.child.pid) };
  say(`stack up: redis ${stack.redisPort}, collector ${stack.collectorPort}, servers ${ports().join(', ')} (via proxies ${proxies.server.port}, ${proxies.second.port}), ${o.dashboards} dashboards, ${senders.length} feeds; dir ${stack.dir}`);

  const acked = () => total(senders, 'acked');
  const ready = async (name) => {
    try {
      return (await httpGet(stack.procs[name].port, '/readyz')).status === 200;
    } catch (e) {
      return false;
    }
  };
  const redisOffset = async () => Number((await cliAsync(stack.redisPort, 'GET', 'bp:offset')).trim() || 0);
  // Healthy: every feed accepted since `since`, both servers ready, every
  // dashboard connected, told live and at Redis's offset of the start of
  // the wait. Returns the ms it took, or records a failure.
  const recovered = async (since, what) => {
    const t = Date.now();
    const st = { feeds: NaN, ready: NaN, dashboards: NaN };
    try {
      await waitFor(() => senders.every((s) => s.firstAckAfter(since) !== null), { timeout: 60000, interval: 50, what: 'every feed accepted again' });
      st.feeds = Date.now() - t;
      await waitFor(async () => (await ready('server')) && (await ready('second')), { timeout: 60000, interval: 100, what: 'both servers ready' });
      st.ready = Date.now() - t;
      const target = await redisOffset();
      const t1 = Date.now();
      await waitFor(() => fleet.s.connected === o.dashboards && fleet.s.stale === 0 && fleet.s.minOffset >= target && Date.now() - t1 > 100,
        { timeout: 240000, interval: 100, what: `every dashboard connected, live, at offset ${target}` })
        .catch((e) => {
          throw new Error(`${e.message}; ${JSON.stringify(fleet.s)}`);
        });
      st.dashboards = Date.now() - t;
    } catch (e) {
      fail(`${what}: did not recover: ${e.message}`);
    }
    return st;
  };
  const checkAlive = () => {
    for (const [name, p] of Object.entries(stack.procs)) {
      if (!p.running) fail(`${name} exited by itself (code ${p.code}, signal ${p.signal})`);
    }
  };
  // once refused after `from`, nothing may have been acknowledged before `to`
  const noneAcked = (from, to, what, among = senders) => {
    const bad = among.flatMap((s) => s.ackedWhileRefused(from, to).map((b) => `${s.source}#${b.seq}`));
    if (bad.length) fail(`${what}: ${bad.length} lines acknowledged while they could not be committed (${bad.slice(0, 5).join(', ')})`);
  };

  const refuseWritesTo = (key) => refuseKey((...a) => stack.redis(...a), key);

  const faults = {
    async a() {
      const hold = R.between(1000, 5000);
      const t = Date.now();
      await stack.killRedis();
      await waitFor(() => Date.now() - t >= hold, { timeout: hold + 1000, what: 'the outage' });
      const start = Date.now();
      await stack.startRedis({ timeout: 120000 }); // it loads its AOF first
      noneAcked(t, start, 'a');
      return { detail: `redis killed -9 for ${(hold / 1000).toFixed(1)} s`, since: start };
    },
    async c() {
      const name = R.pick(serverNames);
      const port = String(stack.procs[name].port);
      const on = fleet.s.perPort[port] || 0;
      down.add(name);
      fleet.ports(ports());
      await stack.stopProc(name, 'SIGKILL');
      const t = Date.now();
      await waitFor(() => fleet.s.connected === o.dashboards && !fleet.s.perPort[port] && Date.now() - t > 200,
        { timeout: 180000, interval: 100, what: 'dashboards moved' }).catch((e) => fail(`c: ${e.message}; ${JSON.stringify(fleet.s)}`));
      const moved = Date.now() - t;
      await stack.startServer(via(name), name);
      down.delete(name);
      fleet.ports(ports());
      return { detail: `${name} killed -9 under ${on} dashboards, they moved in ${(moved / 1000).toFixed(1)} s`, since: Date.now() };
    },
    async d() {
      const hold = R.between(TIMEOUT_MS + 1000, 12000);
      const pid = stack.procs.redis.child.pid;
      const t = Date.now();
      process.kill(pid, 'SIGSTOP');
      const u0 = total(senders, 'unavailable');
      try {
        await waitFor(() => Date.now() - t >= hold, { timeout: hold + 1000, what: 'the freeze' });
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      const refused = total(senders, 'unavailable') - u0;
      if (!refused) fail('d: no line answered while Redis was frozen');
      return { detail: `redis frozen ${(hold / 1000).toFixed(1)} s (${refused} lines answered unavailable meanwhile)`, since: Date.now() };
    },
    async e() {
      const cause = R.pick([['NOREPLICAS', 'min-replicas-to-write', '1', '0'], ['OOM', 'maxmemory', '1', '0']]);
      const hold = R.between(1000, 5000);
      const t = Date.now();
      stack.redis('CONFIG', 'SET', cause[1], cause[2]);
      await waitFor(() => Date.now() - t >= hold, { timeout: hold + 1000, what: 'the refusal' });
      const named = senders.some((s) => [...s.messages.keys()].some((m) => m.includes(cause[0])));
      const clear = Date.now();
      stack.redis('CONFIG', 'SET', cause[1], cause[3]);
      noneAcked(t, clear, `e ${cause[0]}`);
      if (!named) fail(`e: no answer named ${cause[0]}`);
      return { detail: `redis refused writes (${cause[0]}) for ${(hold / 1000).toFixed(1)} s`, since: clear };
    },
    async h() {
      // Redis refuses writes to one hospital's hash only (an ACL without
      // write access to that key, as in overtake.test.js): that source's
      // lines behind the refused one wait with it (the prev rule), the
      // other sources go on
      const s = R.pick(senders);
      const hospital = R.pick(s.hospitals);
      const hold = R.between(1000, 5000);
      const acks0 = total(senders.filter((x) => x !== s), 'acked');
      const t = Date.now();
      refuseWritesTo(`bp:h:${hospital}`);
      try {
        await waitFor(() => Date.now() - t >= hold, { timeout: hold + 1000, what: 'the one-key refusal' });
      } finally {
        allowAllKeys((...a) => stack.redis(...a));
      }
      const clear = Date.now();
      const named = [...s.messages.keys()].some((m) => m.includes('NOPERM'));
      const refusedAt = s.refusedAt.find((r) => r.ms >= t);
      if (refusedAt) noneAcked(t, clear, `h ${s.source} behind ${hospital}`, [s]);
      else say(`h: ${s.source} sent nothing for ${hospital} during the refusal`);
      if (refusedAt && !named) fail(`h: no answer named NOPERM`);
      const others = total(senders.filter((x) => x !== s), 'acked') - acks0;
      if (senders.length > 1 && !others) fail('h: the other sources were held up too');
      return { detail: `redis refused writes to bp:h:${hospital} for ${(hold / 1000).toFixed(1)} s (${s.source} held; ${others} lines of the others acknowledged meanwhile)`, since: clear };
    },
    async f() {
      const hold = R.between(0, 3000);
      const inFlight = senders.reduce((n, s) => n + s.lines.filter((b) => b.attempts > 0 && b.offset === null).length, 0);
      const t = Date.now();
      await stack.stopProc('collector', 'SIGKILL');
      await waitFor(() => Date.now() - t >= hold, { timeout: hold + 1000, what: 'the collector down' });
      await stack.startCollector();
      return { detail: `collector killed -9 with ${inFlight} lines in flight, down ${(hold / 1000).toFixed(1)} s`, since: Date.now() };
    },
    async g() {
      const how = R.pick(['blackhole', 'cut']);
      const hold = R.between(2000, 8000);
      // the server with the most dashboards (they move when one is killed)
      const name = serverNames.map((x) => [x, fleet.s.perPort[String(stack.procs[x].port)] || 0]).sort((a, b) => b[1] - a[1])[0][0];
      const t = Date.now();
      proxies[name][how]();
      await waitFor(() => Date.now() - t >= hold, { timeout: hold + 1000, what: 'the cut' });
      const stale = fleet.s.stale;
      proxies[name].restore();
      return { detail: `${name} cut off from Redis (${how}) for ${(hold / 1000).toFixed(1)} s, ${stale} dashboards told stale`, since: Date.now() };
    },
  };

  const end = T0 + o.minutes * 60000;
  let n = 0;
  while (Date.now() < end && failures.length === 0) {
    const quiet = R.between(2000, 6000);
    const q0 = Date.now();
    await waitFor(() => Date.now() - q0 >= quiet, { timeout: quiet + 1000, what: 'quiet' });
    const kind = R.pick(Object.keys(faults));
    n++;
    const t = Date.now();
    let r;
    try {
      r = await faults[kind]();
    } catch (e) {
      fail(`#${n} ${kind}: ${e.stack || e.message}`);
      break;
    }
    const rec = await recovered(r.since, `#${n} ${kind}`);
    checkAlive();
    const entry = { n, kind, at_s: Math.round((t - T0) / 100) / 10, fault_ms: r.since - t, recover_ms: rec.dashboards, detail: r.detail };
    log.push(entry);
    const secs = (ms) => (ms / 1000).toFixed(1);
    say(`#${n} ${kind}: ${r.detail}; recovered: feeds accepted in ${secs(rec.feeds)} s, servers ready in ${secs(rec.ready)} s, dashboards caught up in ${secs(rec.dashboards)} s; ${acked()} lines acknowledged so far`);
  }

  say('faults over; draining the feeds');
  const left = [];
  for (const s of senders) left.push(await s.stop(60000));
  if (left.some((x) => x)) fail(`lines never acknowledged: ${left.join('/')}`);
  const rss1 = { collector: rssKiB(stack.procs.collector.child.pid), server: stack.procs.server ? rssKiB(stack.procs.server.child.pid) : NaN };

  say('checking the dashboards');
  const conv = { ms: NaN, bad: NaN };
  try {
    const t = Date.now();
    const target = await redisOffset();
    await waitFor(() => fleet.s.minOffset >= target && Date.now() - t > 100, { timeout: 120000, interval: 100, what: `every dashboard at offset ${target}` });
    conv.ms = Date.now() - t;
    const stored = await readHospitals(stack.redisPort, IDS, 'bp:', cliAsync);
    if (await redisOffset() !== target) throw new Error('Redis changed during the comparison');
    const r = await fleet.compare(stored);
    conv.bad = r.bad;
    if (r.bad) fail(`${r.bad} dashboards differ from Redis: ${r.diffs.join('; ')}`);
  } catch (e) {
    fail(`dashboards: ${e.message}`);
  }
  say('checking the stream');
  const stream = await readStream(stack.redisPort, 'bp:', cliAsync);
  const check = checkStream(stream, senders);
  for (const p of check.problems.slice(0, 20)) fail(`stream: ${p}`);
  if (check.problems.length > 20) fail(`stream: ${check.problems.length - 20} more problems`);
  for (const s of senders) {
    if (s.errors.length) fail(`${s.source}: ${s.errors.length} answers other than ok/unavailable, e.g. ${JSON.stringify(s.errors[0])}`);
    if (s.error) fail(`${s.source}: ${s.error.stack || s.error}`);
  }
  const { gaps, duplicates: dups, welcomes, reconnects } = fleet.s;
  if (gaps || dups) fail(`dashboards saw ${gaps} gaps and ${dups} duplicates`);
  if (fleet.error) fail(`dashboards' worker: ${fleet.error.stack || fleet.error}`);
  await fleet.close();
  for (const p of Object.values(proxies)) await p.close();
  await stack.stop({ keep: true });
  for (const p of stack.sanitizerReports()) fail(`sanitizer: ${p}`);
  const unclean = stack.exits.filter((e) => e.sent === 'none');
  for (const e of unclean) fail(`${e.name} exited by itself (code ${e.code}, signal ${e.signal})`);

  const sum = (k) => total(senders, k);
  const counts = {};
  for (const e of log) counts[e.kind] = (counts[e.kind] || 0) + 1;
  console.log('');
  console.log(`nemesis result: ${failures.length ? 'FAILED' : 'OK'} seed=${o.seed} minutes=${((Date.now() - T0) / 60000).toFixed(1)}`);
  console.log(`faults: ${log.length} (${Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(' ')}); recovery ms max ${Math.max(0, ...log.map((e) => e.recover_ms))}, median ${log.length ? log.map((e) => e.recover_ms).sort((x, y) => x - y)[Math.floor(log.length / 2)] : 0}`);
  console.log(`feeds: lines=${check.lines} acknowledged=${check.acked} sent=${sum('sent')} duplicate_acks=${sum('duplicates')} unavailable=${sum('unavailable')} connections=${sum('connects')} stream_entries=${check.entries} problems=${check.problems.length}`);
  console.log(`dashboards: ${o.dashboards} gaps=${gaps} duplicates=${dups} reconnects=${reconnects} ${Object.entries(welcomes).map(([k, v]) => `${k}=${v}`).join(' ')} converge_ms=${conv.ms} differing=${conv.bad}`);
  console.log(`memory KiB: collector ${rss0.collector} -> ${rss1.collector}, server ${rss0.server} -> ${rss1.server} (both restarted when killed)`);
  for (const f of failures) console.log(`failure: ${f}`);
  if (failures.length) {
    console.log(`logs kept in ${stack.dir}`);
  } else {
    fs.rmSync(stack.dir, { recursive: true, force: true });
  }
  process.exitCode = failures.length ? 1 : 0;
}

main().catch((e) => {
  console.error(`nemesis: ${e.stack || e}`);
  console.error(`seed=${o.seed}`);
  process.exitCode = 1;
});
