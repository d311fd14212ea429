// The polite ARIA live region: tells a screen-reader user when an ED starts
// or ends a diversion (or closes), when a hospital's pressure level changes,
// when a 115 incident is opened (dispatchers), and when the connection
// changes.
//
// Rate-limited: messages queue (at most MAX_QUEUE; the least important
// are dropped and counted) and the region is rewritten at most once per
// INTERVAL_MS with up to PER_MESSAGE of them, the most important and newest
// first (an ED starting to divert before a level change), plus "and N more
// changes"; so a burst of a hundred events a second reads as one sentence
// every few seconds, not a flood. A snapshot (first load, reconnect with a
// fresh state) sets the baseline silently, and a hospital's first report is
// not a level "change".
//
// What was said is cleared after CLEAR_MS, and at once when the language
// changes (with what was queued in the old one): the region is part of the
// page a screen reader can walk to, and must not keep old news in the
// other language.

import { t, pick } from '../i18n.js';
import { hospitalFigures } from '../derive.js';

const INTERVAL_MS = 3000;
const MAX_QUEUE = 20;
const PER_MESSAGE = 3;
const CLEAR_MS = 15000;

// Importance of a message.
export const URGENT = 3; // connection, an ED diverting or closing
export const NOTABLE = 2; // an ED open again, a level rising to 3 or 4
export const INFO = 1; // other level changes

export class Announcer {
  constructor(region, feed) {
    this.region = region;
    this.feed = feed;
    this.known = new Map(); // hospital id -> {level, ed}
    this.incidents = new Set(); // open incident ids already known
    this.queue = []; // {msg, pri, n}
    this.n = 0;
    this.dropped = 0;
    this.lastSaid = 0;
    this.timer = 0;
    this.clearTimer = 0;
    this.said = 0; // how many times the region was written (tests read it)
  }

  // Queues a message (already in the current language).
  say(msg, pri = URGENT) {
    this.queue.push({ msg, pri, n: this.n++ });
    // most important, then newest, first
    this.queue.sort((a, b) => b.pri - a.pri || b.n - a.n);
    if (this.queue.length > MAX_QUEUE) {
      this.queue.pop();
      this.dropped++;
    }
    this.schedule();
  }

  schedule() {
    if (this.timer) return;
    const wait = Math.max(0, this.lastSaid + INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  flush() {
    this.timer = 0;
    if (!this.queue.length) return;
    const now = this.queue.splice(0, PER_MESSAGE);
    const more = this.queue.length + this.dropped;
    this.queue.length = 0;
    this.dropped = 0;
    let s = now.map((x) => x.msg).join(' ');
    if (more > 0) s += ` ${t('announce.more', { n: more })}`;
    this.region.textContent = s;
    this.lastSaid = Date.now();
    this.said++;
    clearTimeout(this.clearTimer);
    this.clearTimer = setTimeout(() => this.clear(), CLEAR_MS);
  }

  // Empties the region and forgets what was queued.
  clear() {
    clearTimeout(this.clearTimer);
    this.clearTimer = 0;
    this.queue.length = 0;
    this.dropped = 0;
    if (this.region.textContent) this.region.textContent = '';
  }

  // Compares each hospital's level and ED status with what was last seen.
  // frame: {full, clock, hospitals: Set, now}
  observe(frame) {
    const feed = this.feed;
    if (frame.lang && !frame.full) this.clear();
    if (!feed.hasState) return;
    const cfg = feed.meta && feed.meta.pressure;
    const baseline = frame.full;
    this.observeIncidents(frame);
    // the clock can end a diversion (its `until` passed) without an event
    const ids = baseline || frame.clock ? feed.hospitals.keys() : frame.hospitals;
    for (const id of ids) {
      const h = feed.hospitals.get(id);
      if (!h) continue;
      const f = hospitalFigures(h, cfg, frame.now);
      const before = this.known.get(id);
      const never = f.freshness === 'never';
      this.known.set(id, { level: f.level, ed: f.ed, never });
      if (baseline || !before || never) continue;
      const name = pick(h.name) || id;
      if (before.ed !== f.ed) {
        if (f.ed === 'diversion' || f.ed === 'closed') {
          const reason = h.ed && h.ed.reason ? h.ed.reason : '';
          this.say(t(reason ? `announce.ed_${f.ed}_reason` : `announce.ed_${f.ed}`, { name, reason }), URGENT);
        } else if (before.ed === 'diversion' || before.ed === 'closed') {
          this.say(t('announce.ed_open', { name, status: t(`ed.${f.ed}`) }), NOTABLE);
        }
      }
      if (before.level !== f.level && !before.never) {
        const up = f.level > before.level;
        this.say(t(up ? 'announce.level_up' : 'announce.level_down', { name, n: f.level, label: t(`level.${f.level}`) }),
          up && f.level >= 3 ? NOTABLE : INFO);
      }
    }
  }

  // A new incident is news (priority 1 urgent); a snapshot is the baseline.
  observeIncidents(frame) {
    const feed = this.feed;
    if (frame.full) {
      this.incidents = new Set(feed.incidents.keys());
      return;
    }
    for (const id of frame.incidents || []) {
      const inc = feed.incidents.get(id);
      if (!inc) {
        this.incidents.delete(id);
      } else if (!this.incidents.has(id)) {
        this.incidents.add(id);
        this.say(t('announce.incident_new', { n: inc.priority, category: t(`cat.${inc.category}.long`) }),
          inc.priority === 1 ? URGENT : NOTABLE);
      }
    }
  }
}
