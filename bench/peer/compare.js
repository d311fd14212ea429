#!/usr/bin/env node
'use strict';
// Checks that two live-feed servers (bp-server and the Node peer, or any two)
// tell one client the same story: each gets a hello, must answer welcome +
// snapshot, then events with consecutive offsets; after --seconds the
// events both delivered are compared offset by offset (deep-equal `data`),
// and the snapshots are compared for the entities both list when they are
// at the same offset. Also reports receive time minus `at` per server.
//
// Usage: node bench/peer/compare.js ws://127.0.0.1:18800/ws ws://127.0.0.1:18801/ws [--seconds 15]
// Exit status 0 when everything agrees, 1 otherwise.

const WebSocket = require('ws');

const urls = process.argv.slice(2).filter((a) => a.startsWith('ws'));
const si = process.argv.indexOf('--seconds');
const seconds = si > 0 ? Number(process.argv[si + 1]) : 15;
if (urls.length !== 2) {
  console.error('usage: node bench/peer/compare.js WS_URL_A WS_URL_B [--seconds S]');
  process.exit(2);
}

function watch(url) {
  const r = { url, welcome: null, snapshot: null, events: new Map(), order: [], problems: [], lat: [], frames: 0 };
  const ws = new WebSocket(url, 'bedpulse.v1', { perMessageDeflate: false });
  r.ws = ws;
  ws.on('open', () => ws.send(JSON.stringify({ type: 'hello' })));
  ws.on('error', (e) => r.problems.push(`socket error: ${e.message}`));
  ws.on('close', (code) => r.closed = code);
  ws.on('message', (data) => {
    const now = Date.now();
    const m = JSON.parse(data);
    r.frames++;
    if (!r.welcome) {
      if (m.type !== 'welcome') r.problems.push(`first message is ${m.type}, not welcome`);
      r.welcome = m;
      return;
    }
    if (!r.snapshot) {
      if (m.type !== 'snapshot') r.problems.push(`second message is ${m.type}, not snapshot`);
      if (m.offset !== r.welcome.offset) r.problems.push(`snapshot offset ${m.offset} != welcome ${r.welcome.offset}`);
      r.snapshot = m;
      r.last = m.offset;
      return;
    }
    if (m.type === 'tick') return;
    if (m.type !== 'events') {
      r.problems.push(`unexpected ${m.type}`);
      return;
    }
    for (const e of m.events) {
      if (e.offset <= r.last) continue;
      if (e.offset !== r.last + 1) r.problems.push(`gap: ${r.last} -> ${e.offset}`);
      r.last = e.offset;
      r.events.set(e.offset, e);
      r.order.push(e.offset);
      if (e.data && e.data.at) r.lat.push(now - Date.parse(e.data.at));
    }
  });
  return r;
}

function canon(v) {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = canon(v[k]);
    return o;
  }
  return v;
}
const same = (a, b) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));

function pct(xs, p) {
  if (!xs.length) return null;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

// What both snapshots must agree on for one hospital (registry facts and
// derived figures are bp-server's alone).
function view(h) {
  const ed = h.ed ? { ...h.ed } : undefined;
  if (ed) delete ed.effective;
  const { version, at, updated, source, beds } = h;
  return { version, at, updated, source, beds, ed };
}

// Compares the entities both snapshots list; ambulances on the fields B has.
function compareSnapshots(sa, sb) {
  let n = 0;
  let bad = 0;
  for (const kind of ['hospitals', 'ambulances']) {
    const byId = new Map((sa[kind] || []).map((x) => [x.id, x]));
    for (const y of sb[kind] || []) {
      const x = byId.get(y.id);
      if (!x) continue;
      n++;
      const vx = kind === 'hospitals' ? view(x) : Object.fromEntries(Object.keys(y).map((k) => [k, x[k]]));
      const vy = kind === 'hospitals' ? view(y) : y;
      if (!same(vx, vy) && bad++ < 3) {
        console.log(`snapshot ${kind} ${y.id} differs:\n  A ${JSON.stringify(vx)}\n  B ${JSON.stringify(vy)}`);
      }
    }
  }
  return { n, bad };
}

const a = watch(urls[0]);
const b = watch(urls[1]);
setTimeout(() => {
  a.ws.close();
  b.ws.close();
  let ok = true;
  for (const r of [a, b]) {
    console.log(`${r.url}: welcome ${r.welcome && r.welcome.mode}/${r.welcome && r.welcome.reason} at offset ` +
      `${r.welcome && r.welcome.offset}, snapshot ${r.snapshot ? `${r.snapshot.hospitals.length} hospitals` : 'none'}, ` +
      `${r.events.size} events in ${r.frames - 2} frames (offsets ${r.order[0]}..${r.order[r.order.length - 1]}), ` +
      `receive - at ms p50 ${pct(r.lat, 50)} p99 ${pct(r.lat, 99)} max ${pct(r.lat, 100)}`);
    for (const p of r.problems.slice(0, 5)) console.log(`  problem: ${p}`);
    if (r.problems.length || !r.snapshot) ok = false;
  }
  let common = 0;
  let differ = 0;
  for (const [off, ea] of a.events) {
    const eb = b.events.get(off);
    if (!eb) continue;
    common++;
    if (!same(ea, eb)) {
      if (differ++ < 3) console.log(`event ${off} differs:\n  A ${JSON.stringify(ea)}\n  B ${JSON.stringify(eb)}`);
    }
  }
  console.log(`events delivered by both: ${common}, differing: ${differ}`);
  if (!common || differ) ok = false;
  if (a.snapshot && b.snapshot && a.snapshot.offset === b.snapshot.offset) {
    const { n, bad } = compareSnapshots(a.snapshot, b.snapshot);
    console.log(`snapshots at the same offset ${a.snapshot.offset}: ${n} entities compared, ${bad} differ`);
    if (bad) ok = false;
  } else if (a.snapshot && b.snapshot) {
    console.log(`snapshots at different offsets (${a.snapshot.offset} vs ${b.snapshot.offset}): not compared`);
  }
  console.log(ok ? 'AGREE' : 'DISAGREE');
  process.exit(ok ? 0 : 1);
}, seconds * 1000);
