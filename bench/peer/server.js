#!/usr/bin/env node
'use strict';
const path = require('node:path');
// The benchmark peer (DESIGN §9): what a team would otherwise write for
// bp-server's live feed in Node.js, with `ws` and `ioredis`, written to be
// fast: one JSON.stringify per stream batch, one Buffer sent to every client
// (ws frames it, nothing is re-encoded per client), no permessage-deflate,
// slow clients skipped at a bufferedAmount bound instead of buffered without
// end, a snapshot serialized once per offset and shared.
//
// It speaks the subset of docs/protocol.md §2 the load generator uses:
// /ws with subprotocol bedpulse.v1, hello → welcome → snapshot (or resume
// from an in-memory window) → events, ticks; plus GET /healthz and
// GET /stats. State comes from the same Redis keys as bp-server
// (docs/redis.md): one MULTI load, then XREAD BLOCK on a dedicated
// connection, offsets checked for gaps, epoch checked once a second.
// See README.md next to this file for what it leaves out.
//
// Usage: node bench/peer/server.js [--port 8081] [--host 127.0.0.1]
//        [--redis 127.0.0.1:6379] [--prefix bp:] [--max-buffered BYTES]
//        [--ring EVENTS] [--tick-interval S]

const http = require('node:http');
const crypto = require('node:crypto');
const { WebSocketServer } = require('ws');
const Redis = require('ioredis');

// -- options -----------------------------------------------------------------

function parseArgs(argv) {
  const o = {
    port: 8081,
    host: '127.0.0.1',
    redis: '127.0.0.1:6379',
    prefix: 'bp:',
    maxBuffered: 4 << 20, // bytes queued in a client's socket before it is skipped
    ring: 4096, // events kept for resumes (server.ring_events)
    tickInterval: 10, // s (server.tick_interval_s)
    helloTimeout: 10, // s (server.hello_timeout_s)
    pingInterval: 20, // s (server.ping_interval_s)
  };
  const num = (k, v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`bad value "${v}" for --${k}`);
    return n;
  };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    const v = argv[i + 1];
    if (k === 'help' || k === 'h') {
      console.log('usage: node bench/peer/server.js [--port P] [--host H] [--redis HOST:PORT] [--prefix bp:] ' +
        '[--max-buffered BYTES] [--ring EVENTS] [--tick-interval S]');
      process.exit(0);
    }
    if (v === undefined) throw new Error(`--${k} needs a value`);
    switch (k) {
      case 'port': o.port = num(k, v); break;
      case 'host': o.host = v; break;
      case 'redis': o.redis = v; break;
      case 'prefix': o.prefix = v; break;
      case 'max-buffered': o.maxBuffered = num(k, v); break;
      case 'ring': o.ring = Math.max(1, num(k, v) | 0); break;
      case 'tick-interval': o.tickInterval = num(k, v); break;
      default: throw new Error(`unknown argument --${k}`);
    }
  }
  const m = /^(.*):(\d+)$/.exec(o.redis);
  if (!m) throw new Error(`--redis wants HOST:PORT, got "${o.redis}"`);
  o.redisHost = m[1];
  o.redisPort = Number(m[2]);
  return o;
}

let opt;
try {
  opt = parseArgs(process.argv);
} catch (e) {
  console.error(`peer: ${e.message}`);
  process.exit(2);
}

const KEYS = {
  epoch: `${opt.prefix}epoch`,
  offset: `${opt.prefix}offset`,
  stream: `${opt.prefix}stream`,
  hospital: `${opt.prefix}h:`, // + id: one hash per entity (docs/redis.md)
  ambulance: `${opt.prefix}a:`,
};
const FMS = { available_station: 2, available_radio: 1, dispatched: 3, on_scene: 4, transporting: 7,
  at_hospital: 8, out_of_service: 6 };

const log = (...a) => console.log(new Date().toISOString(), 'peer:', ...a);

// -- conversions: stored (times in ms) → client JSON (ISO, derived figures) --

const iso = (ms) => (ms > 0 ? new Date(ms).toISOString() : null);

function bedsOut(beds) {
  const out = {};
  for (const t in beds) {
    const b = beds[t];
    const s = b.staffed ?? null;
    const o = b.occupied ?? null;
    out[t] = {
      staffed: s, occupied: o, surge24: b.surge24 ?? null,
      available: s === null || o === null ? null : Math.max(s - o, 0),
      overflow: s === null || o === null ? null : Math.max(o - s, 0),
    };
  }
  return out;
}

function edOut(ed) {
  return { status: ed.status, reason: ed.reason ?? '', until: iso(ed.until ?? 0), waiting: ed.waiting ?? null };
}

// An event's data (what changed) or a whole entity, as clients see it.
function dataOut(kind, d) {
  const out = { version: d.version, at: iso(d.at), updated: iso(d.updated), source: d.source };
  if (kind === 'hospital') {
    if (d.beds) out.beds = bedsOut(d.beds);
    if (d.ed) out.ed = edOut(d.ed);
  } else {
    for (const f in d) {
      if (f === 'version' || f === 'at' || f === 'updated' || f === 'source') continue;
      // "" clears destination / incident; clients read null
      out[f] = (f === 'destination' || f === 'incident') && d[f] === '' ? null : d[f];
      if (f === 'status') out.fms = FMS[d[f]] ?? null;
    }
  }
  return out;
}

// -- state -------------------------------------------------------------------

const st = {
  ready: false,
  epoch: '',
  offset: 0,
  hospitals: new Map(), // id → stored object
  ambulances: new Map(),
  ring: [], // [{offset, json}] oldest first, at most opt.ring
  snapshot: null, // {epoch, offset, buf}
};

const stats = {
  clients: 0, connections: 0, batches: 0, events_in: 0, frames: 0, bytes: 0, event_deliveries: 0,
  skipped: 0, snapshots_built: 0, snapshots_sent: 0, resumes: 0, reloads: 0, ticks: 0,
  closed_hello: 0, closed_protocol: 0,
};

function applyStored(kind, id, d) {
  const map = kind === 'hospital' ? st.hospitals : st.ambulances;
  let cur = map.get(id);
  if (!cur) {
    cur = kind === 'hospital' ? { version: 0, at: 0, updated: 0, source: '', beds: {}, ed: { status: 'normal' } }
      : { version: 0, at: 0, updated: 0, source: '', status: 'available_station' };
    map.set(id, cur);
  }
  if (kind === 'hospital') {
    if (d.beds) for (const t in d.beds) cur.beds[t] = d.beds[t]; // merged bed type, whole
    if (d.ed) cur.ed = d.ed;
    cur.version = d.version;
    cur.at = d.at;
    cur.updated = d.updated;
    cur.source = d.source;
  } else {
    Object.assign(cur, d);
  }
}

function snapshotBuf() {
  const s = st.snapshot;
  if (s && s.epoch === st.epoch && s.offset === st.offset) return s.buf;
  const hospitals = [];
  for (const [id, h] of st.hospitals) hospitals.push({ id, ...dataOut('hospital', h) });
  const ambulances = [];
  for (const [id, a] of st.ambulances) ambulances.push({ id, ...dataOut('ambulance', a) });
  const buf = Buffer.from(JSON.stringify({ type: 'snapshot', epoch: st.epoch, offset: st.offset,
    now: new Date().toISOString(), hospitals, ambulances }));
  st.snapshot = { epoch: st.epoch, offset: st.offset, buf };
  stats.snapshots_built++;
  return buf;
}

// -- Redis ---------------------------------------------------------------------

const redisOpts = { host: opt.redisHost, port: opt.redisPort, maxRetriesPerRequest: null, enableReadyCheck: true };
const cmd = new Redis(redisOpts);
const block = new Redis(redisOpts); // XREAD BLOCK only
cmd.on('error', (e) => log('redis cmd:', e.message));
block.on('error', (e) => log('redis block:', e.message));

let loading = null;
let wasReady = false;

// The entity ids come from the registry, like bp-server's.
const REGISTRY = {
  hospitals: require(path.join(__dirname, '..', '..', 'config', 'hospitals.json')).hospitals.map((h) => h.id),
  ambulances: require(path.join(__dirname, '..', '..', 'config', 'fleet.json')).ambulances.map((a) => a.id),
};

// A stored entity hash into the shape of the stream's event data.
function fromHash(kind, f) {
  const d = { version: Number(f.v), at: Number(f.at), updated: Number(f.up), source: f.src };
  if (kind === 'hospital') {
    const names = { s: 'staffed', o: 'occupied', g: 'surge24' };
    d.beds = {};
    for (const k in f) {
      const m = /^([a-z_]+)\.([sog])$/.exec(k);
      if (m) (d.beds[m[1]] = d.beds[m[1]] || {})[names[m[2]]] = Number(f[k]);
    }
    if (f.ed !== undefined) d.ed = JSON.parse(f.ed);
  } else {
    if (f.status !== undefined) d.status = f.status;
    for (const k of ['lat', 'lon', 'heading', 'speed']) if (f[k] !== undefined) d[k] = Number(f[k]);
    if (f.dest !== undefined) d.destination = f.dest;
    if (f.inc !== undefined) d.incident = f.inc;
  }
  return d;
}

// One atomic read of everything (docs/redis.md "Reading").
async function load(reason) {
  if (loading) return loading;
  loading = (async () => {
    const candidate = crypto.randomBytes(16).toString('hex');
    const m = cmd.multi().set(KEYS.epoch, candidate, 'NX').get(KEYS.epoch).get(KEYS.offset);
    for (const id of REGISTRY.hospitals) m.hgetall(KEYS.hospital + id);
    for (const id of REGISTRY.ambulances) m.hgetall(KEYS.ambulance + id);
    const r = await m.exec();
    for (const [err] of r) if (err) throw err;
    const oldEpoch = st.epoch;
    st.epoch = r[1][1];
    st.offset = Number(r[2][1] || 0);
    st.hospitals.clear();
    st.ambulances.clear();
    const nh = REGISTRY.hospitals.length;
    REGISTRY.hospitals.forEach((id, i) => {
      const f = r[3 + i][1];
      if (f && f.v !== undefined) applyStored('hospital', id, fromHash('hospital', f));
    });
    REGISTRY.ambulances.forEach((id, i) => {
      const f = r[3 + nh + i][1];
      if (f && f.v !== undefined) applyStored('ambulance', id, fromHash('ambulance', f));
    });
    st.ring = [];
    st.snapshot = null;
    st.ready = true;
    stats.reloads++;
    log(`state loaded at epoch ${st.epoch} offset ${st.offset} (${reason})`);
    // Clients on another epoch or behind a gap take a fresh snapshot.
    if (wasReady) {
      for (const c of clients) {
        if (c.state === 'active') sendSnapshot(c, oldEpoch !== st.epoch ? 'epoch' : 'reload');
      }
    }
    wasReady = true;
  })().finally(() => {
    loading = null;
  });
  return loading;
}

// Follows the stream: one events message per XREAD batch.
async function follow() {
  for (;;) {
    try {
      if (!st.ready) await load('start');
      const from = st.offset;
      const epochAtRead = st.epoch;
      const res = await block.xread('COUNT', 1000, 'BLOCK', 5000, 'STREAMS', KEYS.stream, `${from}-0`);
      if (!res || st.epoch !== epochAtRead || st.offset !== from) continue; // timeout, or reloaded meanwhile
      const entries = res[0][1];
      const parts = [];
      let gap = false;
      for (const [id, fields] of entries) {
        const offset = parseInt(id, 10);
        if (offset <= st.offset) continue;
        if (offset !== st.offset + 1) {
          gap = true;
          break;
        }
        let k, i, d;
        for (let j = 0; j + 1 < fields.length; j += 2) {
          if (fields[j] === 'k') k = fields[j + 1];
          else if (fields[j] === 'i') i = fields[j + 1];
          else if (fields[j] === 'd') d = fields[j + 1];
        }
        const data = JSON.parse(d);
        applyStored(k, i, data);
        st.offset = offset;
        const json = JSON.stringify({ offset, kind: k, id: i, data: dataOut(k, data) });
        parts.push(json);
        st.ring.push({ offset, json });
        stats.events_in++;
      }
      if (st.ring.length > opt.ring) st.ring.splice(0, st.ring.length - opt.ring);
      if (parts.length) broadcast(parts);
      if (gap) {
        log(`stream jumped after ${st.offset}; reloading`);
        await load('gap');
      }
    } catch (e) {
      log('follow:', e.message);
      await new Promise((r) => setTimeout(r, 200));
      st.ready = false;
    }
  }
}

cmd.on('ready', () => {
  if (wasReady) load('reconnect').catch((e) => log('reload:', e.message));
});

setInterval(async () => {
  if (!st.ready || loading) return;
  try {
    const e = await cmd.get(KEYS.epoch);
    if (e !== st.epoch && !loading) {
      log(`epoch changed (${st.epoch} -> ${e}); reloading`);
      await load('epoch');
    }
  } catch (e) {
    log('epoch check:', e.message);
  }
}, 1000).unref();

// -- clients --------------------------------------------------------------------

const clients = new Set();
let lastBroadcastMs = 0;

function send(c, data) {
  // text frame from a ready Buffer: ws frames it, nothing is encoded again
  c.ws.send(data, { binary: false });
  stats.frames++;
  stats.bytes += data.length;
}

function sendSnapshot(c, reason) {
  const buf = snapshotBuf();
  send(c, Buffer.from(`{"type":"welcome","mode":"snapshot","reason":"${reason}","epoch":${JSON.stringify(st.epoch)},"offset":${st.offset}}`));
  send(c, buf);
  c.state = 'active';
  c.lagging = false;
  stats.snapshots_sent++;
}

function broadcast(parts) {
  const buf = Buffer.from(`{"type":"events","epoch":${JSON.stringify(st.epoch)},"events":[${parts.join(',')}]}`);
  stats.batches++;
  lastBroadcastMs = Date.now();
  for (const c of clients) {
    if (c.state !== 'active') continue;
    if (c.ws.bufferedAmount > opt.maxBuffered) {
      // Too slow: skip it; when it has drained it takes a fresh snapshot.
      stats.skipped++;
      c.lagging = true;
      continue;
    }
    if (c.lagging) {
      sendSnapshot(c, 'lagging');
      continue;
    }
    send(c, buf);
    stats.event_deliveries += parts.length;
  }
}

function onHello(c, msg) {
  if (!st.ready) {
    c.state = 'wait';
    c.pendingHello = msg;
    return;
  }
  const r = msg.resume;
  if (r && r.epoch === st.epoch && r.offset <= st.offset &&
      (r.offset === st.offset || (st.ring.length && st.ring[0].offset <= r.offset + 1))) {
    send(c, Buffer.from(`{"type":"welcome","mode":"resume","via":"window","epoch":${JSON.stringify(st.epoch)},"offset":${r.offset}}`));
    if (r.offset < st.offset) {
      const from = st.ring.length - (st.offset - r.offset);
      const parts = st.ring.slice(from).map((e) => e.json);
      send(c, Buffer.from(`{"type":"events","epoch":${JSON.stringify(st.epoch)},"events":[${parts.join(',')}]}`));
      stats.event_deliveries += parts.length;
    }
    c.state = 'active';
    stats.resumes++;
    return;
  }
  const reason = !r ? 'new' : r.epoch !== st.epoch ? 'epoch' : r.offset > st.offset ? 'ahead' : 'too_old';
  sendSnapshot(c, reason);
}

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: 64 * 1024,
  clientTracking: false,
  handleProtocols: (protocols) => (protocols.has('bedpulse.v1') ? 'bedpulse.v1' : false),
});

wss.on('connection', (ws) => {
  const c = { ws, state: 'hello', lagging: false, since: Date.now(), alive: true, pendingHello: null };
  clients.add(c);
  stats.clients = clients.size;
  stats.connections++;
  ws.on('pong', () => {
    c.alive = true;
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      stats.closed_protocol++;
      ws.close(1003, 'text only');
      return;
    }
    if (data.length > 1024) {
      stats.closed_protocol++;
      ws.close(4009, 'message too big');
      return;
    }
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      msg = null;
    }
    if (!msg || msg.type !== 'hello') {
      stats.closed_protocol++;
      ws.close(4002, 'bad hello');
      return;
    }
    onHello(c, msg);
  });
  ws.on('close', () => {
    clients.delete(c);
    stats.clients = clients.size;
  });
  ws.on('error', () => {});
});

// GET /api/v1/public (issue 14), written to be fast as bp-server's is: the
// document serialised at most every 5 s into one Buffer with its ETag,
// If-None-Match answered 304, Cache-Control public, max-age=5. The same
// fields per hospital (registry facts, ED state with a category, free beds
// by type, last report), without the city and district totals.
const REG_FULL = require(path.join(__dirname, '..', '..', 'config', 'hospitals.json')).hospitals;
const ED_STATE = { normal: 'accepting', advisory: 'busy', diversion: 'diverting', closed: 'closed' };
let pub = null; // {at, buf, etag}
function publicDoc() {
  const now = Date.now();
  if (pub && now - pub.at < 5000) return pub;
  const hospitals = REG_FULL.map((r) => {
    const h = st.hospitals.get(r.id);
    const beds = {};
    for (const t in r.beds) {
      const b = h && h.beds[t];
      const staffed = b && b.staffed !== undefined ? b.staffed : r.beds[t].staffed;
      beds[t] = { free: b && b.occupied !== undefined ? Math.max(staffed - b.occupied, 0) : null, staffed };
    }
    const state = h && h.updated ? ED_STATE[h.ed.status] || null : null;
    return { id: r.id, name: r.name, tier: r.tier, district: r.district, lat: r.lat, lon: r.lon, phone: r.phone || '',
      ed: { state, reason: state && state !== 'accepting' ? 'other' : null }, beds, updated: iso(h ? h.updated : 0) };
  });
  const buf = Buffer.from(JSON.stringify({ generated: new Date(now).toISOString(), hospitals }));
  pub = { at: now, buf, etag: `"${crypto.createHash('sha1').update(buf).digest('hex').slice(0, 16)}"` };
  return pub;
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (req.method === 'GET' && path === '/api/v1/public') {
    const d = publicDoc();
    const headers = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=5', etag: d.etag };
    if (req.headers['if-none-match'] === d.etag) {
      res.writeHead(304, headers);
      res.end();
    } else {
      headers['content-length'] = d.buf.length;
      res.writeHead(200, headers);
      res.end(d.buf);
    }
  } else if (req.method === 'GET' && path === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end('{"ok":true}');
  } else if (req.method === 'GET' && path === '/readyz') {
    res.writeHead(st.ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ ready: st.ready, epoch: st.epoch, offset: st.offset, clients: clients.size }));
  } else if (req.method === 'GET' && path === '/stats') {
    const u = process.cpuUsage();
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ ...stats, offset: st.offset, cpu_s: (u.user + u.system) / 1e6,
      rss: process.memoryUsage().rss }));
  } else {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not_found","message":"no such resource"}');
  }
});

server.on('upgrade', (req, socket, head) => {
  const path = req.url.split('?')[0];
  const offered = String(req.headers['sec-websocket-protocol'] || '').split(',').map((s) => s.trim());
  if (path !== '/ws' || !offered.includes('bedpulse.v1')) {
    socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

// Housekeeping: clients waiting for the first load, hello timeouts, ticks,
// pings (a client that missed a whole ping interval is dropped).
let lastPingMs = Date.now();
setInterval(() => {
  const now = Date.now();
  const tick = st.ready && now - lastBroadcastMs >= opt.tickInterval * 1000;
  const tickBuf = tick ? Buffer.from(`{"type":"tick","epoch":${JSON.stringify(st.epoch)},"offset":${st.offset},"now":"${new Date(now).toISOString()}"}`) : null;
  if (tick) lastBroadcastMs = now;
  const ping = now - lastPingMs >= opt.pingInterval * 1000;
  if (ping) lastPingMs = now;
  for (const c of clients) {
    if (c.state === 'wait' && st.ready) onHello(c, c.pendingHello);
    if (c.state === 'hello' && now - c.since > opt.helloTimeout * 1000) {
      stats.closed_hello++;
      c.ws.close(4001, 'hello expected');
      continue;
    }
    if (tickBuf && c.state === 'active' && c.ws.bufferedAmount <= opt.maxBuffered) {
      send(c, tickBuf);
      stats.ticks++;
    }
    if (ping) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }
}, 1000).unref();

server.listen(opt.port, opt.host, () => {
  log(`listening on http://${opt.host}:${opt.port}/ (redis ${opt.redis}, prefix ${opt.prefix})`);
  follow();
});

function stop(sig) {
  log(`${sig}: stopping`, JSON.stringify(stats));
  for (const c of clients) c.ws.terminate();
  server.close();
  cmd.disconnect();
  block.disconnect();
  process.exit(0);
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
