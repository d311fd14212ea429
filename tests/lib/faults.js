'use strict';
// Fault-injection helpers (tests/faults, issue 10): a feed sender that does
// what docs/protocol.md asks of senders ("Resending after unavailable": every
// line not acknowledged is resent, in order, with its seq, before anything
// new, on the same connection or a new one) and keeps every answer; a
// dashboard that reconnects and resumes; and the checks a fault ends with:
// every acknowledged change is in the stream exactly once with its source
// and seq, each entity's versions follow one another, every dashboard holds
// what Redis holds.
//
// A line says who it is: its ED reason is "<source>#<seq>", so the stream
// entry of every line can be found (the stream keeps the source, not the
// seq).

const assert = require('node:assert/strict');
const { execFileSync, execFile } = require('node:child_process');
const fs = require('node:fs');
const { FeedClient, LiveClient, waitFor, sleep } = require('./stack');

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

// Under AddressSanitizer freed memory sits in a quarantine (256 MB by
// default) and shows as RSS; a small one keeps memory bounds meaningful.
function asanOptions() {
  return [process.env.ASAN_OPTIONS, 'quarantine_size_mb=4:thread_local_quarantine_size_kb=64'].filter(Boolean).join(':');
}

// One line of figures for the test's output: "[faults] name: k=v k=v".
function summary(name, figures) {
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : v}`);
  const line = `[faults] ${name}: ${parts.join(' ')}`;
  console.log(line);
  return line;
}

// redis-cli with room for big answers (the whole stream of a long run).
function cli(port, ...args) {
  return execFileSync('redis-cli', ['-p', String(port), '--raw', ...args],
    { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
}

// The same without blocking this thread (a proxy or a worker's messages
// go on meanwhile).
function cliAsync(port, ...args) {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-p', String(port), '--raw', ...args], { encoding: 'utf8', maxBuffer: 1 << 30 },
      (e, out) => (e ? reject(e) : resolve(out)));
  });
}

// Every stream entry, by offset: { kind, id, data }. With run = cliAsync
// it returns a promise.
function readStream(port, prefix = 'bp:', run = cli) {
  const out = new Map();
  const page = (from, raw) => {
    const lines = raw.split('\n');
    let n = 0;
    let last = null;
    for (let i = 0; i + 6 < lines.length; i += 7) {
      const offset = Number(lines[i].split('-')[0]);
      out.set(offset, { kind: lines[i + 2], id: lines[i + 4], data: JSON.parse(lines[i + 6]) });
      last = offset;
      n++;
    }
    return n < 20000 ? null : `${last + 1}-0`;
  };
  const args = (from) => ['XRANGE', `${prefix}stream`, from, '+', 'COUNT', '20000'];
  if (run === cli) {
    for (let from = '-'; from;) from = page(from, cli(port, ...args(from)));
    return out;
  }
  return (async () => {
    for (let from = '-'; from;) from = page(from, await run(port, ...args(from)));
    return out;
  })();
}

// Every hospital hash as the apply script stores it: id -> { version, beds
// (staffed/occupied per type), ed }. With run = cliAsync, a promise.
function readHospitals(port, ids, prefix = 'bp:', run = cli) {
  if (run !== cli) {
    return Promise.all(ids.map((id) => run(port, 'HGETALL', `${prefix}h:${id}`)))
      .then((texts) => parseHospitals(ids, texts));
  }
  return parseHospitals(ids, ids.map((id) => cli(port, 'HGETALL', `${prefix}h:${id}`)));
}

function parseHospitals(ids, texts) {
  const out = new Map();
  for (let j = 0; j < ids.length; j++) {
    const id = ids[j];
    const text = texts[j];
    if (text.trim() === '') continue; // never reported
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const f = {};
    for (let i = 0; i + 1 < lines.length; i += 2) f[lines[i]] = lines[i + 1];
    const beds = {};
    for (const [k, v] of Object.entries(f)) {
      const m = /^([a-z_]+)\.([so])$/.exec(k);
      if (m) (beds[m[1]] = beds[m[1]] || {})[m[2] === 's' ? 'staffed' : 'occupied'] = Number(v);
    }
    out.set(id, { version: Number(f.v), beds, ed: f.ed === undefined ? undefined : JSON.parse(f.ed) });
  }
  return out;
}

// A feed sender that resends what was not acknowledged. It makes `rate`
// new lines a second for its own hospitals (each source reports its own:
// two sources never race on one hospital's report time), sends up to
// `window` of the lines not yet acknowledged at once, oldest first, and
// waits for their answers. An `unavailable` answer keeps the line (and all
// after it) for the next round; a lost connection is replaced by a new one
// (the collector may be restarting) and everything not acknowledged is
// resent on it. Nothing is ever given up.
class Sender {
  constructor({ port, source, hospitals, rate = 300, window = 64, retryMs = 50 }) {
    this.port = typeof port === 'function' ? port : () => port;
    this.source = source;
    this.hospitals = hospitals;
    this.rate = rate;
    this.window = window;
    this.retryMs = retryMs;
    this.seq = 0;
    this.lines = []; // by seq - 1: { seq, line, attempts, offset, duplicate, ackedMs }
    this.pending = []; // lines not acknowledged, oldest first
    this.feed = null;
    this.stopping = false;
    this.paused = false;
    this.error = null;
    this.st = {
      sent: 0, acked: 0, duplicates: 0, unavailable: 0, otherErrors: 0, connects: 0, lostConnections: 0,
      maxReplyMs: 0, okAfterRefusal: 0,
    };
    this.messages = new Map(); // distinct unavailable messages -> count
    this.errors = []; // answers other than ok / unavailable (should stay empty)
    this.acks = []; // ack times (ms), in order
    this.refusedAt = []; // { ms, no } of each first unavailable answer after an ok one
    this.lastOk = true;
    this.replies = 0; // answers received: their order (time has ties)
    this.startedMs = Date.now();
  }

  start() {
    this.startedMs = Date.now();
    this.done = this.run().catch((e) => {
      this.error = e;
    });
    return this;
  }

  // Stops making new lines; resolves once everything made is acknowledged
  // (or the timeout passes: then `left` says how many were not).
  async stop(timeoutMs = 60000) {
    this.stopping = true;
    const end = Date.now() + timeoutMs;
    while (this.pending.length && Date.now() < end && !this.error) await sleep(20);
    this.left = this.pending.length;
    this.halt = true;
    await this.done;
    if (this.feed) this.feed.destroy();
    return this.left;
  }

  // Makes no new lines until resume(); resolves once every line made is
  // acknowledged (Redis then holds everything this sender will write).
  async pause(timeoutMs = 30000) {
    this.paused = true;
    await waitFor(() => this.pending.length === 0 || this.error, { timeout: timeoutMs, what: `${this.source} to drain` });
  }

  resume() {
    // the rate counts from now: no burst for the time paused
    this.startedMs = Date.now() - (this.seq * 1000) / this.rate;
    this.paused = false;
  }

  makeLine() {
    const seq = ++this.seq;
    const line = {
      type: 'beds', source: this.source, seq, at: new Date().toISOString(),
      hospital: this.hospitals[seq % this.hospitals.length],
      beds: { medical_surgical: { staffed: 2000, occupied: (seq * 7) % 2500 } },
      ed: { status: 'advisory', reason: `${this.source}#${seq}` },
    };
    const rec = { seq, line, text: JSON.stringify(line), attempts: 0, offset: null, duplicate: false, firstSentMs: null, ackedMs: null };
    this.lines.push(rec);
    this.pending.push(rec);
  }

  // Lines owed by the rate since start, not made yet.
  due() {
    if (this.stopping || this.paused) return 0;
    return Math.max(0, Math.floor(((Date.now() - this.startedMs) * this.rate) / 1000) - this.seq);
  }

  async connect() {
    for (let attempt = 0; !this.halt; attempt++) {
      try {
        this.feed = await new FeedClient(this.port()).connect();
        this.st.connects++;
        return;
      } catch (e) {
        await sleep(Math.min(500, 20 * 2 ** attempt));
      }
    }
  }

  async run() {
    while (!this.halt) {
      if (!this.feed || this.feed.closed) {
        if (this.feed) this.st.lostConnections++;
        this.feed = null;
        await this.connect();
        continue;
      }
      const owed = this.due();
      for (let i = 0; i < owed && this.pending.length < this.window * 64; i++) this.makeLine();
      if (!this.pending.length) {
        await sleep(Math.max(2, Math.min(50, 1000 / this.rate)));
        continue;
      }
      const batch = this.pending.slice(0, this.window);
      const refused = await this.round(batch);
      if (refused) await sleep(this.retryMs);
    }
  }

  // Sends a batch in one write; settles every answer. true when a line was
  // not acknowledged (refused or the connection was lost).
  async round(batch) {
    const feed = this.feed;
    const t0 = Date.now();
    const answers = batch.map(() => feed.expect().then((r) => ({ r, ms: Date.now() - t0 }), (e) => ({ e })));
    feed.sock.write(batch.map((b) => b.text + '\n').join(''));
    for (const b of batch) {
      b.attempts++;
      if (b.firstSentMs === null) b.firstSentMs = t0;
    }
    this.st.sent += batch.length;
    const got = await Promise.all(answers);
    let refused = false;
    const acked = new Set();
    for (let i = 0; i < batch.length; i++) {
      const b = batch[i];
      const { r, e, ms } = got[i];
      if (e) {
        refused = true;
        continue;
      }
      if (ms > this.st.maxReplyMs) this.st.maxReplyMs = ms;
      const no = ++this.replies;
      const at = t0 + ms; // when this answer came
      if (r.seq !== b.seq) this.errors.push({ seq: b.seq, reply: r, why: 'answer for another seq' });
      if (r.ok) {
        this.lastOk = true;
        if (refused) this.st.okAfterRefusal++; // applied behind a refused line
        if (b.offset === null) {
          b.offset = r.offset;
          b.duplicate = !!r.duplicate;
          b.ackedMs = at;
          b.ackedNo = no;
          this.acks.push(b.ackedMs);
          this.st.acked++;
          if (r.duplicate) this.st.duplicates++;
        }
        acked.add(b);
      } else if (r.error === 'unavailable') {
        refused = true;
        this.st.unavailable++;
        if (this.lastOk) this.refusedAt.push({ ms: at, no });
        this.lastOk = false;
        const m = String(r.message);
        this.messages.set(m, (this.messages.get(m) || 0) + 1);
      } else {
        // a final answer: the line is dropped (and the checks fail)
        refused = true;
        this.st.otherErrors++;
        this.errors.push({ seq: b.seq, reply: r });
        acked.add(b);
      }
    }
    if (acked.size) this.pending = this.pending.filter((b) => !acked.has(b));
    return refused;
  }

  // First acknowledgement at or after time t (ms), or null.
  firstAckAfter(t) {
    const a = this.acks.find((x) => x >= t);
    return a === undefined ? null : a;
  }

  ackedSince(t) {
    return this.acks.filter((x) => x >= t).length;
  }

  // When the first `unavailable` answer at or after time t (ms) came, or null.
  firstRefusalAfter(t) {
    const x = this.refusedAt.find((r) => r.ms >= t);
    return x === undefined ? null : x.ms;
  }

  // Lines acknowledged after this sender's first refusal at or after
  // `from` (by the order of answers: several come in one millisecond) and
  // before `to`: what must not exist while Redis cannot commit (answers
  // come in order, and once a line is refused the connection takes nothing
  // until it is resent and Redis is back).
  ackedWhileRefused(from, to) {
    const first = this.refusedAt.find((r) => r.ms >= from);
    if (!first) return [];
    return this.lines.filter((b) => b.ackedMs !== null && b.ackedNo > first.no && b.ackedMs < to);
  }
}

// Proves what the stream holds against what the senders were told:
// - every line acknowledged as new is at its offset, with its source and
//   seq; every acknowledged line (new or duplicate) is in the stream exactly
//   once; no line of these senders is in it twice;
// - offsets run without a hole from the first entry to the last;
// - each entity's versions go up by one from entry to entry.
// Returns { entries, lines, acked, problems: [] }.
function checkStream(stream, senders) {
  const problems = [];
  const seen = new Map(); // "source#seq" -> count
  const offsets = [...stream.keys()].sort((a, b) => a - b);
  for (let i = 1; i < offsets.length; i++) {
    if (offsets[i] !== offsets[i - 1] + 1) problems.push(`stream hole between offsets ${offsets[i - 1]} and ${offsets[i]}`);
  }
  const versions = new Map();
  for (const off of offsets) {
    const e = stream.get(off);
    const key = `${e.kind}:${e.id}`;
    const v = e.data.version;
    const prev = versions.get(key);
    if (prev !== undefined && v !== prev + 1) problems.push(`${key}: version ${v} at offset ${off} after ${prev}`);
    versions.set(key, v);
    const tag = e.data.ed && e.data.ed.reason;
    if (tag) seen.set(tag, (seen.get(tag) || 0) + 1);
  }
  let acked = 0;
  let lines = 0;
  for (const s of senders) {
    for (const b of s.lines) {
      lines++;
      const tag = `${s.source}#${b.seq}`;
      const n = seen.get(tag) || 0;
      if (n > 1) problems.push(`${tag} is in the stream ${n} times`);
      if (b.offset === null) continue;
      acked++;
      if (n !== 1) problems.push(`${tag} acknowledged (offset ${b.offset}${b.duplicate ? ', duplicate' : ''}) but in the stream ${n} times`);
      if (!b.duplicate) {
        const e = stream.get(b.offset);
        if (!e || e.data.source !== s.source || !e.data.ed || e.data.ed.reason !== tag) {
          problems.push(`${tag} acknowledged at offset ${b.offset}, which holds ${e ? `${e.data.source} ${e.data.ed && e.data.ed.reason}` : 'nothing'}`);
        }
      }
    }
  }
  return { entries: stream.size, lines, acked, problems };
}

// Whether a dashboard's hospitals equal Redis's: versions, staffed and
// occupied figures, ED status and reason. Returns the differences.
function compareDashboard(client, redisHospitals) {
  const diffs = [];
  for (const [id, r] of redisHospitals) {
    const h = client.hospitals.get(id);
    if (!h) {
      diffs.push(`${id}: missing`);
      continue;
    }
    if (h.version !== r.version) diffs.push(`${id}: version ${h.version} != ${r.version}`);
    for (const [t, f] of Object.entries(r.beds)) {
      const b = (h.beds || {})[t] || {};
      if (f.occupied !== undefined && b.occupied !== f.occupied) diffs.push(`${id}.${t}.occupied ${b.occupied} != ${f.occupied}`);
      if (f.staffed !== undefined && b.staffed !== f.staffed) diffs.push(`${id}.${t}.staffed ${b.staffed} != ${f.staffed}`);
    }
    if (r.ed && (!h.ed || h.ed.status !== r.ed.status || (h.ed.reason || null) !== (r.ed.reason || null))) {
      diffs.push(`${id}.ed ${JSON.stringify(h.ed)} != ${JSON.stringify(r.ed)}`);
    }
  }
  return diffs;
}

// A dashboard that stays: when its socket closes (a server killed, a
// proxy cut), it reconnects after a jittered pause to one of `ports()` and
// resumes from the last offset it applied. It keeps gap and duplicate
// counts across connections (LiveClient's), every welcome, and the last
// {"type":"status"} the server sent.
class Dashboard extends LiveClient {
  // keep: false drops the messages and events LiveClient keeps (for long
  // runs); the state, offset and counts stay.
  constructor(ports, { jitterMs = 500, index = 0, keep = true } = {}) {
    const list = typeof ports === 'function' ? ports : () => ports;
    // an upgrade that is never answered is retried, not waited for forever
    super(`ws://127.0.0.1:${list()[index % list().length]}/ws`, { handshakeTimeout: 10000 });
    this.ports = list;
    this.index = index;
    this.jitterMs = jitterMs;
    this.keep = keep;
    this.welcomes = [];
    this.reconnects = 0;
    this.closes = [];
    this.status = null;
    this.stopped = false;
  }

  async start() {
    await this.open({ type: 'hello' });
    return this;
  }

  async open(hello) {
    this.attempts = 0;
    for (let attempt = 0; !this.stopped; attempt++) {
      const ports = this.ports();
      this.url = `ws://127.0.0.1:${ports[(this.index + attempt) % ports.length]}/ws`;
      this.attempts++;
      try {
        await this.connect(hello);
        this.ws.on('close', (code) => this.onClose(code));
        return;
      } catch (e) {
        this.lastError = e.message;
        await sleep(Math.floor(Math.random() * this.jitterMs) + 50);
      }
    }
  }

  onClose(code) {
    this.closes.push(code);
    if (this.stopped) return;
    this.reconnects++;
    this.status = null;
    this.openedAgain = (async () => {
      await sleep(Math.floor(Math.random() * this.jitterMs));
      await this.open(this.epoch ? this.resumeHello() : { type: 'hello' });
    })();
  }

  onMessage(m) {
    super.onMessage(m);
    if (m.type === 'welcome') this.welcomes.push(m);
    if (m.type === 'status') this.status = m;
    this.lastHeard = Date.now();
    if (!this.keep) {
      this.messages.length = 0;
      this.events.length = 0;
      this.received.length = 0;
      if (m.type === 'snapshot') this.snapshot = true; // its content is in the maps
    }
  }

  get connected() {
    return !!this.ws && this.ws.readyState === 1;
  }

  close() {
    this.stopped = true;
    super.close();
  }
}

// Waits until every dashboard is at Redis's offset, then compares each
// with Redis. Returns { offset, ms, diffs: [first few], bad }. Reads Redis
// without blocking this thread (a proxy in it must keep forwarding).
async function converge(clients, redisPort, hospitalIds, { timeout = 30000, prefix = 'bp:' } = {}) {
  const t0 = Date.now();
  const offset = async () => Number((await cliAsync(redisPort, 'GET', `${prefix}offset`)).trim() || 0);
  const target = await offset();
  await waitFor(() => clients.every((c) => c.offset >= target), {
    timeout, interval: 50,
    what: `every dashboard at offset ${target} (behind: ${clients.filter((c) => c.offset < target).length})`,
  });
  const ms = Date.now() - t0;
  const stored = await readHospitals(redisPort, hospitalIds, prefix, cliAsync);
  // the comparison holds only for a Redis that did not move meanwhile
  if (await offset() !== target) throw new Error('Redis changed during the comparison: stop the senders first');
  let bad = 0;
  const diffs = [];
  for (const c of clients) {
    const d = compareDashboard(c, stored);
    if (d.length) {
      bad++;
      if (diffs.length < 5) diffs.push(...d.slice(0, 3));
    }
  }
  return { offset: target, ms, bad, diffs };
}

// The sum of one counter (Sender.st) over senders.
function total(senders, key) {
  return senders.reduce((n, s) => n + s.st[key], 0);
}

// Starts n dashboards on `ports` (pushed into `boards`, so that the case's
// end closes them whatever happens) and waits until each holds a snapshot.
async function startDashboards(boards, n, ports, opts = {}) {
  const mine = [];
  for (let i = 0; i < n; i++) mine.push(new Dashboard(ports, { ...opts, index: boards.length + i }));
  boards.push(...mine);
  await Promise.all(mine.map((b) => b.start()));
  await waitFor(() => mine.every((b) => b.snapshot), { timeout: 30000, interval: 20, what: 'every dashboard has a snapshot' });
}

// What a case ends with, its senders stopped: every acknowledged line in
// the stream exactly once and every line acknowledged, every dashboard
// equal to Redis, with no gap and no duplicate. Returns the stream check,
// the convergence and the dashboards' gaps and duplicates (for figures).
async function checkEnd(stack, senders, boards, ids) {
  const check = checkStream(readStream(stack.redisPort), senders);
  assert.deepEqual(check.problems.slice(0, 10), [], `${check.problems.length} problems in the stream`);
  assert.equal(check.acked, check.lines, 'every line acknowledged in the end');
  const conv = await converge(boards, stack.redisPort, ids);
  assert.equal(conv.bad, 0, `dashboards differ from Redis: ${conv.diffs.join('; ')}`);
  const gaps = boards.reduce((n, b) => n + b.gaps, 0);
  const dups = boards.reduce((n, b) => n + b.duplicates, 0);
  assert.equal(gaps, 0, 'gaps on dashboards');
  assert.equal(dups, 0, 'duplicates on dashboards');
  return { check, conv, gaps, dups };
}

// The end of every case: its senders stopped, its dashboards closed, the
// stack stopped, and nothing wrong seen by it (sanitizer reports,
// unexpected exits).
async function endCase(stack, senders, boards) {
  for (const s of senders) if (s && !s.halt) await s.stop(1000);
  for (const b of boards) b.close();
  await stack.stop({ keep: true });
  assert.deepEqual(stack.problems(), []);
  await stack.stop();
}

// Redis refuses writes to one key only: the default user (every BedPulse
// connection of a test stack) may read every key and write every key but
// `key` (an ACL of key patterns: each prefix of `key` followed by any other
// character, the proper prefixes themselves, and `key` with more after
// it). redis(...args) runs one command (stack.redis). allowAllKeys undoes
// it.
function refuseWritesTo(redis, key) {
  const pats = [];
  for (let i = 0; i < key.length; i++) {
    if (i) pats.push(`~${key.slice(0, i)}`);
    pats.push(`~${key.slice(0, i)}[^${key[i]}]*`);
  }
  pats.push(`~${key}?*`);
  redis('ACL', 'SETUSER', 'default', 'resetkeys', '%R~*', ...pats);
}
const allowAllKeys = (redis) => redis('ACL', 'SETUSER', 'default', 'allkeys');

module.exports = {
  refuseWritesTo, allowAllKeys,
  Sender, Dashboard, checkStream, compareDashboard, converge, readStream, readHospitals, rssKiB, asanOptions, summary, cli, cliAsync,
  total, startDashboards, checkEnd, endCase,
};
