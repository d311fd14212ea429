'use strict';
// Fault: the Redis master is killed -9 under a steady feed, with Sentinel.
//
// A master, two replicas and three sentinels on loopback (tests/lib/
// sentinel.js); bp-collector and bp-server find the master through the
// sentinels and acknowledge a change only once a replica has it
// (redis.min_replicas_ack = 1). A sender feeds more than 300 changes/s and
// resends, in order, every line not acknowledged (docs/protocol.md). The
// master is killed once the sentinels are ready; then:
//   - nothing acknowledged is lost: every acknowledged line is in the new
//     master's stream with its source and seq (at its offset), and in the
//     end every line is there exactly once;
//   - the collector accepts lines again (deadline: 15 s after the kill);
//   - /readyz is 200 again, and every connected dashboard holds the last
//     acknowledged change of every hospital;
//   - bp-admin finds the new master through the sentinels;
// and the figures (time to promote, to accept again, to ready; lines
// acknowledged and unavailable) are printed, not asserted. Then the same
// under a manual failover (SENTINEL FAILOVER), where the old master stays
// up and becomes a replica: no acknowledged change may be written to it
// (accepted again within 30 s there: with one replica left, the new master
// confirms nothing until the sentinels make the old master its replica).
// A slow machine may see more than one failover (a master too slow for
// down-after-milliseconds): the checks read the master as it stands.
// The first sentinel in BP_REDIS_SENTINELS is a port where nobody listens:
// every lookup has to go on to the next one.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { Stack, waitFor, sleep, freePort, BUILD, ROOT } = require('../lib/stack');
const { SentinelSet } = require('../lib/sentinel');
const registry = require('../../config/hospitals.json');

const IDS = registry.hospitals.slice(0, 12).map((h) => h.id);
const RATE = 400; // new lines per second (the sender resends on top)
const BATCH = 200; // lines per write at most (a slow round trip under load still carries 400/s)
const WAIT = { timeout: 20000, interval: 50 };
const SOURCE = 'ha-feed';

// The stream as { offset -> {id, source, occupied} } from one Redis.
async function streamOf(ha, port) {
  const raw = (await ha.cli(port, 'XRANGE', 'bp:stream', '-', '+')).split('\n');
  const m = new Map();
  for (let i = 0; i + 6 < raw.length; i += 7) {
    const d = JSON.parse(raw[i + 6]);
    const occ = d.beds && d.beds.medical_surgical ? d.beds.medical_surgical.occupied : undefined;
    m.set(Number(raw[i].split('-')[0]), { id: raw[i + 4], source: d.source, occupied: occ });
  }
  return m;
}

describe('Sentinel failover: the master killed -9 under a feed', () => {
  const ha = new SentinelSet({ replicas: 2, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 3000 });
  const stack = new Stack();
  let feed;
  const clients = [];

  before(stack.guard(async () => {
    await ha.start();
    stack.opts.env = {
      // nobody listens on the first: every lookup goes on to the next
      BP_REDIS_SENTINELS: `127.0.0.1:${await freePort()},${ha.sentinelList}`,
      BP_REDIS_MASTER_NAME: ha.name,
      BP_REDIS_MIN_REPLICAS_ACK: '1',
      BP_REDIS_REPLICA_ACK_TIMEOUT_MS: '1000',
    };
    await stack.startCollector();
    await stack.startServer();
    feed = await stack.feed();
    for (let i = 0; i < 3; i++) {
      const c = await stack.live();
      await c.waitFor((x) => x.snapshot, WAIT);
      clients.push(c);
    }
  }));

  after(async () => {
    for (const c of clients) c.close();
    if (feed) feed.destroy();
    await stack.stop({ keep: true });
    const problems = stack.problems();
    await stack.stop();
    await ha.stop();
    assert.deepEqual(problems, []);
  });

  let seq = 0; // the sender's seq, across both tests

  // A sender as the protocol asks: RATE new lines/s, and every line not
  // acknowledged resent, in order, before anything new. stop() ends the
  // new lines and resolves once every line is acknowledged.
  const sender = () => {
    const s = { sent: [], unacked: [], stop: false, error: undefined, first: seq + 1 };
    const t0 = Date.now();
    const base = seq;
    s.done = (async () => {
      try {
        let probing = false; // nothing got through: small batches until a line does
        while (!s.stop || s.unacked.length) {
          const size = probing ? 10 : BATCH;
          const lines = s.unacked.splice(0, size);
          const due = base + Math.floor(((Date.now() - t0) * RATE) / 1000);
          while (!s.stop && lines.length < size && seq < due) {
            seq++;
            lines.push({ type: 'beds', source: SOURCE, seq, at: new Date().toISOString(), hospital: IDS[seq % IDS.length], beds: { medical_surgical: { occupied: seq } } });
          }
          if (!lines.length) {
            await sleep(5);
            continue;
          }
          const replies = await feed.sendBatch(lines);
          const now = Date.now();
          lines.forEach((line, i) => s.sent.push({ line, reply: replies[i], at: now }));
          const first = replies.findIndex((r) => !r.ok);
          probing = first === 0; // nothing got through: the master is away
          if (first >= 0) {
            s.unacked.unshift(...lines.slice(first)); // resend from there, in order
            await sleep(50);
          }
        }
      } catch (e) {
        s.error = e;
      }
    })();
    s.acked = () => s.sent.filter((x) => x.reply.ok);
    s.t0 = t0;
    return s;
  };

  // What must hold after a failover, for the lines of sender s.
  const checkNothingLost = async (s) => {
    assert.equal(s.error, undefined, `the feed connection failed: ${s.error && s.error.message}`);
    assert.equal(s.unacked.length, 0);
    // every reply is an acknowledgement or "unavailable"
    for (const { line, reply } of s.sent) {
      assert.equal(reply.seq, line.seq);
      if (!reply.ok) assert.equal(reply.error, 'unavailable', JSON.stringify(reply));
    }
    // each line acknowledged as new is at its offset in the new master's
    // stream, with its source and seq (the seq rides in `occupied`)
    // from the master as it stands (a slow machine may see more than one
    // failover: each must keep what was acknowledged)
    const stream = await streamOf(ha, await ha.currentMaster());
    const story = (sq, off) => {
      const mine = s.sent.filter((x) => Math.abs(x.line.seq - sq) <= 3).map((x) => `${x.at - s.t0} ms seq ${x.line.seq}: ${JSON.stringify(x.reply)}`);
      const near = [];
      for (let o = off - 4; o <= off + 4; o++) near.push(`${o}: ${JSON.stringify(stream.get(o))}`);
      return `\nreplies:\n${mine.join('\n')}\nstream:\n${near.join('\n')}`;
    };
    for (const { line, reply } of s.sent.filter((x) => x.reply.ok && !x.reply.duplicate)) {
      const e = stream.get(reply.offset);
      if (!e || e.occupied !== line.seq) assert.fail(`acknowledged seq ${line.seq} at offset ${reply.offset}, the new master has ${JSON.stringify(e)} there${story(line.seq, reply.offset)}`);
      assert.ok(e, `acknowledged seq ${line.seq} (offset ${reply.offset}) is not in the new master's stream`);
      assert.equal(e.source, SOURCE, `offset ${reply.offset}`);
      assert.equal(e.occupied, line.seq, `offset ${reply.offset} holds seq ${e.occupied}, acknowledged for seq ${line.seq}`);
      assert.equal(e.id, line.hospital);
    }
    // every line so far (all acknowledged in the end) is there exactly once
    const seqs = [...stream.values()].filter((e) => e.source === SOURCE).map((e) => e.occupied);
    const ackedSeqs = new Set(s.acked().map((x) => x.line.seq));
    assert.equal(ackedSeqs.size, seq - s.first + 1, `${ackedSeqs.size} of ${seq - s.first + 1} lines acknowledged`);
    assert.equal(seqs.length, seq, `${seqs.length} stream entries for ${seq} lines`);
    assert.equal(new Set(seqs).size, seq, 'a line is in the stream twice');
    // the server follows the new master; every dashboard holds the last
    // acknowledged change of every hospital
    const lastOffset = Math.max(...stream.keys());
    await waitFor(async () => {
      const r = await stack.get('/readyz');
      return r.status === 200 && r.json.offset >= lastOffset;
    }, { ...WAIT, what: 'the server to follow the new master to its last offset' });
    const lastValue = new Map();
    for (let i = 1; i <= seq; i++) lastValue.set(IDS[i % IDS.length], i);
    for (const [i, c] of clients.entries()) {
      await c.waitFor((x) => x.offset >= lastOffset && [...lastValue].every(([h, v]) => {
        const hs = x.hospitals.get(h);
        return hs && hs.beds && hs.beds.medical_surgical && hs.beds.medical_surgical.occupied === v;
      }), { ...WAIT, what: `dashboard ${i} to hold the last acknowledged change of every hospital` });
      assert.equal(c.closeCode, undefined, `dashboard ${i} was disconnected`);
      assert.equal(c.gaps, 0, `dashboard ${i} saw a gap in offsets`);
    }
    return { stream, lastOffset, entries: seqs.length };
  };

  const figures = async (title, s, t, checked) => {
    const metrics = (await stack.get('/metrics')).body;
    const metric = (name) => (new RegExp(`^${name} (\\d+)`, 'm').exec(metrics) || [])[1];
    const unavailable = s.sent.filter((x) => !x.reply.ok).length;
    const duplicates = s.sent.filter((x) => x.reply.ok && x.reply.duplicate).length;
    const snapshots = clients.map((c) => c.ofType('snapshot').length - 1);
    process.stdout.write([
      '',
      `${title} (figures printed, not asserted):`,
      `  feed before the failover:  ${t.rateBefore.toFixed(0)} acknowledged lines/s`,
      `  failover -> promoted:      ${t.promotedAt - t.at} ms (sentinels: down-after 1000 ms)`,
      `  failover -> first refused: ${t.refusedAt - t.at} ms; -> accepted again: ${t.acceptedAt - t.at} ms`,
      `  failover -> /readyz 503 from ${t.unreadyAt - t.at} ms to ${t.readyAt - t.at} ms`,
      `  lines: ${seq - s.first + 1} new, ${s.sent.length} written with resends; acknowledged ${s.acked().length} (${duplicates} as duplicates), unavailable ${unavailable}`,
      `  stream: ${checked.entries} entries of the feed, last offset ${checked.lastOffset}`,
      `  server: reloads ${metric('bedpulse_reloads_total')}, history rewrites ${metric('bedpulse_history_rewrites_total')}; dashboard re-snapshots so far: ${snapshots.join(', ')}`,
      `  failovers so far (+switch-master): ${ha.switches()}`,
      '',
    ].join('\n'));
  };

  // Runs a sender through failover() (which resolves with its start
  // time once it is under way) and checks what must hold; the feed must be
  // accepted again within acceptMs of the failover's start.
  const underFeed = async (title, failover, acceptMs) => {
    const s = sender();
    const t = {};
    try {
      await waitFor(() => s.acked().length >= (3 * RATE) / 2 || s.error, { ...WAIT, what: 'lines acknowledged before the failover' });
      assert.equal(s.error, undefined);
      t.rateBefore = (s.acked().length * 1000) / (Date.now() - s.t0);
      const oldMaster = ha.masterPort;
      t.at = await failover();
      // /readyz, watched from now on: when it stops being 200, when it is back
      let watching = true;
      const readyWatch = (async () => {
        while (watching) {
          const ok = await stack.get('/readyz').then((r) => r.status === 200, () => false);
          if (!ok && !t.unreadyAt) t.unreadyAt = Date.now();
          if (ok && t.unreadyAt) {
            t.readyAt = Date.now();
            return;
          }
          await sleep(20);
        }
      })();
      const newMaster = await ha.waitNewMaster(30000);
      t.promotedAt = Date.now();
      assert.notEqual(newMaster, oldMaster);
      // accepted again (deadline: acceptMs after the failover began): a
      // line acknowledged after the first one refused (none refused: at once)
      const firstAck = await waitFor(() => {
        if (s.error) return s.error;
        const refused = s.sent.find((x) => x.at > t.at && !x.reply.ok);
        t.refusedAt = refused ? refused.at : t.at;
        return s.sent.find((x) => x.at >= t.refusedAt && x.reply.ok && (!refused || x.at > refused.at));
      }, { timeout: Math.max(1000, t.at + acceptMs - Date.now()), interval: 20, what: `the collector to accept lines again within ${acceptMs / 1000} s of the failover` });
      assert.equal(s.error, undefined, `the feed connection failed: ${s.error && s.error.message}`);
      t.acceptedAt = firstAck.at;
      await waitFor(() => t.readyAt || (!t.unreadyAt && Date.now() > t.acceptedAt + 1000), { ...WAIT, what: '/readyz 200 after the failover' });
      watching = false;
      await readyWatch;
      if (!t.readyAt) t.readyAt = t.unreadyAt = t.at; // it never stopped being ready
      // and a steady feed on the new master
      const n = s.acked().length;
      await waitFor(() => s.acked().length >= n + RATE || s.error, { ...WAIT, what: 'lines acknowledged after the failover' });
    } finally {
      s.stop = true;
      await s.done;
    }
    const checked = await checkNothingLost(s);
    await figures(title, s, t, checked);
  };

  test('kill -9 of the master: no acknowledged change lost; feed, server and dashboards back', { timeout: 60000 }, stack.guard(async () => {
    await underFeed('Sentinel failover after kill -9 of the master', () => ha.killMaster(), 15000);
    // bp-admin finds the new master through the sentinels too, and WAITs:
    // a token it created without a warning is on the master as it stands
    // (a slow machine can see a second failover meanwhile)
    await ha.masterWithReplicas(1);
    const admin = spawnSync(path.join(BUILD, 'tools', 'bp-admin'), ['token', 'create', '--role', 'wall', '--json'],
      { env: stack.env(), cwd: ROOT, encoding: 'utf8', timeout: 30000 });
    assert.equal(admin.status, 0, admin.stderr);
    const tok = JSON.parse(admin.stdout);
    if (/warning: only/.test(admin.stderr)) process.stdout.write(`bp-admin: ${admin.stderr}`);
    else assert.equal(await ha.cli(await ha.currentMaster(), 'HGET', `bp:tok:${tok.id}`, 'role'), 'wall');
  }));

  test('manual failover (the old master stays up as a replica): nothing lost, nothing written to it', { timeout: 60000 }, stack.guard(async () => {
    // the dead master is gone: one replica is left to promote
    await ha.waitSentinelsReady(30000, 1);
    const old = await ha.masterWithReplicas(1);
    await underFeed('Sentinel manual failover (SENTINEL FAILOVER)', async () => {
      const at = Date.now();
      assert.equal(await ha.cli([...ha.sentinels.keys()][1], 'SENTINEL', 'FAILOVER', ha.name), 'OK');
      ha.oldMasterPort = old;
      return at;
    }, 30000); // the old master is made a replica at the sentinels' next INFO of it (every 10 s): until then no replica confirms
    // the old master (a replica now) and every other replica converge on
    // the master's stream: nothing written to the old master stays
    // (every running Redis but the master is a replica of it, once it is)
    const master = await ha.masterWithReplicas(ha.redis.size - 1);
    const replicas = [...ha.redis.keys()].filter((p) => p !== master);
    assert.equal(await ha.cli(master, 'WAIT', String(replicas.length), '5000'), String(replicas.length));
    const xlen = await ha.cli(master, 'XLEN', 'bp:stream');
    for (const p of replicas) assert.equal(await ha.cli(p, 'XLEN', 'bp:stream'), xlen, `replica ${p}`);
  }));
});
