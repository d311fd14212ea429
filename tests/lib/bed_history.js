'use strict';
// Trend history per bed type, written in the stored format as a server
// sampling every hour would have stored it (docs/redis.md: sorted sets
// <prefix>hist:city and <prefix>hist:h:<id>, score = time, member
// "t,occupancy,occupied,staffed,icu,diversions,level4,reporting,level"
// then "|<bed type>:<staffed>:<occupied>:<surge24>" per bed type). Weeks of
// history cannot come through the feed in a test's time, so the tests of
// the outlook write it before the server starts; the server loads it, the
// outlook is computed from it.

const HOUR = 3600e3;

// Hanoi hour of day of time t (ms).
const hanoiHour = (t) => Math.floor(t / HOUR + 7) % 24;

// A daily pattern: `base` beds, `swing` more at 20:00 Hanoi time and as
// many fewer at 08:00, plus a deterministic small wobble.
function dailyBeds(t, base, swing) {
  const wobble = ((Math.floor(t / HOUR) * 7919) % 5) - 2; // -2 .. 2
  return Math.round(base + swing * Math.sin(((hanoiHour(t) - 14) / 24) * 2 * Math.PI) + wobble * 0.4);
}

// Writes `hours` hourly points ending `endMs` (excluded) into `key`, each
// with the bed types that beds(t) gives ({type: {staffed, occupied}}).
function seedBeds(stack, key, { endMs, hours, beds }) {
  const args = [];
  for (let k = hours; k >= 1; k--) {
    const t = endMs - k * HOUR;
    const b = beds(t);
    let staffed = 0;
    let occupied = 0;
    for (const [type, v] of Object.entries(b)) {
      if (type === 'emergency' || type === 'operating_room') continue;
      staffed += v.staffed;
      occupied += v.occupied;
    }
    const pct = staffed ? ((100 * occupied) / staffed).toFixed(1) : '-1';
    const icu = b.icu_adult ? Math.max(0, b.icu_adult.staffed - b.icu_adult.occupied) : -1;
    const types = Object.entries(b).map(([type, v]) => `|${type}:${v.staffed}:${v.occupied}:-1`).join('');
    args.push(String(t), `${t},${pct},${occupied},${staffed},${icu},0,0,1,1${types}`);
  }
  stack.redis('ZADD', key, ...args);
}

module.exports = { HOUR, hanoiHour, dailyBeds, seedBeds };
