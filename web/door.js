// Who is at each hospital's door (docs/dispatch.md "Inbound and handover"):
// the ambulances inbound (transporting there) and waiting (at_hospital)
// counted live from the feed's store, by the server's own rule, so a unit
// shows as inbound the frame its status arrives; the handover median, the
// longest wait and the offload-delayed flag from GET /api/v1/handover,
// asked every INTERVAL_MS (they change with time, not with events).
// No DOM here.

import { fetchHandover } from './api.js';
import { doorCounts } from './derive.js';

const INTERVAL_MS = 15000;
const NONE = Object.freeze({ inbound: 0, waiting: 0 });

export class DoorFigures {
  // onChange(ids): the REST figures of these hospitals changed.
  constructor(feed, { onChange, intervalMs = INTERVAL_MS }) {
    this.feed = feed;
    this.onChange = onChange;
    this.intervalMs = intervalMs;
    this.counts = new Map();
    this.rest = new Map(); // hospital id -> the server's entry
    this.timer = 0;
  }

  // Asks the server now and every interval (dispatchers and admins only:
  // others are answered 403).
  start() {
    if (this.timer) return;
    this.timer = setInterval(() => this.load(), this.intervalMs);
    this.load();
  }

  async load() {
    const r = await fetchHandover();
    if (!r.ok || !Array.isArray(r.data.hospitals)) return;
    const next = new Map(r.data.hospitals.map((x) => [x.id, x]));
    const changed = new Set();
    for (const [id, x] of next) if (JSON.stringify(x) !== JSON.stringify(this.rest.get(id))) changed.add(id);
    for (const id of this.rest.keys()) if (!next.has(id)) changed.add(id);
    this.rest = next;
    if (changed.size) this.onChange(changed);
  }

  // Counts again from the store; returns the ids whose counts changed.
  recount() {
    const next = doorCounts(this.feed.ambulances.values());
    const changed = new Set();
    for (const [id, c] of next) {
      const o = this.counts.get(id);
      if (!o || o.inbound !== c.inbound || o.waiting !== c.waiting) changed.add(id);
    }
    for (const id of this.counts.keys()) if (!next.has(id)) changed.add(id);
    this.counts = next;
    return changed;
  }

  // {inbound, waiting, known (the server answered), longestWaitMin,
  // medianMin (null: no handover in the window), handovers, delayed, units}
  get(id) {
    const c = this.counts.get(id) || NONE;
    const r = this.rest.get(id);
    const num = (v) => (typeof v === 'number' ? v : null);
    return {
      inbound: c.inbound,
      waiting: c.waiting,
      known: !!r,
      longestWaitMin: r && c.waiting ? num(r.longest_wait_min) : null,
      medianMin: r ? num(r.median_min) : null,
      handovers: r && typeof r.handovers === 'number' ? r.handovers : 0,
      delayed: !!r && r.offload === 'delayed',
      // the ambulances on their way with their ETA (server; null: no position)
      units: r && Array.isArray(r.inbound_units) ? r.inbound_units : [],
    };
  }
}
