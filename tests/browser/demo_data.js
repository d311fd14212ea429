'use strict';
// Demo feed lines for the browser tests and their screenshots: a realistic
// Hanoi morning, deterministic (seeded), built from the live registry.

// Deterministic pseudo-random numbers for the demo data (mulberry32).
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Hospitals the test steps use on their own: the demo data leaves them alone.
const RESERVED = new Set(['bach-mai', 'viet-duc', 'nhi-trung-uong', 'benh-vien-k', 'phu-san-trung-uong']);

// A realistic burst: most hospitals report (some over 100%), a few EDs on
// advisory/diversion/closed, some reports late or stale, several hospitals
// never report; ambulances on missions. Returns the feed lines.
function demoLines(hospitals, fleet, nextSeq) {
  const r = rng(20261122);
  const now = Date.now();
  const lines = [];
  const reasons = [
    'Hết giường hồi sức tích cực', 'Quá tải khoa cấp cứu', 'Sự cố hệ thống oxy y tế',
    'Hết máy thở', 'Đang xử lý tai nạn hàng loạt',
  ];
  hospitals.forEach((h, i) => {
    if (RESERVED.has(h.id) || i % 11 === 7) return; // some never report
    const iv = h.report_interval_s * 1000;
    // most on time; some late, a few stale
    let age = r() * iv * 0.8;
    if (i % 13 === 5) age = iv * 1.4;
    if (i % 17 === 3) age = iv * 2.6;
    const at = new Date(now - age).toISOString();
    const load = h.tier === 'central' ? 0.82 + r() * 0.3 : h.tier === 'private' ? 0.45 + r() * 0.35 : 0.6 + r() * 0.35;
    const b = {};
    for (const [type, x] of Object.entries(h.beds)) {
      if (x.staffed === null) continue;
      const f = Math.max(0, load + (r() - 0.5) * 0.25);
      b[type] = { occupied: Math.round(x.staffed * f) };
    }
    const line = { beds: b };
    const e = r();
    if (e < 0.06) line.ed = { status: 'closed', reason: reasons[2 + Math.floor(r() * 3)], until: new Date(now + 3 * 3600e3).toISOString() };
    else if (e < 0.16) line.ed = { status: 'diversion', reason: reasons[Math.floor(r() * 2)], until: new Date(now + (1 + r() * 3) * 3600e3).toISOString(), waiting: Math.floor(r() * 30) };
    else if (e < 0.28) line.ed = { status: 'advisory', reason: reasons[1 + Math.floor(r() * 4)], waiting: Math.floor(r() * 20) };
    else line.ed = { status: 'normal', waiting: Math.floor(r() * 12) };
    lines.push(Object.assign({ type: 'beds', source: `demo-${h.id}`, seq: nextSeq(), at, hospital: h.id }, line));
  });
  const statuses = ['dispatched', 'on_scene', 'transporting', 'at_hospital', 'available_radio', 'out_of_service'];
  const central = hospitals.filter((h) => h.tier === 'central' || h.tier === 'city').map((h) => h.id);
  fleet.forEach((a, i) => {
    if (i % 3 !== 0 && i % 7 !== 1) return;
    const status = statuses[Math.floor(r() * statuses.length)];
    const line = {
      type: 'ambulance', source: 'avl-115', seq: nextSeq(), at: new Date(now - r() * 600e3).toISOString(), id: a.id, status,
      lat: 21.0 + r() * 0.08, lon: 105.78 + r() * 0.1, heading: Math.floor(r() * 360), speed: status === 'transporting' ? 35 : 0,
    };
    if (status === 'transporting' || status === 'at_hospital') line.destination = central[Math.floor(r() * central.length)];
    lines.push(line);
  });
  // ambulance lines must not go back in time per vehicle: one each, fine
  return lines;
}

// A day of trend history as a server sampling every `intervalS` would have
// stored it (docs/redis.md: sorted sets <prefix>hist:city and
// <prefix>hist:h:<id>, score = time, member "t,occupancy,occupied,staffed,
// icu_adult_available,diversions,level4,reporting,level"), with the servers
// down for `gapMin` minutes some hours ago. Write it before the server
// starts: the server loads it, the API serves it, the pages draw it.
// Returns {gapFromMs, gapToMs}.
function seedHistory(stack, hospitals, { hours = 24, intervalS = 300, gapMin = 45, gapHoursAgo = 9 } = {}) {
  const r = rng(424242);
  const iv = intervalS * 1000;
  const now = Date.now();
  const end = now - (now % iv);
  const gapTo = end - gapHoursAgo * 3600e3;
  const gapFrom = gapTo - gapMin * 60e3;
  const times = [];
  for (let t = end - hours * 3600e3; t <= end; t += iv) if (t < gapFrom || t >= gapTo) times.push(t);
  // the city: busy mornings, a quieter night (Hanoi time is UTC+7)
  const hourOf = (t) => (((t / 3600e3) + 7) % 24);
  const daily = (t) => Math.sin(((hourOf(t) - 4) / 24) * 2 * Math.PI);
  const staffedCity = hospitals.reduce((n, h) => n + Object.entries(h.beds)
    .filter(([k, b]) => k !== 'emergency' && k !== 'operating_room' && b.staffed).reduce((m, [, b]) => m + b.staffed, 0), 0);
  const city = [];
  for (const t of times) {
    const occ = 83 + 7 * daily(t) + (r() - 0.5) * 1.2;
    const occupied = Math.round((staffedCity * occ) / 100);
    const icu = Math.max(0, Math.round(120 - 45 * daily(t) + (r() - 0.5) * 8));
    city.push(t, `${t},${occ.toFixed(1)},${occupied},${staffedCity},${icu},${Math.round(6 + 5 * daily(t))},${Math.round(5 + 3 * daily(t))},${70 + Math.floor(r() * 10)},0`);
  }
  stack.redis('ZADD', `${stack.prefix}hist:city`, ...city);
  for (const h of hospitals) {
    const staffed = Object.entries(h.beds).filter(([k, b]) => k !== 'emergency' && k !== 'operating_room' && b.staffed)
      .reduce((m, [, b]) => m + b.staffed, 0);
    if (!staffed) continue;
    const base = h.tier === 'central' ? 97 : h.tier === 'private' ? 62 : 80;
    const phase = r() * 2;
    const pts = [];
    for (const t of times) {
      const occ = Math.max(20, base + 8 * Math.sin(((hourOf(t) - 4 + phase) / 24) * 2 * Math.PI) + (r() - 0.5) * 3);
      const level = occ >= 110 ? 4 : occ >= 95 ? 3 : occ >= 85 ? 2 : 1;
      const icu = h.beds.icu_adult && h.beds.icu_adult.staffed ? Math.max(0, Math.round(h.beds.icu_adult.staffed * (1 - occ / 105))) : -1;
      pts.push(t, `${t},${occ.toFixed(1)},${Math.round((staffed * occ) / 100)},${staffed},${icu},0,0,0,${level}`);
    }
    stack.redis('ZADD', `${stack.prefix}hist:h:${h.id}`, ...pts);
  }
  return { gapFromMs: gapFrom, gapToMs: gapTo };
}

module.exports = { demoLines, RESERVED, rng, seedHistory };
